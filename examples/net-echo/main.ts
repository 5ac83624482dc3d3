// Answers ARP requests for 10.0.2.15 and ICMP echo requests (ping) on NIC 0 with hand-built
// Ethernet/ARP/IPv4/ICMP frames (the TCP/IP stack comes later). Arguments: [N [GATEWAY]]:
// exit after N echo replies (0: never, the default), and first ask who has GATEWAY (ARP) and
// print the answer — with N = 0 and a gateway, exit once it answered.
// Run: kiln run net-echo.elf --net tap=tap0 -- 3     (then: ping -c 3 10.0.2.15)
//      kiln run net-echo.elf --net user -- 0 10.0.2.2

import { openNetDevice } from 'kiln:netdev';
import process from 'kiln:process';

const MY_IP = [10, 0, 2, 15];
const ETH_ARP = 0x0806;
const ETH_IPV4 = 0x0800;

const hex = (b: Uint8Array): string => [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');
const ip = (b: ArrayLike<number>): string => Array.from(b).join('.');
const be16 = (b: Uint8Array, o: number): number => (b[o]! << 8) | b[o + 1]!;
const put16 = (b: Uint8Array, o: number, v: number): void => {
  b[o] = (v >> 8) & 0xff;
  b[o + 1] = v & 0xff;
};
const isMine = (b: Uint8Array, o: number): boolean => MY_IP.every((x, i) => b[o + i] === x);

/** RFC 1071 Internet checksum of b[start, end). */
function checksum(b: Uint8Array, start: number, end: number): number {
  let sum = 0;
  for (let i = start; i < end; i += 2) sum += (b[i]! << 8) | (i + 1 < end ? b[i + 1]! : 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

function arpFrame(mac: Uint8Array, op: number, dstMac: Uint8Array, targetMac: Uint8Array, targetIp: ArrayLike<number>): Uint8Array {
  const f = new Uint8Array(42);
  f.set(dstMac, 0);
  f.set(mac, 6);
  put16(f, 12, ETH_ARP);
  put16(f, 14, 1); // Ethernet
  put16(f, 16, ETH_IPV4);
  f[18] = 6;
  f[19] = 4;
  put16(f, 20, op);
  f.set(mac, 22);
  f.set(MY_IP, 28);
  f.set(targetMac, 32);
  f.set(Array.from(targetIp), 38);
  return f;
}

async function main(): Promise<void> {
  const nic = await openNetDevice(0);
  const want = Number(process.args[0] ?? 0);
  const gateway = process.args[1]?.split('.').map(Number);
  let replies = 0;
  console.log(`net-echo: ${ip(MY_IP)} at ${hex(nic.mac)}, mtu ${nic.mtu}`);
  const stop = nic.listen((f) => {
    const type = be16(f, 12);
    if (type === ETH_ARP && f.length >= 42 && be16(f, 20) === 1 && isMine(f, 38)) {
      void nic.write(arpFrame(nic.mac, 2, f.subarray(6, 12), f.subarray(22, 28), f.subarray(28, 32)));
    } else if (type === ETH_ARP && f.length >= 42 && be16(f, 20) === 2 && gateway && ip(f.subarray(28, 32)) === ip(gateway)) {
      console.log(`net-echo: ${ip(gateway)} is at ${hex(f.subarray(22, 28))}`);
      if (want === 0) stop();
    } else if (type === ETH_IPV4 && f.length >= 34 && isMine(f, 30) && f[23] === 1) {
      const ihl = (f[14]! & 0x0f) * 4;
      const total = be16(f, 16);
      const icmp = 14 + ihl;
      if (f[icmp] !== 8 || total > f.length - 14 || icmp + 8 > 14 + total) return;
      const r = f.slice(0, 14 + total);
      r.set(f.subarray(6, 12), 0); // Ethernet: back to the sender
      r.set(nic.mac, 6);
      r.set(f.subarray(30, 34), 26); // IPv4: swap addresses
      r.set(f.subarray(26, 30), 30);
      r[22] = 64; // TTL
      put16(r, 24, 0);
      put16(r, 24, checksum(r, 14, 14 + ihl));
      r[icmp] = 0; // echo reply
      put16(r, icmp + 2, 0);
      put16(r, icmp + 2, checksum(r, icmp, 14 + total));
      void nic.write(r).then(() => {
        replies++;
        console.log(`net-echo: echo reply ${replies} to ${ip(f.subarray(26, 30))} seq ${be16(f, icmp + 6)}`);
        if (want > 0 && replies >= want) {
          console.log(`net-echo: done, ${JSON.stringify(nic.stats())}`);
          stop();
        }
      });
    }
  });
  if (gateway) await nic.write(arpFrame(nic.mac, 1, new Uint8Array(6).fill(0xff), new Uint8Array(6), gateway));
}

main().catch((err: unknown) => {
  console.error(`net-echo: ${(err as Error).message}`);
  process.exit(1);
});
