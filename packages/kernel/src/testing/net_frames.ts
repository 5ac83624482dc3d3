// Frame builders and a decoder for the network stack's tests: what a peer on the link would
// send (ARP, IPv4 with UDP/ICMP/anything, DHCP server replies) built with the wire emitters,
// and each transmitted frame taken apart into plain objects to assert on. Pure TS.

import { ARP_LEN, emitArp, parseArp, type ArpRepr } from '@kiln/common/wire/arp.ts';
import { internetChecksum } from '@kiln/common/wire/checksum.ts';
import { dhcpBufferLen, emitDhcp, parseDhcp, type DhcpRepr } from '@kiln/common/wire/dhcp.ts';
import { ETHERNET_HEADER_LEN, ETHERTYPE_ARP, ETHERTYPE_IPV4, parseEthernet, writeEthernetHeader, type MacAddr } from '@kiln/common/wire/ethernet.ts';
import { emitIcmp, icmpBufferLen, parseIcmp, type IcmpRepr } from '@kiln/common/wire/icmp.ts';
import { IPV4_HEADER_LEN, IP_PROTO_ICMP, IP_PROTO_UDP, Ipv4Packet, parseIpv4Addr, writeIpv4Header, type Ipv4Addr } from '@kiln/common/wire/ipv4.ts';
import { emitUdp, parseUdp, udpBufferLen } from '@kiln/common/wire/udp.ts';

export const ip = (text: string): Ipv4Addr => {
  const a = parseIpv4Addr(text);
  if (a === undefined) throw new Error(`bad address ${text}`);
  return a;
};

export function ethFrame(dst: MacAddr, src: MacAddr, ethertype: number, payload: Uint8Array): Uint8Array {
  const f = new Uint8Array(ETHERNET_HEADER_LEN + payload.length);
  writeEthernetHeader(f, dst, src, ethertype);
  f.set(payload, ETHERNET_HEADER_LEN);
  return f;
}

export function arpFrame(ethDst: MacAddr, r: ArpRepr): Uint8Array {
  const p = new Uint8Array(ARP_LEN);
  emitArp(r, p);
  return ethFrame(ethDst, r.senderMac, ETHERTYPE_ARP, p);
}

export interface IpOpts {
  ttl?: number;
  dontFragment?: boolean;
  /** Raw flags/fragment-offset word (overrides dontFragment). */
  flagsFrag?: number;
}

export function ipv4(src: Ipv4Addr, dst: Ipv4Addr, protocol: number, payload: Uint8Array, o: IpOpts = {}): Uint8Array {
  const b = new Uint8Array(IPV4_HEADER_LEN + payload.length);
  b.set(payload, IPV4_HEADER_LEN);
  if (o.flagsFrag !== undefined) {
    writeIpv4Header(b, 0, src, dst, protocol, payload.length, o.ttl ?? 64, 7, false);
    b[6] = o.flagsFrag >>> 8;
    b[7] = o.flagsFrag & 0xff;
    b[10] = 0;
    b[11] = 0;
    const sum = internetChecksum(b, 0, IPV4_HEADER_LEN);
    b[10] = sum >>> 8;
    b[11] = sum & 0xff;
  } else {
    writeIpv4Header(b, 0, src, dst, protocol, payload.length, o.ttl ?? 64, 7, o.dontFragment ?? true);
  }
  return b;
}

export function udp(src: Ipv4Addr, srcPort: number, dst: Ipv4Addr, dstPort: number, payload: Uint8Array): Uint8Array {
  const b = new Uint8Array(udpBufferLen({ payload }));
  emitUdp({ srcPort, dstPort, payload }, b, src, dst);
  return b;
}

export function icmp(r: IcmpRepr): Uint8Array {
  const b = new Uint8Array(icmpBufferLen(r));
  emitIcmp(r, b);
  return b;
}

export function dhcp(m: DhcpRepr): Uint8Array {
  const b = new Uint8Array(dhcpBufferLen(m));
  emitDhcp(m, b);
  return b;
}

export interface Decoded {
  ethDst: MacAddr;
  ethSrc: MacAddr;
  ethertype: number;
  arp?: ArpRepr;
  ip?: { src: Ipv4Addr; dst: Ipv4Addr; protocol: number; ttl: number; dontFragment: boolean; checksumOk: boolean; payload: Uint8Array };
  udp?: { srcPort: number; dstPort: number; payload: Uint8Array };
  icmp?: IcmpRepr;
  dhcp?: DhcpRepr;
}

/** Takes one frame apart (throws when a layer that should parse does not). */
export function decode(frame: Uint8Array): Decoded {
  const e = parseEthernet(frame);
  if (!e) throw new Error('not an Ethernet frame');
  const d: Decoded = { ethDst: e.dst, ethSrc: e.src, ethertype: e.ethertype };
  const payload = frame.subarray(ETHERNET_HEADER_LEN);
  if (e.ethertype === ETHERTYPE_ARP) {
    const a = parseArp(payload);
    if (!a) throw new Error('bad ARP');
    d.arp = a;
  } else if (e.ethertype === ETHERTYPE_IPV4) {
    const p = Ipv4Packet.check(payload);
    if (!p) throw new Error('bad IPv4');
    d.ip = { src: p.src, dst: p.dst, protocol: p.protocol, ttl: p.ttl, dontFragment: p.dontFragment, checksumOk: p.verifyChecksum(), payload: p.payload.slice() };
    if (p.protocol === IP_PROTO_UDP) {
      const u = parseUdp(p.payload, p.src, p.dst);
      if (!u) throw new Error('bad UDP');
      d.udp = { srcPort: u.srcPort, dstPort: u.dstPort, payload: u.payload.slice() };
      const m = u.dstPort === 67 ? parseDhcp(u.payload) : null;
      if (m) d.dhcp = m;
    } else if (p.protocol === IP_PROTO_ICMP) {
      const c = parseIcmp(p.payload);
      if (!c) throw new Error('bad ICMP');
      d.icmp = c;
    }
  }
  return d;
}
