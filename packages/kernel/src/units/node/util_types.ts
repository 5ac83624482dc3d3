// `node:util/types`: util.types (units/node/util.ts).
import { types } from './util.ts';

export const { isPromise, isRegExp, isDate, isMap, isSet, isArrayBuffer, isArrayBufferView, isTypedArray, isUint8Array, isNativeError, isAsyncFunction, isGeneratorFunction } = types;
export default types;
