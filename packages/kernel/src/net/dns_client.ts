// kiln:net's stub resolver: a hostname's IPv4 addresses from the DNS servers the guest was given
// (`kiln run --dns`, else `ip=`'s dns0/dns1, else the DHCP lease's), over UDP (RFC 1035 §4.2.1).
// Each server is asked in turn with a random query id from a fresh ephemeral port, and only a
// response from that server and port, with that id and the question asked, is taken (RFC 5452's
// defences against a spoofed answer); two rounds, 1 s then 2 s per server. Answers are cached
// for their TTL (at most 256 names, at most a day); queries for a name in flight are shared.
// Dotted IPv4 addresses and `localhost` need no query. Errors are NetErrors: ENOTFOUND (no such
// name, no IPv4 address, no server to ask), EAI_AGAIN (no answer, or only failures).

import { formatIpv4Addr, parseIpv4Addr } from '@kiln/common/wire/ipv4.ts';
import { addressesOf, checkDnsName, DNS_PORT, DnsRcode, encodeDnsQuery, parseDnsMessage } from '@kiln/common/wire/dns.ts';
import { NetError, type Ipv4Addr } from './types.ts';
import type { UdpConn } from './udp_conn.ts';

export interface ResolverEnv {
  /** The servers to ask, in order (read at each query: a DHCP lease may bring them late). */
  servers(): Ipv4Addr[];
  /** A UDP socket on an ephemeral port. */
  openUdp(): UdpConn;
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  random(bytes: Uint8Array): void;
}

const CACHE_MAX = 256;
const TTL_MAX_S = 86_400;
const ROUND_TIMEOUTS_MS = [1000, 2000];
const LOOPBACK = 0x7f00_0001;

export class DnsResolver {
  private readonly cache = new Map<string, { addresses: Ipv4Addr[]; expires: number }>();
  private readonly inflight = new Map<string, Promise<Ipv4Addr[]>>();

  constructor(private readonly env: ResolverEnv) {}

  /** The IPv4 addresses of `hostname` (at least one), or a NetError. */
  resolve(hostname: string): Promise<Ipv4Addr[]> {
    if (typeof hostname !== 'string') return Promise.reject(new NetError('EINVAL', `hostname ${String(hostname)} is not a string`));
    const literal = parseIpv4Addr(hostname);
    if (literal !== undefined) return Promise.resolve([literal]);
    const name = hostname.toLowerCase().replace(/\.$/, '');
    if (name === 'localhost' || name.endsWith('.localhost')) return Promise.resolve([LOOPBACK]);
    const bad = checkDnsName(name);
    if (bad !== undefined) return Promise.reject(new NetError('EINVAL', `hostname ${JSON.stringify(hostname)} is not a DNS name: ${bad}`));
    const hit = this.cache.get(name);
    if (hit && hit.expires > this.env.now()) return Promise.resolve(hit.addresses);
    if (hit) this.cache.delete(name);
    let pending = this.inflight.get(name);
    if (!pending) {
      pending = this.query(name).finally(() => this.inflight.delete(name));
      this.inflight.set(name, pending);
    }
    return pending;
  }

  private async query(name: string): Promise<Ipv4Addr[]> {
    const servers = this.env.servers();
    if (servers.length === 0) {
      throw new NetError('ENOTFOUND', `cannot resolve "${name}": the guest has no DNS server (none from DHCP or ip=; give one with kiln run --dns ADDR)`);
    }
    const failures: string[] = [];
    for (const timeoutMs of ROUND_TIMEOUTS_MS) {
      for (const server of servers) {
        const outcome = await this.ask(server, name, timeoutMs);
        if ('addresses' in outcome) {
          this.remember(name, outcome.addresses, outcome.ttl);
          return outcome.addresses;
        }
        if ('notFound' in outcome) throw new NetError('ENOTFOUND', `cannot resolve "${name}": ${outcome.notFound} (DNS server ${formatIpv4Addr(server)})`);
        failures.push(`${formatIpv4Addr(server)}: ${outcome.failed}`);
      }
    }
    throw new NetError('EAI_AGAIN', `cannot resolve "${name}": ${[...new Set(failures)].join('; ')}`);
  }

  /** One query to one server: its addresses, a definite "no such name", or why it failed. */
  private ask(server: Ipv4Addr, name: string, timeoutMs: number): Promise<{ addresses: Ipv4Addr[]; ttl: number } | { notFound: string } | { failed: string }> {
    const idBytes = new Uint8Array(2);
    this.env.random(idBytes);
    const id = (idBytes[0]! << 8) | idBytes[1]!;
    let udp: UdpConn;
    try {
      udp = this.env.openUdp();
    } catch (e) {
      return Promise.resolve({ failed: e instanceof Error ? e.message : String(e) });
    }
    const host = formatIpv4Addr(server);
    return new Promise((resolve) => {
      let done = false;
      const finish = (r: { addresses: Ipv4Addr[]; ttl: number } | { notFound: string } | { failed: string }): void => {
        if (done) return;
        done = true;
        this.env.clearTimeout(timer);
        udp.close();
        resolve(r);
      };
      const timer = this.env.setTimeout(() => finish({ failed: `no answer within ${timeoutMs} ms` }), timeoutMs);
      const receive = (): void => {
        udp.receive().then((d) => {
          if (done) return;
          if (d.remoteAddr.hostname !== host || d.remoteAddr.port !== DNS_PORT) return receive();
          let r;
          try {
            r = parseDnsMessage(d.data);
          } catch {
            return receive(); // malformed: not an answer to us, keep waiting
          }
          if (!r.response || r.id !== id || r.question?.name !== name) return receive();
          if (r.rcode === DnsRcode.NXDOMAIN) return finish({ notFound: 'no such name (NXDOMAIN)' });
          if (r.rcode !== DnsRcode.NOERROR) return finish({ failed: `the server answered with error code ${r.rcode}` });
          const found = addressesOf(r, name);
          if (found.addresses.length > 0) return finish(found);
          if (r.truncated) return finish({ failed: 'the answer did not fit a datagram (DNS over TCP is not supported)' });
          return finish({ notFound: 'the name has no IPv4 (A) address' });
        }, () => finish({ failed: 'the UDP socket closed' }));
      };
      receive();
      udp.send(encodeDnsQuery(id, name), { hostname: host, port: DNS_PORT }).catch((e: unknown) => finish({ failed: e instanceof Error ? e.message : String(e) }));
    });
  }

  private remember(name: string, addresses: Ipv4Addr[], ttlS: number): void {
    if (ttlS <= 0) return;
    if (this.cache.size >= CACHE_MAX) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(name, { addresses, expires: this.env.now() + Math.min(ttlS, TTL_MAX_S) * 1000 });
  }
}
