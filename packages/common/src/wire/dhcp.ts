// DHCP messages (RFC 2131 §2, BOOTP's fixed 236-byte header, the magic cookie, then RFC 2132
// options). Only Ethernet hardware addresses (htype 1, hlen 6). parse returns null for
// anything that is not a DHCP message (no cookie, no message-type option, an option running
// past the end); it skips options it does not know and ignores option overload (sname/file
// stay unparsed). emit pads the message to BOOTP's 300-byte minimum (RFC 1542 §2.1).

import { readMac, writeMac, type MacAddr } from './ethernet.ts';
import { readIpv4, writeIpv4, type Ipv4Addr } from './ipv4.ts';

export const DHCP_SERVER_PORT = 67;
export const DHCP_CLIENT_PORT = 68;
export const DHCP_MAGIC_COOKIE = 0x63825363;
export const DHCP_FIXED_LEN = 236;
export const DHCP_OPTIONS_AT = 240;
export const DHCP_MIN_LEN = 300;
export const BOOTREQUEST = 1;
export const BOOTREPLY = 2;
export const DHCP_FLAG_BROADCAST = 0x8000;

/** Message types (option 53). */
export const DHCPDISCOVER = 1;
export const DHCPOFFER = 2;
export const DHCPREQUEST = 3;
export const DHCPDECLINE = 4;
export const DHCPACK = 5;
export const DHCPNAK = 6;
export const DHCPRELEASE = 7;
export const DHCPINFORM = 8;

/** Option codes (RFC 2132). */
export const DhcpOption = {
  PAD: 0, SUBNET_MASK: 1, ROUTER: 3, DNS: 6, HOSTNAME: 12, REQUESTED_IP: 50, LEASE_TIME: 51, MESSAGE_TYPE: 53, SERVER_ID: 54,
  PARAMETER_REQUEST_LIST: 55, MESSAGE: 56, MAX_MESSAGE_SIZE: 57, RENEWAL_TIME: 58, REBINDING_TIME: 59, CLIENT_ID: 61, END: 255,
} as const;

/** Byte offsets of the fixed fields. */
export const DhcpField = {
  OP: 0, HTYPE: 1, HLEN: 2, HOPS: 3, XID: 4, SECS: 8, FLAGS: 10, CIADDR: 12, YIADDR: 16, SIADDR: 20, GIADDR: 24, CHADDR: 28,
  SNAME: 44, FILE: 108, COOKIE: 236,
} as const;

export interface DhcpRepr {
  op: typeof BOOTREQUEST | typeof BOOTREPLY;
  messageType: number;
  xid: number;
  /** Seconds since the client began (requests). */
  secs: number;
  /** The client asks for broadcast replies. */
  broadcast: boolean;
  clientIp: Ipv4Addr;
  yourIp: Ipv4Addr;
  serverIp: Ipv4Addr;
  relayIp: Ipv4Addr;
  clientMac: MacAddr;
  serverId?: Ipv4Addr;
  requestedIp?: Ipv4Addr;
  subnetMask?: Ipv4Addr;
  routers?: Ipv4Addr[];
  dnsServers?: Ipv4Addr[];
  /** Seconds (0xffffffff = infinite). */
  leaseTime?: number;
  renewalTime?: number;
  rebindingTime?: number;
  /** ASCII. */
  hostname?: string;
  parameterRequestList?: number[];
  maxMessageSize?: number;
  message?: string;
  clientId?: Uint8Array;
}

const be16 = (b: Uint8Array, at: number): number => (b[at]! << 8) | b[at + 1]!;
const be32 = (b: Uint8Array, at: number): number => readIpv4(b, at);

function ascii(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i]!);
  return s;
}

function addrList(v: Uint8Array): Ipv4Addr[] | null {
  if (v.length === 0 || v.length % 4 !== 0) return null;
  const out: Ipv4Addr[] = [];
  for (let i = 0; i < v.length; i += 4) out.push(readIpv4(v, i));
  return out;
}

/** Repr of one DHCP message, or null (never throws). */
export function parseDhcp(b: Uint8Array): DhcpRepr | null {
  if (b.length < DHCP_OPTIONS_AT) return null;
  const op = b[DhcpField.OP]!;
  if ((op !== BOOTREQUEST && op !== BOOTREPLY) || b[DhcpField.HTYPE] !== 1 || b[DhcpField.HLEN] !== 6) return null;
  if (be32(b, DhcpField.COOKIE) !== DHCP_MAGIC_COOKIE) return null;
  const r: DhcpRepr = {
    op, messageType: 0, xid: be32(b, DhcpField.XID), secs: be16(b, DhcpField.SECS), broadcast: (be16(b, DhcpField.FLAGS) & DHCP_FLAG_BROADCAST) !== 0,
    clientIp: readIpv4(b, DhcpField.CIADDR), yourIp: readIpv4(b, DhcpField.YIADDR), serverIp: readIpv4(b, DhcpField.SIADDR),
    relayIp: readIpv4(b, DhcpField.GIADDR), clientMac: readMac(b, DhcpField.CHADDR),
  };
  let i = DHCP_OPTIONS_AT;
  for (;;) {
    if (i >= b.length) return null; // no END option
    const code = b[i]!;
    if (code === DhcpOption.END) break;
    if (code === DhcpOption.PAD) {
      i++;
      continue;
    }
    if (i + 2 > b.length) return null;
    const len = b[i + 1]!;
    const v = b.subarray(i + 2, i + 2 + len);
    if (v.length !== len) return null;
    i += 2 + len;
    switch (code) {
      case DhcpOption.MESSAGE_TYPE:
        if (len !== 1) return null;
        r.messageType = v[0]!;
        break;
      case DhcpOption.SUBNET_MASK:
        if (len === 4) r.subnetMask = readIpv4(v, 0);
        break;
      case DhcpOption.SERVER_ID:
        if (len === 4) r.serverId = readIpv4(v, 0);
        break;
      case DhcpOption.REQUESTED_IP:
        if (len === 4) r.requestedIp = readIpv4(v, 0);
        break;
      case DhcpOption.ROUTER: {
        const l = addrList(v);
        if (l) r.routers = l;
        break;
      }
      case DhcpOption.DNS: {
        const l = addrList(v);
        if (l) r.dnsServers = l;
        break;
      }
      case DhcpOption.LEASE_TIME:
        if (len === 4) r.leaseTime = be32(v, 0);
        break;
      case DhcpOption.RENEWAL_TIME:
        if (len === 4) r.renewalTime = be32(v, 0);
        break;
      case DhcpOption.REBINDING_TIME:
        if (len === 4) r.rebindingTime = be32(v, 0);
        break;
      case DhcpOption.HOSTNAME:
        r.hostname = ascii(v);
        break;
      case DhcpOption.MESSAGE:
        r.message = ascii(v);
        break;
      case DhcpOption.MAX_MESSAGE_SIZE:
        if (len === 2) r.maxMessageSize = be16(v, 0);
        break;
      case DhcpOption.PARAMETER_REQUEST_LIST:
        r.parameterRequestList = Array.from(v);
        break;
      case DhcpOption.CLIENT_ID:
        r.clientId = v.slice();
        break;
      default:
        break;
    }
  }
  return r.messageType >= DHCPDISCOVER && r.messageType <= DHCPINFORM ? r : null;
}

function optionsLen(r: DhcpRepr): number {
  let n = 3; // message type
  if (r.serverId !== undefined) n += 6;
  if (r.requestedIp !== undefined) n += 6;
  if (r.subnetMask !== undefined) n += 6;
  if (r.routers) n += 2 + 4 * r.routers.length;
  if (r.dnsServers) n += 2 + 4 * r.dnsServers.length;
  if (r.leaseTime !== undefined) n += 6;
  if (r.renewalTime !== undefined) n += 6;
  if (r.rebindingTime !== undefined) n += 6;
  if (r.hostname !== undefined) n += 2 + r.hostname.length;
  if (r.message !== undefined) n += 2 + r.message.length;
  if (r.maxMessageSize !== undefined) n += 4;
  if (r.parameterRequestList) n += 2 + r.parameterRequestList.length;
  if (r.clientId) n += 2 + r.clientId.length;
  return n + 1; // END
}

export function dhcpBufferLen(repr: DhcpRepr): number {
  return Math.max(DHCP_MIN_LEN, DHCP_OPTIONS_AT + optionsLen(repr));
}

/**
 * Writes the message into buffer[0, dhcpBufferLen(repr)) (zeroing sname, file and the padding).
 * Throws RangeError for an option longer than 255 bytes (a list of 64+ addresses, a long hostname).
 */
export function emitDhcp(r: DhcpRepr, b: Uint8Array): void {
  const end = dhcpBufferLen(r);
  b.fill(0, 0, end);
  b[DhcpField.OP] = r.op;
  b[DhcpField.HTYPE] = 1;
  b[DhcpField.HLEN] = 6;
  writeIpv4(b, DhcpField.XID, r.xid);
  b[DhcpField.SECS] = r.secs >>> 8;
  b[DhcpField.SECS + 1] = r.secs;
  b[DhcpField.FLAGS] = r.broadcast ? DHCP_FLAG_BROADCAST >>> 8 : 0;
  writeIpv4(b, DhcpField.CIADDR, r.clientIp);
  writeIpv4(b, DhcpField.YIADDR, r.yourIp);
  writeIpv4(b, DhcpField.SIADDR, r.serverIp);
  writeIpv4(b, DhcpField.GIADDR, r.relayIp);
  writeMac(b, DhcpField.CHADDR, r.clientMac);
  writeIpv4(b, DhcpField.COOKIE, DHCP_MAGIC_COOKIE);
  let i = DHCP_OPTIONS_AT;
  const opt = (code: number, len: number): number => {
    if (len > 255) throw new RangeError(`DHCP option ${code} is ${len} bytes long (at most 255)`);
    b[i] = code;
    b[i + 1] = len;
    i += 2 + len;
    return i - len;
  };
  const addr = (code: number, a: Ipv4Addr | undefined): void => {
    if (a !== undefined) writeIpv4(b, opt(code, 4), a);
  };
  const u32 = addr;
  const list = (code: number, l: Ipv4Addr[] | undefined): void => {
    if (!l) return;
    const at = opt(code, 4 * l.length);
    for (let k = 0; k < l.length; k++) writeIpv4(b, at + 4 * k, l[k]!);
  };
  const text = (code: number, s: string | undefined): void => {
    if (s === undefined) return;
    const at = opt(code, s.length);
    for (let k = 0; k < s.length; k++) b[at + k] = s.charCodeAt(k);
  };
  // client options first (RFC 2131 §4.4.1's order of importance), then the server's
  b[opt(DhcpOption.MESSAGE_TYPE, 1)] = r.messageType;
  addr(DhcpOption.SERVER_ID, r.serverId);
  addr(DhcpOption.REQUESTED_IP, r.requestedIp);
  if (r.parameterRequestList) b.set(r.parameterRequestList, opt(DhcpOption.PARAMETER_REQUEST_LIST, r.parameterRequestList.length));
  if (r.maxMessageSize !== undefined) {
    const at = opt(DhcpOption.MAX_MESSAGE_SIZE, 2);
    b[at] = r.maxMessageSize >>> 8;
    b[at + 1] = r.maxMessageSize;
  }
  if (r.clientId) b.set(r.clientId, opt(DhcpOption.CLIENT_ID, r.clientId.length));
  text(DhcpOption.HOSTNAME, r.hostname);
  addr(DhcpOption.SUBNET_MASK, r.subnetMask);
  list(DhcpOption.ROUTER, r.routers);
  list(DhcpOption.DNS, r.dnsServers);
  u32(DhcpOption.LEASE_TIME, r.leaseTime);
  u32(DhcpOption.RENEWAL_TIME, r.renewalTime);
  u32(DhcpOption.REBINDING_TIME, r.rebindingTime);
  text(DhcpOption.MESSAGE, r.message);
  b[i] = DhcpOption.END;
}
