// Guest program of tests/e2e/web_apis.test.ts: the WinterTC web APIs Kiln provides, each used as
// an app would, printing results that host Node must print identically.
const enc = new TextEncoder();
const hex = (b) => [...new Uint8Array(b)].map((x) => x.toString(16).padStart(2, '0')).join('');
const data = enc.encode('The quick brown fox jumps over the lazy dog');

for (const h of ['SHA-1', 'SHA-256', 'SHA-384', 'SHA-512']) console.log(h, hex(await crypto.subtle.digest(h, data)));
const hmacKey = await crypto.subtle.importKey('raw', enc.encode('key'), { name: 'HMAC', hash: 'SHA-256' }, true, ['sign', 'verify']);
const mac = await crypto.subtle.sign('HMAC', hmacKey, data);
console.log('HMAC', hex(mac), await crypto.subtle.verify('HMAC', hmacKey, mac, data), JSON.stringify(await crypto.subtle.exportKey('jwk', hmacKey)));
const pw = await crypto.subtle.importKey('raw', enc.encode('password'), 'PBKDF2', false, ['deriveBits', 'deriveKey']);
console.log('PBKDF2', hex(await crypto.subtle.deriveBits({ name: 'PBKDF2', hash: 'SHA-256', salt: enc.encode('salt'), iterations: 1000 }, pw, 256)));
const ikm = await crypto.subtle.importKey('raw', new Uint8Array(22).fill(11), 'HKDF', false, ['deriveBits']);
console.log('HKDF', hex(await crypto.subtle.deriveBits({ name: 'HKDF', hash: 'SHA-256', salt: new Uint8Array(13).map((_, i) => i), info: new Uint8Array(10).map((_, i) => 0xf0 + i) }, ikm, 336)));
const aes = await crypto.subtle.deriveKey({ name: 'PBKDF2', hash: 'SHA-256', salt: enc.encode('salt'), iterations: 10 }, pw, { name: 'AES-GCM', length: 256 }, true, ['encrypt', 'decrypt']);
const iv = new Uint8Array(12).fill(7);
const sealed = await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: enc.encode('hdr') }, aes, data);
console.log('AES-GCM', hex(sealed), new TextDecoder().decode(await crypto.subtle.decrypt({ name: 'AES-GCM', iv, additionalData: enc.encode('hdr') }, aes, sealed)));
await crypto.subtle.decrypt({ name: 'AES-GCM', iv }, aes, sealed).catch((e) => console.log('AES-GCM tampered:', e.name));
const edSeed = new Uint8Array(32).map((_, i) => i);
const edPkcs8 = new Uint8Array([0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20, ...edSeed]);
const ed = await crypto.subtle.importKey('pkcs8', edPkcs8, 'Ed25519', true, ['sign']);
const edJwk = await crypto.subtle.exportKey('jwk', ed);
const edPub = await crypto.subtle.importKey('jwk', { kty: 'OKP', crv: 'Ed25519', x: edJwk.x }, 'Ed25519', true, ['verify']);
const edSig = await crypto.subtle.sign('Ed25519', ed, data);
console.log('Ed25519', edJwk.x, hex(edSig), await crypto.subtle.verify('Ed25519', edPub, edSig, data));
const ec = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);
const ecSig = await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, ec.privateKey, data);
const spki = await crypto.subtle.exportKey('spki', ec.publicKey);
const ecPub = await crypto.subtle.importKey('spki', spki, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['verify']);
console.log('ECDSA', ecSig.byteLength, spki.byteLength, await crypto.subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, ecPub, ecSig, data), ec.privateKey.type, JSON.stringify(ec.publicKey.algorithm));
await crypto.subtle.digest('MD5', data).catch((e) => console.log('MD5:', e.name));
console.log('randomUUID', /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(crypto.randomUUID()));

console.log('btoa', btoa('Kiln \u00ff'), atob(' S2lsbiD/ '), (() => { try { atob('***'); } catch (e) { return `${e.name} ${e.code} ${e instanceof DOMException}`; } })());
const ex = new DOMException('gone', 'AbortError');
console.log('DOMException', ex.name, ex.code, ex.message, DOMException.ABORT_ERR, ex instanceof Error, Object.prototype.toString.call(ex));

const form = new FormData();
form.append('name', 'Ada');
form.append('doc', new Blob(['%PDF-1.7'], { type: 'application/pdf' }), 'doc.pdf');
form.append('file', new File(['x\ny'], 'notes.txt', { type: 'text/plain' }));
const req = new Request('http://localhost/upload', { method: 'POST', body: form });
const back = await req.formData();
console.log('FormData', [...back.keys()].join(','), back.get('name'), back.get('doc').name, back.get('doc').type, await back.get('doc').text(), JSON.stringify(await back.get('file').text()));
const blob = new Blob(['héllo', new Uint8Array([33])], { type: 'Text/Plain' });
console.log('Blob', blob.size, blob.type, await blob.slice(1, -1).text(), (await new Response(blob).blob()).type);

const upper = new TransformStream({ transform(chunk, c) { c.enqueue(chunk.toUpperCase()); } });
const piped = new ReadableStream({ start(c) { c.enqueue('ab'); c.enqueue('cd'); c.close(); } });
const w = upper.writable.getWriter();
(async () => { for await (const x of piped) await w.write(x); await w.close(); })();
let out = '';
for await (const x of upper.readable) out += x;
const decoded = new TextDecoderStream();
const dw = decoded.writable.getWriter();
dw.write(new Uint8Array([0xe2, 0x82])); dw.write(new Uint8Array([0xac])); dw.close();
let text = '';
for await (const s of decoded.readable) text += s;
console.log('Streams', out, text, new WritableStream().locked);

const target = new EventTarget();
target.addEventListener('ping', (e) => console.log('Event', e.type, e.detail, e instanceof Event, e.cancelable), { once: true });
console.log('dispatch', target.dispatchEvent(new CustomEvent('ping', { detail: 42, cancelable: true })), target.dispatchEvent(new CustomEvent('ping')));
const ac = new AbortController();
ac.signal.addEventListener('abort', () => console.log('AbortSignal', ac.signal.reason.name, ac.signal.aborted));
ac.abort();
const timed = AbortSignal.timeout(10);
const keepAlive = setTimeout(() => {}, 5000); // the timeout's timer alone does not keep the program running (Node: exit 13)
await new Promise((r) => timed.addEventListener('abort', r));
clearTimeout(keepAlive);
console.log('AbortSignal.timeout', timed.reason.name, AbortSignal.any([AbortSignal.abort('x')]).reason);
AbortSignal.timeout(60_000); // does not keep the program alive
const cyclic = { when: new Date(0), tags: new Set(['a']), map: new Map([[1, { deep: [1, 2] }]]), bytes: new Uint16Array([1, 2]) };
cyclic.self = cyclic;
const copy = structuredClone(cyclic);
console.log('structuredClone', copy.self === copy, copy !== cyclic, copy.when.getTime(), [...copy.tags], copy.map.get(1).deep, copy.bytes, (() => { try { structuredClone(() => 1); } catch (e) { return e.name; } })());

// Compression streams (Node 20 errors truncated input with an Error, the spec and Kiln with a TypeError).
const prose = enc.encode('The quick brown fox jumps over the lazy dog. '.repeat(20));
const gz = await new Response(new Blob([prose]).stream().pipeThrough(new CompressionStream('gzip'))).arrayBuffer();
const zl = await new Response(new Response(prose).body.pipeThrough(new CompressionStream('deflate'))).arrayBuffer();
const unzipped = await new Response(new Blob([gz]).stream().pipeThrough(new DecompressionStream('gzip'))).text();
const truncated = new Blob([new Uint8Array(gz).slice(0, gz.byteLength - 2)]).stream().pipeThrough(new DecompressionStream('gzip'));
console.log('Compression', gz.byteLength, hex(gz).slice(0, 24), hex(zl), unzipped === new TextDecoder().decode(prose),
  await new Response(truncated).text().catch((e) => `truncated: ${e instanceof Error}`));
