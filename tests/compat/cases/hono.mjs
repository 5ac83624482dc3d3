import { Hono } from 'hono';
import { logger } from 'hono/logger';
import { etag } from 'hono/etag';
import { cors } from 'hono/cors';
import { HTTPException } from 'hono/http-exception';
const app = new Hono();
const lines = [];
app.use('*', logger((s) => lines.push(s.replace(/\d+m?s$/, 'T'))));
app.use('/api/*', cors({ origin: 'https://example.com' }));
app.get('/', (c) => c.text('Hello Hono!'));
app.get('/api/users/:id', etag(), (c) => c.json({ id: Number(c.req.param('id')), q: c.req.query('q') ?? null }));
app.post('/api/echo', async (c) => c.json({ got: await c.req.json() }, 201));
app.get('/html', (c) => c.html('<p>hi</p>'));
app.get('/fail', () => { throw new HTTPException(418, { message: 'teapot' }); });
const api = new Hono().basePath('/v2');
api.get('/ping', (c) => c.body(null, 204));
app.route('/', api);
app.notFound((c) => c.text('not here', 404));
for (const [path, init] of [['/'], ['/api/users/7?q=x', { headers: { origin: 'https://example.com' } }], ['/api/echo', { method: 'POST', body: JSON.stringify({ a: [1] }), headers: { 'content-type': 'application/json' } }], ['/html'], ['/fail'], ['/v2/ping'], ['/missing']]) {
  const res = await app.request(path, init);
  console.log(path, res.status, res.headers.get('content-type'), res.headers.get('etag'), res.headers.get('access-control-allow-origin'), await res.text());
}
console.log(lines.join('\n'));
