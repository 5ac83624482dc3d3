// The smallest kiln:http server, on TCP port 8080 through kiln:net: every request gets "hello".
// The benchmark target (wrk against this guest vs the same handler on host Node).
// Run: kiln run http-hello.elf --net user,hostfwd=tcp:127.0.0.1:8080-:8080
//      then: curl --http1.1 http://127.0.0.1:8080/

import { serve } from 'kiln:http';

serve({ port: 8080 }, () => new Response('hello'));
