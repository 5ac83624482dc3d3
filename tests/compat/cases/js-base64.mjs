import { Base64 } from 'js-base64';
const s = 'Kiln ✓ 日本語 🙂';
const e = Base64.encode(s);
console.log(e, Base64.decode(e) === s, Base64.encodeURI(s), Base64.isValid(e), Array.from(Base64.toUint8Array('AAEC/w==')).join());
