// The IPv4-over-Ethernet interface (smoltcp's `iface` layer): one NIC, one address. Sans-IO:
// frames come in through receive(), go out through the owner's `transmit` (which must copy or
// send the bytes before it returns: the interface reuses one transmit buffer), and time is the
// injected `now`. It is the TCP layer's `TcpLower`.
// - Ethernet: accepts frames to our MAC and broadcast; other multicast and VLAN tags are dropped.
// - ARP (arp_cache.ts): answers requests for our address, learns from requests to us and from
//   replies, queues packets while resolving, announces the address when configured (one
//   gratuitous request, RFC 5227 §2.3) and counts other hosts claiming it.
// - IPv4: header checksum verified, version/IHL/length checked; packets to our address, to the
//   subnet or limited broadcast, to 127/8 (looped back inside) and, while unconfigured, UDP to
//   any address (DHCP offers) are accepted; the rest is dropped, never forwarded. Fragment
//   policy: everything is sent with DF set and never fragmented (payloads over MTU - 20 are
//   refused with EMSGSIZE; TCP keeps to mssFor), and received fragments are dropped and counted
//   (no reassembly). TTL 64 on the way out; a host does not check the TTL of what it receives
//   (RFC 1122 §3.2.1.7). Routing: on-link destinations directly, the rest to the gateway
//   (ENETUNREACH without one).
// - ICMP: echo requests are answered; UDP to a closed port and unknown protocols get port/
//   protocol unreachable, at most ICMP_ERROR_BURST at once and ICMP_ERRORS_PER_S after that
//   (token bucket), never for broadcasts or ICMP errors (RFC 1122 §3.2.2). Received ICMP
//   errors are counted only.
// - UDP: bindings by port (one per port, any or one local address) with a datagram callback.

import { ARP_OP_REPLY, ARP_OP_REQUEST, ArpPacket, ARP_LEN, emitArp } from '@kiln/common/wire/arp.ts';
import { finishChecksum, internetChecksum, pseudoHeaderSum, sumWords } from '@kiln/common/wire/checksum.ts';
import { ETHERNET_HEADER_LEN, ETHERTYPE_ARP, ETHERTYPE_IPV4, MAC_BROADCAST, readMac, writeEthernetHeader, type MacAddr } from '@kiln/common/wire/ethernet.ts';
import {
  ICMP_DEST_UNREACHABLE, ICMP_ECHO_REPLY, ICMP_ECHO_REQUEST, ICMP_ERROR_QUOTE_PAYLOAD, ICMP_HEADER_LEN, ICMP_TIME_EXCEEDED, ICMP_UNREACH_PORT,
  ICMP_UNREACH_PROTOCOL,
} from '@kiln/common/wire/icmp.ts';
import {
  IPV4_BROADCAST, IPV4_FLAG_MF, IPV4_FRAG_OFFSET_MASK, IPV4_HEADER_LEN, IP_PROTO_ICMP, IP_PROTO_TCP, IP_PROTO_UDP, Ipv4Field, isMulticastIpv4,
  readIpv4, writeIpv4Header,
} from '@kiln/common/wire/ipv4.ts';
import { UDP_HEADER_LEN, writeUdpHeader } from '@kiln/common/wire/udp.ts';
import { ArpCache } from './arp_cache.ts';
import { NetError, type Ipv4Addr, type NetErrorCode, type Random, type TcpLayerApi, type TcpLower } from './types.ts';

export const DEFAULT_TTL = 64;
export const ICMP_ERROR_BURST = 10;
export const ICMP_ERRORS_PER_S = 10;
export const EPHEMERAL_FIRST = 49152;
const LOOPBACK_NET = 127;
const LOOPBACK_ADDR = 0x7f00_0001;

export interface InterfaceOptions {
  mac: MacAddr;
  /** IP MTU: the largest IPv4 packet (header included) one frame carries. */
  mtu: number;
  now: () => number;
  random: Random;
  /** Sends one frame; must be done with the bytes when it returns. Must not call back into the interface. */
  transmit: (frame: Uint8Array) => void;
}

export interface InterfaceAddress {
  address: Ipv4Addr;
  netmask: Ipv4Addr;
  /** 0: none. */
  gateway: Ipv4Addr;
}

export interface InterfaceStats {
  rxFrames: number;
  txFrames: number;
  /** Frames to another MAC, to a multicast group, too short, or of an EtherType we do not speak. */
  rxFramesDropped: number;
  arpRequestsSent: number;
  arpRepliesSent: number;
  /** ARP packets from another host claiming our address. */
  arpConflicts: number;
  /** Packets dropped while waiting for ARP (queue full or no answer). */
  arpDrops: number;
  ipPacketsReceived: number;
  ipBadHeader: number;
  ipBadChecksum: number;
  ipFragmentsDropped: number;
  /** Packets for an address that is not ours (a host does not forward). */
  ipNotForUs: number;
  ipUnknownProtocol: number;
  /** Sends refused: no route (ENETUNREACH) or too big (EMSGSIZE). */
  ipSendErrors: number;
  udpBadChecksum: number;
  udpNoPort: number;
  icmpEchoRepliesSent: number;
  icmpErrorsSent: number;
  icmpRateLimited: number;
  icmpErrorsReceived: number;
}

/** One UDP port bound on the interface. The payload view is only valid during the call. */
export class UdpBinding {
  onDatagram: ((payload: Uint8Array, src: Ipv4Addr, srcPort: number, dst: Ipv4Addr) => void) | undefined;
  private open = true;

  constructor(private readonly iface: Interface, readonly addr: Ipv4Addr, readonly port: number) {}

  /** Sends one datagram; undefined when sent or queued for ARP, else why not. */
  send(payload: Uint8Array, dst: Ipv4Addr, dstPort: number): NetErrorCode | undefined {
    if (!this.open) return 'EBADF';
    return this.iface.sendUdp(this.addr, this.port, dst, dstPort, payload);
  }

  close(): void {
    if (!this.open) return;
    this.open = false;
    this.iface.unbindUdp(this);
  }
}

const be16 = (b: Uint8Array, at: number): number => (b[at]! << 8) | b[at + 1]!;

export class Interface implements TcpLower {
  readonly mac: MacAddr;
  readonly mtu: number;
  /** The TCP layer packets of protocol 6 go to (set once both exist; without it TCP gets protocol unreachable). */
  tcp: TcpLayerApi | undefined;
  readonly stats: InterfaceStats = {
    rxFrames: 0, txFrames: 0, rxFramesDropped: 0, arpRequestsSent: 0, arpRepliesSent: 0, arpConflicts: 0, arpDrops: 0, ipPacketsReceived: 0,
    ipBadHeader: 0, ipBadChecksum: 0, ipFragmentsDropped: 0, ipNotForUs: 0, ipUnknownProtocol: 0, ipSendErrors: 0, udpBadChecksum: 0, udpNoPort: 0,
    icmpEchoRepliesSent: 0, icmpErrorsSent: 0, icmpRateLimited: 0, icmpErrorsReceived: 0,
  };
  private readonly now: () => number;
  private readonly transmit: (frame: Uint8Array) => void;
  private readonly arp: ArpCache;
  /** The one transmit buffer: Ethernet header + MTU. */
  private readonly tx: Uint8Array;
  private addr: InterfaceAddress | undefined;
  private ident = 0;
  private icmpTokens = ICMP_ERROR_BURST;
  private icmpTokensAt = 0;
  private readonly udp = new Map<number, UdpBinding>();
  private nextEphemeral: number;
  /** IPv4 packets to ourselves, delivered by the next poll (never inside the call that sent them). */
  private loopback: Uint8Array[] = [];

  constructor(o: InterfaceOptions) {
    if (!Number.isInteger(o.mtu) || o.mtu < 68 || o.mtu > 65535) throw new NetError('EINVAL', `MTU ${o.mtu} is outside 68..65535`);
    this.mac = o.mac;
    this.mtu = o.mtu;
    this.now = o.now;
    this.transmit = o.transmit;
    this.tx = new Uint8Array(ETHERNET_HEADER_LEN + o.mtu);
    const r = new Uint8Array(2);
    o.random(r);
    this.nextEphemeral = EPHEMERAL_FIRST + (((r[0]! << 8) | r[1]!) % (65536 - EPHEMERAL_FIRST));
    this.arp = new ArpCache({
      request: (ip, mac) => this.sendArp(ARP_OP_REQUEST, mac ?? MAC_BROADCAST, mac ?? 0, ip),
      deliver: (packet, mac) => {
        this.tx.set(packet, ETHERNET_HEADER_LEN);
        this.sendFrame(mac, ETHERTYPE_IPV4, packet.length);
      },
      dropped: () => this.stats.arpDrops++,
    });
  }

  /** Our address, or 0 while unconfigured. */
  get address(): Ipv4Addr {
    return this.addr?.address ?? 0;
  }

  get config(): InterfaceAddress | undefined {
    return this.addr;
  }

  /** Sets the address (announced with a gratuitous ARP when it changed). */
  configure(a: InterfaceAddress): void {
    const changed = this.addr?.address !== a.address;
    this.addr = { address: a.address >>> 0, netmask: a.netmask >>> 0, gateway: a.gateway >>> 0 };
    if (changed) {
      this.arp.clear();
      this.sendArp(ARP_OP_REQUEST, MAC_BROADCAST, 0, a.address);
    }
  }

  unconfigure(): void {
    this.addr = undefined;
    this.arp.clear();
  }

  // ── TcpLower ──

  sendSegment(src: Ipv4Addr, dst: Ipv4Addr, segment: Uint8Array): void {
    if (IPV4_HEADER_LEN + segment.length > this.mtu) {
      this.stats.ipSendErrors++;
      return;
    }
    this.tx.set(segment, ETHERNET_HEADER_LEN + IPV4_HEADER_LEN);
    this.sendIpv4(src, dst, IP_PROTO_TCP, segment.length);
  }

  mssFor(_dst: Ipv4Addr): number {
    return this.mtu - IPV4_HEADER_LEN - 20;
  }

  isLocalAddr(addr: Ipv4Addr): boolean {
    return addr >>> 24 === LOOPBACK_NET || (this.addr !== undefined && addr === this.addr.address);
  }

  /** The source address for talking to `dst` (127.0.0.1 for loopback), or 0 when unconfigured. */
  sourceFor(dst: Ipv4Addr): Ipv4Addr {
    return dst >>> 24 === LOOPBACK_NET ? LOOPBACK_ADDR : this.address;
  }

  /** Why `dst` cannot be reached now, or undefined. */
  routeError(dst: Ipv4Addr): NetErrorCode | undefined {
    if (dst >>> 24 === LOOPBACK_NET || dst === IPV4_BROADCAST || isMulticastIpv4(dst)) return undefined;
    const a = this.addr;
    if (!a) return 'ENETUNREACH';
    if (((dst ^ a.address) & a.netmask) === 0 || a.gateway !== 0) return undefined;
    return 'ENETUNREACH';
  }

  // ── UDP ──

  /** Binds `port` (0: an ephemeral port) on `addr` (0: any); EADDRINUSE when taken. */
  bindUdp(addr: Ipv4Addr, port: number): UdpBinding {
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new NetError('EINVAL', `UDP port ${port} is outside 0..65535`);
    if (port === 0) {
      for (let i = 0; i < 65536 - EPHEMERAL_FIRST && port === 0; i++) {
        const p = this.nextEphemeral;
        this.nextEphemeral = p === 65535 ? EPHEMERAL_FIRST : p + 1;
        if (!this.udp.has(p)) port = p;
      }
      if (port === 0) throw new NetError('EADDRINUSE', 'no ephemeral UDP port is free');
    } else if (this.udp.has(port)) {
      throw new NetError('EADDRINUSE', `UDP port ${port} is already bound`);
    }
    const b = new UdpBinding(this, addr >>> 0, port);
    this.udp.set(port, b);
    return b;
  }

  unbindUdp(b: UdpBinding): void {
    if (this.udp.get(b.port) === b) this.udp.delete(b.port);
  }

  sendUdp(src: Ipv4Addr, srcPort: number, dst: Ipv4Addr, dstPort: number, payload: Uint8Array): NetErrorCode | undefined {
    const len = UDP_HEADER_LEN + payload.length;
    if (IPV4_HEADER_LEN + len > this.mtu) {
      this.stats.ipSendErrors++;
      return 'EMSGSIZE';
    }
    const from = src !== 0 ? src : this.sourceFor(dst);
    const at = ETHERNET_HEADER_LEN + IPV4_HEADER_LEN;
    this.tx.set(payload, at + UDP_HEADER_LEN);
    writeUdpHeader(this.tx, at, srcPort, dstPort, payload.length, from, dst);
    return this.sendIpv4(from, dst, IP_PROTO_UDP, len);
  }

  // ── the way out ──

  /**
   * Sends the `payloadLen` bytes already at tx[34, ...) as an IPv4 packet: header, route, ARP.
   * undefined when it went out or waits for ARP; else the reason it was dropped.
   */
  private sendIpv4(src: Ipv4Addr, dst: Ipv4Addr, protocol: number, payloadLen: number): NetErrorCode | undefined {
    this.ident = (this.ident + 1) & 0xffff;
    writeIpv4Header(this.tx, ETHERNET_HEADER_LEN, src, dst, protocol, payloadLen, DEFAULT_TTL, this.ident, true);
    const ipLen = IPV4_HEADER_LEN + payloadLen;
    if (dst >>> 24 === LOOPBACK_NET || (this.addr !== undefined && dst === this.addr.address)) {
      this.loopback.push(this.tx.slice(ETHERNET_HEADER_LEN, ETHERNET_HEADER_LEN + ipLen));
      return undefined;
    }
    if (dst === IPV4_BROADCAST) return this.sendFrame(MAC_BROADCAST, ETHERTYPE_IPV4, ipLen);
    // RFC 1112 §6.4: the low 23 bits of the group in 01:00:5e:00:00:00
    if (isMulticastIpv4(dst)) return this.sendFrame(0x01005e000000 + (dst & 0x7f_ffff), ETHERTYPE_IPV4, ipLen);
    const a = this.addr;
    let hop: Ipv4Addr;
    if (a && ((dst ^ a.address) & a.netmask) === 0) {
      if ((dst | a.netmask) >>> 0 === IPV4_BROADCAST) return this.sendFrame(MAC_BROADCAST, ETHERTYPE_IPV4, ipLen);
      hop = dst;
    } else if (a && a.gateway !== 0) {
      hop = a.gateway;
    } else {
      this.stats.ipSendErrors++;
      return 'ENETUNREACH';
    }
    const now = this.now();
    const mac = this.arp.lookup(hop, now);
    if (mac !== undefined) return this.sendFrame(mac, ETHERTYPE_IPV4, ipLen);
    this.arp.enqueue(hop, this.tx.slice(ETHERNET_HEADER_LEN, ETHERNET_HEADER_LEN + ipLen), now);
    return undefined;
  }

  /** Writes the Ethernet header in front of tx[14, 14 + len) and transmits. */
  private sendFrame(dst: MacAddr, ethertype: number, len: number): undefined {
    writeEthernetHeader(this.tx, dst, this.mac, ethertype);
    this.stats.txFrames++;
    this.transmit(this.tx.subarray(0, ETHERNET_HEADER_LEN + len));
    return undefined;
  }

  private sendArp(op: typeof ARP_OP_REQUEST | typeof ARP_OP_REPLY, ethDst: MacAddr, targetMac: MacAddr, targetIp: Ipv4Addr): void {
    emitArp({ operation: op, senderMac: this.mac, senderIp: this.address, targetMac, targetIp }, this.tx.subarray(ETHERNET_HEADER_LEN));
    if (op === ARP_OP_REQUEST) this.stats.arpRequestsSent++;
    else this.stats.arpRepliesSent++;
    this.sendFrame(ethDst, ETHERTYPE_ARP, ARP_LEN);
  }

  // ── the way in ──

  /** One received Ethernet frame (its bytes are not kept after the call, except by the TCP layer's own copies). */
  receive(frame: Uint8Array): void {
    this.stats.rxFrames++;
    if (frame.length < ETHERNET_HEADER_LEN) {
      this.stats.rxFramesDropped++;
      return;
    }
    const dst = readMac(frame, 0);
    if (dst !== this.mac && dst !== MAC_BROADCAST) {
      this.stats.rxFramesDropped++;
      return;
    }
    const type = be16(frame, 12);
    if (type === ETHERTYPE_IPV4) this.receiveIpv4(frame, ETHERNET_HEADER_LEN, dst === MAC_BROADCAST);
    else if (type === ETHERTYPE_ARP) this.receiveArp(frame.subarray(ETHERNET_HEADER_LEN));
    else this.stats.rxFramesDropped++;
  }

  private receiveArp(b: Uint8Array): void {
    const p = ArpPacket.check(b);
    if (!p) {
      this.stats.rxFramesDropped++;
      return;
    }
    const op = p.operation;
    if (op !== ARP_OP_REQUEST && op !== ARP_OP_REPLY) return;
    const sha = p.senderMac;
    const spa = p.senderIp;
    if (sha === this.mac) return;
    const a = this.addr;
    if (a && spa === a.address) {
      this.stats.arpConflicts++;
      return;
    }
    const forUs = a !== undefined && p.targetIp === a.address;
    if (spa !== 0) this.arp.learn(spa, sha, this.now(), forUs);
    if (forUs && op === ARP_OP_REQUEST) this.sendArp(ARP_OP_REPLY, sha, sha, spa);
  }

  private receiveIpv4(b: Uint8Array, at: number, linkBroadcast: boolean): void {
    this.stats.ipPacketsReceived++;
    const avail = b.length - at;
    if (avail < IPV4_HEADER_LEN) {
      this.stats.ipBadHeader++;
      return;
    }
    const verIhl = b[at]!;
    const hl = (verIhl & 0x0f) * 4;
    const total = be16(b, at + Ipv4Field.LENGTH);
    if (verIhl >> 4 !== 4 || hl < IPV4_HEADER_LEN || total < hl || total > avail) {
      this.stats.ipBadHeader++;
      return;
    }
    if (internetChecksum(b, at, at + hl) !== 0) {
      this.stats.ipBadChecksum++;
      return;
    }
    if ((be16(b, at + Ipv4Field.FLAGS_FRAG) & (IPV4_FLAG_MF | IPV4_FRAG_OFFSET_MASK)) !== 0) {
      this.stats.ipFragmentsDropped++;
      return;
    }
    const src = readIpv4(b, at + Ipv4Field.SRC);
    const dst = readIpv4(b, at + Ipv4Field.DST);
    const protocol = b[at + Ipv4Field.PROTOCOL]!;
    if (src === IPV4_BROADCAST || isMulticastIpv4(src)) {
      this.stats.ipBadHeader++; // RFC 1122 §3.2.1.3: not a valid source
      return;
    }
    const a = this.addr;
    const unicastToUs = (a !== undefined && dst === a.address) || dst >>> 24 === LOOPBACK_NET;
    const broadcast = dst === IPV4_BROADCAST || (a !== undefined && ((dst ^ a.address) & a.netmask) === 0 && (dst | a.netmask) >>> 0 === IPV4_BROADCAST);
    if (!unicastToUs && !broadcast && !(a === undefined && protocol === IP_PROTO_UDP)) {
      this.stats.ipNotForUs++;
      return;
    }
    const unicast = unicastToUs && !linkBroadcast;
    const start = at + hl;
    const end = at + total;
    switch (protocol) {
      case IP_PROTO_TCP:
        if (!unicast) return;
        if (this.tcp) this.tcp.input(src, dst, b.subarray(start, end));
        else this.unreachable(ICMP_UNREACH_PROTOCOL, b, at, end, src);
        return;
      case IP_PROTO_UDP:
        this.receiveUdp(b, at, start, end, src, dst, unicast);
        return;
      case IP_PROTO_ICMP:
        this.receiveIcmp(b, start, end, src, dst, unicast);
        return;
      default:
        this.stats.ipUnknownProtocol++;
        if (unicast) this.unreachable(ICMP_UNREACH_PROTOCOL, b, at, end, src);
    }
  }

  private receiveUdp(b: Uint8Array, ipAt: number, start: number, end: number, src: Ipv4Addr, dst: Ipv4Addr, unicast: boolean): void {
    const len = end - start;
    const udpLen = len >= UDP_HEADER_LEN ? be16(b, start + 4) : 0;
    if (udpLen < UDP_HEADER_LEN || udpLen > len) {
      this.stats.udpBadChecksum++;
      return;
    }
    if (be16(b, start + 6) !== 0 && finishChecksum(sumWords(b, start, start + udpLen, pseudoHeaderSum(src, dst, IP_PROTO_UDP, udpLen))) !== 0) {
      this.stats.udpBadChecksum++;
      return;
    }
    const port = be16(b, start + 2);
    const binding = this.udp.get(port);
    if (binding && (binding.addr === 0 || binding.addr === dst || !unicast)) {
      binding.onDatagram?.(b.subarray(start + UDP_HEADER_LEN, start + udpLen), src, be16(b, start), dst);
      return;
    }
    this.stats.udpNoPort++;
    if (unicast) this.unreachable(ICMP_UNREACH_PORT, b, ipAt, end, src);
  }

  private receiveIcmp(b: Uint8Array, start: number, end: number, src: Ipv4Addr, dst: Ipv4Addr, unicast: boolean): void {
    const len = end - start;
    if (len < ICMP_HEADER_LEN || internetChecksum(b, start, end) !== 0) {
      this.stats.ipBadChecksum++;
      return;
    }
    const type = b[start]!;
    if (type === ICMP_ECHO_REQUEST && unicast) {
      if (IPV4_HEADER_LEN + len > this.mtu) return;
      const at = ETHERNET_HEADER_LEN + IPV4_HEADER_LEN;
      const t = this.tx;
      t.set(b.subarray(start, end), at);
      t[at] = ICMP_ECHO_REPLY;
      t[at + 2] = 0;
      t[at + 3] = 0;
      const sum = internetChecksum(t, at, at + len);
      t[at + 2] = sum >>> 8;
      t[at + 3] = sum;
      this.stats.icmpEchoRepliesSent++;
      this.sendIpv4(dst, src, IP_PROTO_ICMP, len);
    } else if (type === ICMP_DEST_UNREACHABLE || type === ICMP_TIME_EXCEEDED) {
      this.stats.icmpErrorsReceived++;
    }
  }

  /**
   * Destination unreachable (`code`) for the packet b[ipAt, end) from `src`: rate limited, never
   * about an ICMP error or to a source that is not a single host (RFC 1122 §3.2.2).
   */
  private unreachable(code: number, b: Uint8Array, ipAt: number, end: number, src: Ipv4Addr): void {
    if (src === 0 || !this.addr) return;
    if (b[ipAt + Ipv4Field.PROTOCOL] === IP_PROTO_ICMP) {
      const hl = (b[ipAt]! & 0x0f) * 4;
      const type = ipAt + hl < end ? b[ipAt + hl]! : ICMP_DEST_UNREACHABLE;
      if (type !== ICMP_ECHO_REQUEST && type !== ICMP_ECHO_REPLY) return;
    }
    const now = this.now();
    this.icmpTokens = Math.min(ICMP_ERROR_BURST, this.icmpTokens + ((now - this.icmpTokensAt) * ICMP_ERRORS_PER_S) / 1000);
    this.icmpTokensAt = now;
    if (this.icmpTokens < 1) {
      this.stats.icmpRateLimited++;
      return;
    }
    this.icmpTokens -= 1;
    const hl = (b[ipAt]! & 0x0f) * 4;
    const quoteEnd = Math.min(end, ipAt + hl + ICMP_ERROR_QUOTE_PAYLOAD);
    const len = ICMP_HEADER_LEN + (quoteEnd - ipAt);
    const at = ETHERNET_HEADER_LEN + IPV4_HEADER_LEN;
    const t = this.tx;
    t.fill(0, at, at + ICMP_HEADER_LEN);
    t[at] = ICMP_DEST_UNREACHABLE;
    t[at + 1] = code;
    t.set(b.subarray(ipAt, quoteEnd), at + ICMP_HEADER_LEN);
    const sum = internetChecksum(t, at, at + len);
    t[at + 2] = sum >>> 8;
    t[at + 3] = sum;
    this.stats.icmpErrorsSent++;
    this.sendIpv4(this.addr.address, src, IP_PROTO_ICMP, len);
  }

  // ── time ──

  /** Runs what is due: ARP retries and expiry, packets looped back to ourselves. */
  poll(): void {
    this.arp.poll(this.now());
    while (this.loopback.length > 0) {
      const q = this.loopback;
      this.loopback = [];
      for (let i = 0; i < q.length; i++) this.receiveIpv4(q[i]!, 0, false);
    }
  }

  /** When poll() next has work (now, with looped-back packets waiting), or undefined. */
  nextDeadline(): number | undefined {
    if (this.loopback.length > 0) return this.now();
    return this.arp.nextDeadline();
  }
}
