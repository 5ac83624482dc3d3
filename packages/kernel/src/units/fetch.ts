// The guest's fetch: http/fetch.ts over kiln:net's TCP connect, which resolves hostnames with
// kiln:net's DNS resolver (servers from kiln run --dns, ip= or DHCP). Installed as a global by
// fetch_global.ts for apps that name `fetch`.

import { makeFetch } from '../http/fetch.ts';
import { connect } from './net.ts';

export const fetch = makeFetch((hostname, port) => connect({ hostname, port }));
