// The guest: app.ts's Hono app on kiln:http, port 8080 (compat.test.ts reaches it through passt's
// hostfwd). The optional argument is how many requests to serve before exiting (default: forever).

import { args } from 'kiln:process';
import { serve } from 'kiln:http';
import { app } from './app.ts';

const limit = args[0] === undefined ? Infinity : Number(args[0]);
let served = 0;
const server = serve({ port: 8080 }, async (request) => {
  const response = await app.fetch(request);
  if (++served >= limit) queueMicrotask(() => void server.shutdown());
  return response;
});
