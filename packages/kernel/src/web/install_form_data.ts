// Installs FormData (with Blob and File, which its entries hold) as globals, and FormData bodies
// in Request/Response, only for apps whose bundle names FormData or formData
// (packages/cli/src/build.ts OPTIONAL_GLOBALS).

import './install_blob.ts';
import { FormData } from './form_data.ts';

Object.defineProperty(globalThis, 'FormData', { value: FormData, writable: true, configurable: true, enumerable: false });
