// Addon tests against the real /dev/kvm (skipped with the reason printed when it is not
// usable): tiny real-mode guests assembled by hand exercise port I/O (single and string),
// MMIO, HLT, stopping a spinning vCPU, ioeventfd/irqfd, and the typed error codes.

import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Kvm, probeKvm, KvmError, type VcpuExit, type HvVcpu, type Vm, type GuestMemory } from './index.ts';

const probe = probeKvm();
if (!probe.ok) console.log(`# skipping KVM tests: ${probe.reason}`);
const skip = probe.ok ? false : `KVM not usable: ${probe.reason}`;

const CODE = 0x1000;

/** A VM with 64 KiB of RAM at 0 and one vCPU in real mode at cs:ip = 0:0x1000. */
function realModeVm(code: number[], opts: { irqchip?: boolean } = {}): { kvm: Kvm; vm: Vm; mem: GuestMemory; vcpu: HvVcpu; close(): void } {
  const kvm = Kvm.open();
  const vm = kvm.createVm();
  const mem = kvm.createMemory(0x10000);
  vm.mapMemory({ slot: 0, guestPhysAddr: 0, memory: mem, offset: 0, size: mem.size });
  if (opts.irqchip) vm.createIrqchip();
  mem.bytes.set(code, CODE);
  const vcpu = vm.createVcpu(0);
  vcpu.setSregs({ cs: { base: 0, selector: 0 }, ds: { base: 0, selector: 0 }, es: { base: 0, selector: 0 } });
  vcpu.setRegs({ rip: CODE, rflags: 2 });
  return {
    kvm,
    vm,
    mem,
    vcpu,
    close() {
      vm.close();
      mem.free();
      kvm.close();
    },
  };
}

describe('kvm addon (real /dev/kvm)', { skip }, () => {
  test('reports API version 12, mmap size and supported CPUID', () => {
    const kvm = Kvm.open();
    try {
      assert.equal(kvm.apiVersion, 12);
      assert.ok(kvm.vcpuMmapSize >= 4096);
      const cpuid = kvm.supportedCpuid();
      assert.ok(cpuid.some((e) => e.function === 0));
      const hv = cpuid.find((e) => e.function === 0x40000000);
      assert.ok(hv, 'hypervisor leaf 0x40000000 present');
    } finally {
      kvm.close();
    }
  });

  test('out, in, hlt exits in order; in answered by the handler', async () => {
    // mov dx,0x3f8; mov al,'A'; out dx,al; in al,dx; out 0x80,al; hlt
    const g = realModeVm([0xba, 0xf8, 0x03, 0xb0, 0x41, 0xee, 0xec, 0xe6, 0x80, 0xf4]);
    try {
      const exits: VcpuExit[] = [];
      const done = await g.vcpu.run((e) => {
        exits.push(e);
        if (e.kind === 'io' && e.direction === 'in') return new Uint8Array([0x5a]);
        if (e.kind !== 'io') g.vcpu.stop();
        return undefined;
      });
      assert.equal(done.error, undefined);
      assert.deepEqual(
        exits.map((e) => (e.kind === 'io' ? `${e.direction} ${e.port.toString(16)} ${e.size} ${e.data ? [...e.data].join(',') : ''}` : e.kind)),
        ['out 3f8 1 65', 'in 3f8 1 ', 'out 80 1 90', 'hlt'],
      );
      for (let i = 1; i < exits.length; i++) assert.ok(exits[i]!.timeNs >= exits[i - 1]!.timeNs, 'timestamps are monotonic');
      const now = process.hrtime.bigint();
      assert.ok(exits[0]!.timeNs <= now && now - exits[0]!.timeNs < 10_000_000_000n, 'exit time is CLOCK_MONOTONIC');
    } finally {
      g.close();
    }
  });

  test('port sink: one-byte OUTs to the sink port go straight to the fd, other exits to the handler', async () => {
    const { mkdtempSync, openSync, closeSync, readFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const file = join(mkdtempSync(join(tmpdir(), 'kiln-sink-')), 'out');
    const fd = openSync(file, 'w');
    // mov dx,0x3f8; mov al,'h'; out dx,al; mov al,'i'; out dx,al; out 0x80,al; hlt
    const g = realModeVm([0xba, 0xf8, 0x03, 0xb0, 0x68, 0xee, 0xb0, 0x69, 0xee, 0xe6, 0x80, 0xf4]);
    try {
      assert.equal(g.vcpu.setPortSink({ port: 0x3f8, fd }), 0);
      const exits: string[] = [];
      await g.vcpu.run((e) => {
        exits.push(e.kind === 'io' ? `${e.direction} ${e.port.toString(16)}` : e.kind);
        if (e.kind !== 'io') g.vcpu.stop();
        return undefined;
      });
      assert.deepEqual(exits, ['out 80', 'hlt'], 'the sink port never reached the handler');
      assert.equal(g.vcpu.setPortSink(null), 2, 'two bytes went through the sink');
      closeSync(fd);
      assert.equal(readFileSync(file, 'utf8'), 'hi');
    } finally {
      g.close();
    }
  });

  test('status register: MMIO reads and ACK writes at the registered addresses are answered from the shared word', async () => {
    // mov ax,0xd000; mov ds,ax; mov eax,[0x60]; out 0x80,eax; mov dword [0x64],1;
    // mov eax,[0x60]; out 0x80,eax; mov eax,[0x68]; hlt
    const g = realModeVm([
      0xb8, 0x00, 0xd0, 0x8e, 0xd8, 0x66, 0xa1, 0x60, 0x00, 0x66, 0xe7, 0x80, 0x66, 0xc7, 0x06, 0x64, 0x00, 0x01, 0x00, 0x00, 0x00,
      0x66, 0xa1, 0x60, 0x00, 0x66, 0xe7, 0x80, 0x66, 0xa1, 0x68, 0x00, 0xf4,
    ]);
    try {
      const word = new Int32Array(new SharedArrayBuffer(4));
      word[0] = 3;
      g.vcpu.addStatusRegister(0xd0060, 0xd0064, word);
      assert.throws(() => g.vcpu.addStatusRegister(0xd0060, 0xd0064, new Int32Array(1)), /SharedArrayBuffer/);
      const exits: string[] = [];
      await g.vcpu.run((e) => {
        if (e.kind === 'io') exits.push(`out ${e.port.toString(16)} ${new DataView(e.data!.buffer, e.data!.byteOffset).getUint32(0, true)}`);
        else if (e.kind === 'mmio') exits.push(`mmio ${e.isWrite ? 'write' : 'read'} ${e.physAddr.toString(16)}`);
        else {
          exits.push(e.kind);
          g.vcpu.stop();
        }
        return e.kind === 'mmio' ? new Uint8Array(4) : undefined;
      });
      assert.deepEqual(exits, ['out 80 3', 'out 80 2', 'mmio read d0068', 'hlt'], 'status/ACK never reached the handler; other addresses did');
      assert.equal(word[0], 2, 'the ACK cleared bit 0');
    } finally {
      g.close();
    }
  });

  test('string port I/O: rep outsb and rep insb', async () => {
    // mov si,0x1100; mov cx,5; mov dx,0x3f8; rep outsb;
    // mov di,0x1200; mov cx,4; rep insb; hlt
    const g = realModeVm([0xbe, 0x00, 0x11, 0xb9, 0x05, 0x00, 0xba, 0xf8, 0x03, 0xf3, 0x6e, 0xbf, 0x00, 0x12, 0xb9, 0x04, 0x00, 0xf3, 0x6c, 0xf4]);
    g.mem.bytes.set(new TextEncoder().encode('hello'), 0x1100);
    try {
      let out = '';
      let outExits = 0;
      let maxCount = 0;
      const input = new TextEncoder().encode('abcd');
      let inPos = 0;
      await g.vcpu.run((e) => {
        if (e.kind === 'io' && e.direction === 'out') {
          outExits++;
          maxCount = Math.max(maxCount, e.count);
          out += new TextDecoder().decode(e.data);
          return undefined;
        }
        if (e.kind === 'io' && e.direction === 'in') {
          const r = input.subarray(inPos, inPos + e.count);
          inPos += e.count;
          return r;
        }
        g.vcpu.stop();
        return undefined;
      });
      assert.equal(out, 'hello');
      // VT-x KVM delivers the whole string in one exit (count 5); this host's PVM emulator
      // delivers one exit per byte. Either way the bytes and their order must be right.
      console.log(`# rep outsb of 5 bytes: ${outExits} exit(s), largest count ${maxCount}`);
      assert.ok(maxCount * outExits >= 5);
      assert.equal(new TextDecoder().decode(g.mem.bytes.subarray(0x1200, 0x1204)), 'abcd');
    } finally {
      g.close();
    }
  });

  test('MMIO write and read outside memory slots', async () => {
    // mov ax,0x2000; mov ds,ax; mov byte [0],0x42; mov bx,[4]; mov ax,bx; mov dx,0x80; out dx,ax; hlt
    const g = realModeVm([0xb8, 0x00, 0x20, 0x8e, 0xd8, 0xc6, 0x06, 0x00, 0x00, 0x42, 0x8b, 0x1e, 0x04, 0x00, 0x89, 0xd8, 0xba, 0x80, 0x00, 0xef, 0xf4]);
    try {
      const seen: string[] = [];
      await g.vcpu.run((e) => {
        if (e.kind === 'mmio') {
          seen.push(`${e.isWrite ? 'W' : 'R'} ${e.physAddr.toString(16)} ${e.len}${e.data ? ' ' + [...e.data].join(',') : ''}`);
          return e.isWrite ? undefined : 0xbeef;
        }
        if (e.kind === 'io') {
          seen.push(`out ${e.port.toString(16)} ${e.size} ${[...e.data!].join(',')}`);
          return undefined;
        }
        seen.push(e.kind);
        g.vcpu.stop();
        return undefined;
      });
      assert.deepEqual(seen, ['W 20000 1 66', 'R 20004 2', 'out 80 2 239,190', 'hlt']);
    } finally {
      g.close();
    }
  });

  test('stop() ends a vCPU spinning in jmp . and close() releases it', async () => {
    const g = realModeVm([0xeb, 0xfe]);
    try {
      const exits: VcpuExit[] = [];
      const t0 = Date.now();
      const p = g.vcpu.run((e) => {
        exits.push(e);
      });
      await new Promise((r) => setTimeout(r, 100));
      g.vcpu.stop();
      const done = await p;
      assert.equal(exits.length, 0);
      assert.equal(done.error, undefined);
      assert.ok(Date.now() - t0 < 5000);
    } finally {
      g.close();
    }
  });

  test('close() without stop() ends a spinning vCPU (no hang)', async () => {
    const g = realModeVm([0xeb, 0xfe]);
    const p = g.vcpu.run(() => undefined);
    await new Promise((r) => setTimeout(r, 20));
    g.close();
    const done = await p;
    assert.ok(done.runs >= 1);
  });

  test('a handler that throws stops the vCPU and is reported', async () => {
    const g = realModeVm([0xe6, 0x80, 0xeb, 0xfe]); // out 0x80,al; jmp .
    try {
      const done = await g.vcpu.run(() => {
        throw new Error('boom');
      });
      assert.match(done.handlerError ?? '', /boom/);
    } finally {
      g.close();
    }
  });

  test('many VMs one after another release their resources', async () => {
    for (let i = 0; i < 20; i++) {
      const g = realModeVm([0xe6, 0x80, 0xf4]);
      let n = 0;
      await g.vcpu.run((e) => {
        n++;
        if (e.kind === 'hlt') g.vcpu.stop();
      });
      assert.equal(n, 2);
      g.close();
    }
  });

  test('ioeventfd (pio) counts guest writes without exits; irqfd registers', async () => {
    // mov dx,0x500; out dx,al x3; out 0x80,al; hlt
    const g = realModeVm([0xba, 0x00, 0x05, 0xee, 0xee, 0xee, 0xe6, 0x80, 0xf4]);
    try {
      const efd = g.vm.createEventFd();
      g.vm.ioeventfd({ addr: 0x500, len: 1, eventFd: efd, pio: true });
      const ports: number[] = [];
      await g.vcpu.run((e) => {
        if (e.kind === 'io') ports.push(e.port);
        else g.vcpu.stop();
      });
      assert.deepEqual(ports, [0x80]);
      assert.equal(efd.read(), 3n);
      assert.equal(efd.read(), 0n);
      g.vm.ioeventfd({ addr: 0x500, len: 1, eventFd: efd, pio: true, deassign: true });
      efd.close();
    } finally {
      g.close();
    }
    const h = realModeVm([0xf4], { irqchip: true });
    try {
      const efd = h.vm.createEventFd();
      h.vm.irqfd({ gsi: 5, eventFd: efd });
      efd.write(1n);
      h.vm.irqfd({ gsi: 5, eventFd: efd, deassign: true });
      h.vm.irqLine(4, 1);
      h.vm.irqLine(4, 0);
      efd.close();
    } finally {
      h.close();
    }
  });

  test('ioeventfd (mmio, 4 bytes, datamatch) wakes a uv_poll watcher; a datamatch miss exits', async () => {
    // mov eax,1; mov [0x50],eax; mov [0x50],eax; mov eax,7; mov [0x50],eax; hlt   (ds base 0x50000)
    const mov1 = [0x66, 0xb8, 0x01, 0x00, 0x00, 0x00];
    const st = [0x66, 0xa3, 0x50, 0x00];
    const g = realModeVm([...mov1, ...st, ...st, 0x66, 0xb8, 0x07, 0x00, 0x00, 0x00, ...st, 0xf4]);
    try {
      g.vcpu.setSregs({ ds: { base: 0x50000, selector: 0x5000 } });
      const efd = g.vm.createEventFd();
      g.vm.ioeventfd({ addr: 0x50050, len: 4, eventFd: efd, datamatch: 1 });
      const counts: number[] = [];
      const woke = new Promise<void>((resolve) => efd.watch((n) => (counts.push(n), resolve())));
      const mmio: string[] = [];
      await g.vcpu.run((e) => {
        if (e.kind === 'mmio') mmio.push(`${e.isWrite ? 'W' : 'R'} 0x${e.physAddr.toString(16)} ${e.data?.[0]}`);
        else g.vcpu.stop();
      });
      await woke;
      assert.deepEqual(mmio, ['W 0x50050 7']);
      assert.equal(counts.reduce((a, b) => a + b, 0), 2);
      efd.unwatch();
      efd.write(5n);
      await new Promise((r) => setTimeout(r, 20));
      assert.equal(counts.reduce((a, b) => a + b, 0), 2, 'no callback after unwatch');
      assert.equal(efd.read(), 5n);
      g.vm.ioeventfd({ addr: 0x50050, len: 4, eventFd: efd, datamatch: 1, deassign: true });
      efd.close();
      efd.close();
    } finally {
      g.close();
    }
  });

  test('registers round-trip; TSC kHz is positive', () => {
    const g = realModeVm([0xf4]);
    try {
      g.vcpu.setRegs({ rax: 0x1234_5678_9abc_def0n, rbx: 7 });
      const r = g.vcpu.getRegs();
      assert.equal(r.rax, 0x1234_5678_9abc_def0n);
      assert.equal(r.rbx, 7n);
      assert.equal(r.rip, BigInt(CODE));
      const s = g.vcpu.getSregs();
      assert.equal(s.cs.base, 0n);
      assert.ok(g.vcpu.getTscKhz() > 0);
    } finally {
      g.close();
    }
  });
});

describe('kvm typed errors', () => {
  test('missing device gives ENOKVM with an actionable message', () => {
    try {
      Kvm.open('/nonexistent/kvm');
      assert.fail('expected an error');
    } catch (e) {
      assert.ok(e instanceof KvmError, String(e));
      if (e.code === 'ENOADDON') return; // addon not built: also a typed error
      assert.equal(e.code, 'ENOKVM');
      assert.equal(e.errnoName, 'ENOENT');
      assert.match(e.message, /\/nonexistent\/kvm.*not available/);
    }
  });

  test('bad input gives EINVAL / EIOCTL naming the ioctl', { skip }, () => {
    const kvm = Kvm.open();
    const vm = kvm.createVm();
    const mem = kvm.createMemory(0x10000);
    try {
      assert.throws(() => kvm.createMemory(1000), (e: unknown) => e instanceof KvmError && e.code === 'EINVAL');
      vm.mapMemory({ slot: 0, guestPhysAddr: 0, memory: mem, offset: 0, size: 0x10000 });
      assert.throws(
        () => vm.mapMemory({ slot: 1, guestPhysAddr: 0x8000, memory: mem, offset: 0, size: 0x1000 }),
        (e: unknown) => e instanceof KvmError && e.code === 'EIOCTL' && e.ioctl === 'KVM_SET_USER_MEMORY_REGION' && e.errnoName === 'EEXIST',
      );
      assert.throws(
        () => vm.mapMemory({ slot: 2, guestPhysAddr: 0x100000, memory: mem, offset: 0x8000, size: 0x10000 }),
        (e: unknown) => e instanceof KvmError && e.code === 'EINVAL' && /outside/.test(e.message),
      );
      const v = vm.createVcpu(0);
      assert.throws(() => vm.createVcpu(0), (e: unknown) => e instanceof KvmError && e.code === 'EIOCTL' && e.ioctl === 'KVM_CREATE_VCPU');
      assert.throws(() => v.setSregs({ cs: { type: 16 } }), (e: unknown) => e instanceof KvmError && e.code === 'EINVAL');
      assert.throws(() => v.setMsrs([{ index: 0xdeadbeef, data: 0 }]), (e: unknown) => e instanceof KvmError && e.code === 'EIOCTL' && e.ioctl === 'KVM_SET_MSRS' && /0xdeadbeef/.test(e.message));
      v.close();
      assert.throws(() => v.getRegs(), (e: unknown) => e instanceof KvmError && e.code === 'EINVAL');
      mem.free();
      assert.throws(() => mem.bytes, (e: unknown) => e instanceof KvmError && e.code === 'EINVAL');
    } finally {
      vm.close();
      mem.free();
      kvm.close();
    }
  });
});
