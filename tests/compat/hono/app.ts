// A Hono app as its users write one: routing with params and base paths, middleware (CORS, a
// request id, timing headers), JSON in and out, HTML, streaming, errors and 404s. serve.ts serves
// it over kiln:http in a guest; compat.test.ts sends the same requests to the guest over TCP and
// to app.request() on host Node, and compares the answers.

import { Hono } from 'hono';
import { cors } from 'hono/cors';
import { HTTPException } from 'hono/http-exception';
import { secureHeaders } from 'hono/secure-headers';
import { streamText } from 'hono/streaming';

export const app = new Hono();

app.use('*', secureHeaders());
app.use('/api/*', cors({ origin: 'https://example.com', allowMethods: ['GET', 'POST'] }));
app.use('*', async (c, next) => {
  await next();
  c.header('x-handled-by', 'hono');
});

app.get('/', (c) => c.text('Hello Hono!'));
app.get('/api/users/:id{[0-9]+}', (c) => c.json({ id: Number(c.req.param('id')), fields: c.req.queries('f') ?? [] }));
app.post('/api/users', async (c) => {
  const body = await c.req.json<{ name?: unknown }>();
  if (typeof body.name !== 'string') throw new HTTPException(400, { message: 'name must be a string' });
  return c.json({ created: body.name, length: body.name.length }, 201, { location: '/api/users/1' });
});
app.post('/form', async (c) => c.json(await c.req.parseBody()));
app.get('/html', (c) => c.html('<h1>Kiln</h1>'));
app.get('/stream', (c) => streamText(c, async (s) => {
  for (let i = 0; i < 5; i++) await s.writeln(`line ${i}`);
}));
app.get('/redirect', (c) => c.redirect('/'));
app.get('/error', () => {
  throw new Error('boom');
});

const v2 = new Hono().basePath('/v2');
v2.get('/ping', (c) => c.body(null, 204));
v2.get('/headers', (c) => c.json({ agent: c.req.header('user-agent') ?? null, accept: c.req.header('accept') ?? null }));
app.route('/', v2);

app.notFound((c) => c.json({ error: 'not found', path: c.req.path }, 404));
app.onError((err, c) => (err instanceof HTTPException ? err.getResponse() : c.json({ error: err.message }, 500)));
