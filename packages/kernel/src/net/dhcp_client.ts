// DHCP client (RFC 2131 §3.1, §4.4), sans-IO: messages go out through `send`, time is the
// injected `now`, and the owner applies leases to the interface. States (§4.4, figure 5):
// SELECTING (DISCOVER, take the first valid OFFER) → REQUESTING (broadcast REQUEST for it) →
// BOUND; at T1 RENEWING (REQUEST unicast to the server), at T2 REBINDING (broadcast), at the
// lease's end the address is dropped and SELECTING starts over. A NAK sends us back to the
// start after a growing pause. Retransmissions (§4.1): 4 s doubling to 64 s, ±1 s at random,
// while selecting and requesting (REQUESTING gives up after REQUEST_TRIES and starts over);
// while renewing/rebinding, half the time left to T2/expiry, at least 60 s (§4.4.5). Not done:
// the random 1-10 s wait before the first DISCOVER (boot time matters more here), the ARP check
// of the offered address and DHCPDECLINE, INIT-REBOOT, DHCPRELEASE.

import {
  BOOTREPLY, BOOTREQUEST, DHCPACK, DHCPDISCOVER, DHCPNAK, DHCPOFFER, DHCPREQUEST, DhcpOption, type DhcpRepr,
} from '@kiln/common/wire/dhcp.ts';
import type { MacAddr } from '@kiln/common/wire/ethernet.ts';
import { IPV4_BROADCAST, netmaskToPrefix } from '@kiln/common/wire/ipv4.ts';
import { classMask } from './ip_config.ts';
import type { Ipv4Addr, Random } from './types.ts';

export const RETRY_FIRST_MS = 4000;
export const RETRY_MAX_MS = 64_000;
export const RETRY_JITTER_MS = 1000;
export const REQUEST_TRIES = 4;
export const RENEW_RETRY_MIN_MS = 60_000;
export const NAK_PAUSE_FIRST_MS = 1000;
const INFINITE_LEASE = 0xffff_ffff;

export type DhcpState = 'init' | 'selecting' | 'requesting' | 'bound' | 'renewing' | 'rebinding';

export interface DhcpLease {
  address: Ipv4Addr;
  netmask: Ipv4Addr;
  /** 0 when the server gave no router on the client's network. */
  gateway: Ipv4Addr;
  dns: Ipv4Addr[];
  serverId: Ipv4Addr;
  /** Seconds, as the server gave it (0xffffffff: infinite). */
  leaseTime: number;
  /** Clock times (ms); Infinity for an infinite lease. */
  renewAt: number;
  rebindAt: number;
  expiresAt: number;
}

export interface DhcpClientOptions {
  mac: MacAddr;
  hostname?: string;
  now: () => number;
  random: Random;
  /** Sends one message from UDP port 68 to port 67 of `dst` (broadcast, or the server while renewing). */
  send(msg: DhcpRepr, dst: Ipv4Addr): void;
  /** A lease was obtained or renewed (the address may differ from the last one). */
  onBound(lease: DhcpLease): void;
  /** The lease ended (expired, or NAKed while renewing): drop the address. */
  onLost(): void;
}

export class DhcpClient {
  state: DhcpState = 'init';
  lease: DhcpLease | undefined;
  readonly stats = { discovers: 0, requests: 0, offers: 0, acks: 0, naks: 0 };
  private xid = 0;
  private startedAt = 0;
  private attempt = 0;
  private retryAt = 0;
  private naksInARow = 0;
  private offer: { address: Ipv4Addr; serverId: Ipv4Addr } | undefined;

  constructor(private readonly o: DhcpClientOptions) {}

  /** Starts SELECTING now (the first DISCOVER goes out at once). */
  start(): void {
    this.select(this.o.now());
  }

  nextDeadline(): number | undefined {
    switch (this.state) {
      case 'bound':
        return Number.isFinite(this.lease!.renewAt) ? this.lease!.renewAt : undefined;
      case 'renewing':
        return Math.min(this.retryAt, this.lease!.rebindAt);
      case 'rebinding':
        return Math.min(this.retryAt, this.lease!.expiresAt);
      default:
        return this.state === 'init' && this.retryAt === 0 ? undefined : this.retryAt;
    }
  }

  poll(): void {
    const now = this.o.now();
    switch (this.state) {
      case 'init':
        if (this.retryAt !== 0 && now >= this.retryAt) this.select(now);
        return;
      case 'selecting':
        if (now < this.retryAt) return;
        this.attempt++;
        this.sendDiscover(now);
        this.retryAt = now + this.backoff();
        return;
      case 'requesting':
        if (now < this.retryAt) return;
        if (this.attempt + 1 >= REQUEST_TRIES) {
          this.select(now);
          return;
        }
        this.attempt++;
        this.sendRequest(now);
        this.retryAt = now + this.backoff();
        return;
      case 'bound':
        if (now < this.lease!.renewAt) return;
        this.state = 'renewing';
        this.xid = this.newXid();
        this.startedAt = now;
        this.renewOrRebind(now);
        return;
      case 'renewing':
        if (now >= this.lease!.rebindAt) {
          this.state = 'rebinding';
          this.renewOrRebind(now);
        } else if (now >= this.retryAt) {
          this.renewOrRebind(now);
        }
        return;
      case 'rebinding':
        if (now >= this.lease!.expiresAt) {
          this.lease = undefined;
          this.o.onLost();
          this.select(now);
        } else if (now >= this.retryAt) {
          this.renewOrRebind(now);
        }
        return;
    }
  }

  /** One message that arrived on UDP port 68. */
  input(m: DhcpRepr): void {
    if (m.op !== BOOTREPLY || m.xid !== this.xid || m.clientMac !== this.o.mac) return;
    const now = this.o.now();
    if (this.state === 'selecting' && m.messageType === DHCPOFFER) {
      if (!usableAddress(m.yourIp) || m.serverId === undefined) return;
      this.stats.offers++;
      this.offer = { address: m.yourIp, serverId: m.serverId };
      this.state = 'requesting';
      this.attempt = 0;
      this.sendRequest(now);
      this.retryAt = now + this.backoff();
      return;
    }
    if (this.state !== 'requesting' && this.state !== 'renewing' && this.state !== 'rebinding') return;
    if (m.messageType === DHCPNAK) {
      this.stats.naks++;
      const wasBound = this.lease !== undefined;
      this.lease = undefined;
      this.offer = undefined;
      this.state = 'init';
      this.retryAt = now + Math.min(RETRY_MAX_MS, NAK_PAUSE_FIRST_MS * 2 ** this.naksInARow);
      this.naksInARow++;
      if (wasBound) this.o.onLost();
      return;
    }
    if (m.messageType !== DHCPACK || !usableAddress(m.yourIp)) return;
    if (this.state === 'requesting' && m.yourIp !== this.offer!.address) return;
    this.stats.acks++;
    this.naksInARow = 0;
    const leaseTime = m.leaseTime ?? INFINITE_LEASE;
    const mask = m.subnetMask !== undefined && netmaskToPrefix(m.subnetMask) !== undefined ? m.subnetMask : classMask(m.yourIp);
    const router = (m.routers ?? []).find((r) => ((r ^ m.yourIp) & mask) === 0 && r !== m.yourIp) ?? 0;
    let renewAt = Infinity;
    let rebindAt = Infinity;
    let expiresAt = Infinity;
    if (leaseTime !== INFINITE_LEASE) {
      const t2 = Math.min(m.rebindingTime ?? leaseTime * 0.875, leaseTime);
      const t1 = Math.min(m.renewalTime ?? leaseTime * 0.5, t2);
      renewAt = this.startedAt + t1 * 1000;
      rebindAt = this.startedAt + t2 * 1000;
      expiresAt = this.startedAt + leaseTime * 1000;
    }
    this.lease = {
      address: m.yourIp, netmask: mask, gateway: router, dns: m.dnsServers ?? [], serverId: m.serverId ?? this.offer?.serverId ?? this.lease?.serverId ?? 0,
      leaseTime, renewAt, rebindAt, expiresAt,
    };
    this.offer = undefined;
    this.state = 'bound';
    this.o.onBound(this.lease);
  }

  private select(now: number): void {
    this.state = 'selecting';
    this.xid = this.newXid();
    this.startedAt = now;
    this.attempt = 0;
    this.offer = undefined;
    this.sendDiscover(now);
    this.retryAt = now + this.backoff();
  }

  /** §4.1: 4 s, 8 s, ... 64 s, each ±1 s at random. */
  private backoff(): number {
    const r = new Uint8Array(1);
    this.o.random(r);
    return Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** this.attempt) + ((r[0]! / 255) * 2 - 1) * RETRY_JITTER_MS;
  }

  private renewOrRebind(now: number): void {
    const l = this.lease!;
    const until = this.state === 'renewing' ? l.rebindAt : l.expiresAt;
    this.retryAt = Math.min(until, now + Math.max(RENEW_RETRY_MIN_MS, (until - now) / 2));
    this.stats.requests++;
    this.o.send(this.message(DHCPREQUEST, now, { clientIp: l.address }), this.state === 'renewing' ? l.serverId : IPV4_BROADCAST);
  }

  private sendDiscover(now: number): void {
    this.stats.discovers++;
    this.o.send(this.message(DHCPDISCOVER, now, {}), IPV4_BROADCAST);
  }

  private sendRequest(now: number): void {
    this.stats.requests++;
    this.o.send(this.message(DHCPREQUEST, now, { requestedIp: this.offer!.address, serverId: this.offer!.serverId }), IPV4_BROADCAST);
  }

  private message(type: number, now: number, extra: Partial<DhcpRepr>): DhcpRepr {
    const m: DhcpRepr = {
      op: BOOTREQUEST, messageType: type, xid: this.xid, secs: Math.min(65535, Math.floor((now - this.startedAt) / 1000)), broadcast: false,
      clientIp: 0, yourIp: 0, serverIp: 0, relayIp: 0, clientMac: this.o.mac,
      parameterRequestList: [DhcpOption.SUBNET_MASK, DhcpOption.ROUTER, DhcpOption.DNS, DhcpOption.LEASE_TIME, DhcpOption.RENEWAL_TIME, DhcpOption.REBINDING_TIME],
      ...extra,
    };
    if (this.o.hostname) m.hostname = this.o.hostname;
    return m;
  }

  private newXid(): number {
    const r = new Uint8Array(4);
    this.o.random(r);
    return ((r[0]! << 24) | (r[1]! << 16) | (r[2]! << 8) | r[3]!) >>> 0;
  }
}

function usableAddress(a: Ipv4Addr): boolean {
  return a !== 0 && a !== IPV4_BROADCAST && a >>> 24 !== 127 && a >>> 28 < 0xe;
}
