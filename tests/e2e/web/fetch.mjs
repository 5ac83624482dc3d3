// Guest program of tests/e2e/fetch.test.ts: fetch by hostname (DNS through the --dns server) to
// the test's HTTP server, as an app would; host Node runs it too, in the same namespace, and must
// print the same lines.
const base = 'http://api.kiln.test:8080';
const hello = await fetch(`${base}/hello`);
console.log('GET', hello.status, hello.statusText, hello.headers.get('x-server'), await hello.text(), hello.url);
const echo = await (await fetch(`${base}/echo`, { method: 'POST', body: JSON.stringify({ a: 1 }), headers: { 'content-type': 'application/json' } })).json();
console.log('POST', echo.method, echo.type, echo.length, echo.body);
const moved = await fetch(`${base}/redirect`);
console.log('redirect', moved.status, moved.redirected, moved.url, await moved.text());
const streamed = await fetch(`${base}/stream`);
let chunks = 0;
let text = '';
for await (const c of streamed.body) {
  chunks++;
  text += new TextDecoder().decode(c);
}
console.log('stream', chunks >= 2, text);
const big = new Uint8Array(await (await fetch(`${base}/big`)).arrayBuffer());
console.log('big', big.length, big.reduce((s, b) => (s + b) % 65521, 0));
await fetch(`${base}/slow`, { signal: AbortSignal.timeout(100) }).catch((e) => console.log('timeout', e.name));
await fetch('http://nope.kiln.test:8080/').catch((e) => console.log('no such host', e.name, e.cause?.code));
await fetch(`http://api.kiln.test:8081/`).catch((e) => console.log('refused', e.name, e.cause?.code));
