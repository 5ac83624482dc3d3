import { Router, json, error } from 'itty-router';
const router = Router();
router.get('/hello/:name', ({ params, query }) => json({ hello: params.name, q: query.q ?? null }));
router.post('/echo', async (req) => new Response(await req.text(), { headers: { 'x-echo': '1' } }));
router.all('*', () => error(404, 'nope'));
for (const [method, url, body] of [['GET', 'http://x/hello/ann?q=1'], ['POST', 'http://x/echo', 'payload'], ['GET', 'http://x/missing']]) {
  const res = await router.fetch(new Request(url, { method, body }));
  console.log(method, url, res.status, res.headers.get('content-type'), res.headers.get('x-echo'), await res.text());
}
