// The Hono benchmark guest (bench/hono.ts): http-hello's route in Hono — GET / answers "hello"
// — served over kiln:http on port 8080, to compare with examples/http-hello (the same route on
// plain kiln:http): image size, boot to first response, req/s.

import { Hono } from 'hono';
import { serve } from 'kiln:http';

const app = new Hono();
app.get('/', (c) => c.text('hello'));
serve({ port: 8080 }, app.fetch);
