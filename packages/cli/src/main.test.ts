// Golden-output tests of the kiln command: help texts and flag errors, by spawning the real
// CLI (bin/kiln.js) and comparing stdout, stderr and the exit code exactly. Also the guest
// command line built by `kiln run` and QEMU's exit-status decoding.

import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { BUILD_HELP, MAIN_HELP, RUN_HELP } from './help.ts';
import { decodeQemuStatus, qemuArgs, qemuNetArgs, qemuOutcome, qemuVirtioArgs } from './qemu.ts';
import { checkTap, parseEnv, parseNet } from './flags.ts';
import { EXIT_CODES } from './errors.ts';
import { GUEST_EXIT_CPU_FAULT, GUEST_EXIT_JS_ERROR, GUEST_EXIT_NO_HEAP, GUEST_EXIT_OUT_OF_MEMORY } from '@kiln/common/exit_codes.ts';
import { CMDLINE_KILN_MAX, guestCmdline, guestIpParam } from './run.ts';
import { parseCmdline } from '@kiln/common/cmdline.ts';

const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');
const KILN = join(ROOT, 'packages/cli/bin/kiln.js');

function kiln(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [KILN, ...args], { cwd: ROOT, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('help_texts', () => {
  assert.deepEqual(kiln(), { code: 0, stdout: MAIN_HELP, stderr: '' });
  assert.deepEqual(kiln('--help'), { code: 0, stdout: MAIN_HELP, stderr: '' });
  assert.deepEqual(kiln('help'), { code: 0, stdout: MAIN_HELP, stderr: '' });
  assert.deepEqual(kiln('help', 'run'), { code: 0, stdout: RUN_HELP, stderr: '' });
  assert.deepEqual(kiln('run', '--help'), { code: 0, stdout: RUN_HELP, stderr: '' });
  assert.deepEqual(kiln('build', '-h'), { code: 0, stdout: BUILD_HELP, stderr: '' });
  assert.ok(MAIN_HELP.startsWith('Usage: kiln <command> [options]\n'));
  assert.match(RUN_HELP, /--mem <MiB> +guest memory, 2 to 65536 MiB \(default 64\); a Kiln image needs\n {23}its segments plus 1 MiB of heap/);
  // Every exit code kiln run can give (errors.ts EXIT_CODES, the guest core's own, main.ts 70, signals).
  const guest = [GUEST_EXIT_JS_ERROR, GUEST_EXIT_NO_HEAP, GUEST_EXIT_OUT_OF_MEMORY, GUEST_EXIT_CPU_FAULT];
  for (const code of [...new Set(Object.values(EXIT_CODES))].filter((c) => c !== 1).concat(guest, [70])) {
    assert.match(RUN_HELP.slice(RUN_HELP.indexOf('Exit codes:')), new RegExp(`\\b${code}\\b`), `exit code ${code} in kiln help run`);
  }
  assert.match(RUN_HELP, /128\+N kiln itself ended by signal N/);
  assert.match(RUN_HELP, /on QEMU only 0-127 survive/);
  assert.match(RUN_HELP, /\n  --disk <path>\[,ro\]   attach a raw disk image \(size a multiple of 512\) as a virtio-blk\n {23}device; ,ro makes it read-only; repeat for more disks\n/);
});

test('disk_flag_errors_golden', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-cli-'));
  try {
    writeFileSync(join(dir, 'odd.img'), Buffer.alloc(1000));
    writeFileSync(join(dir, 'ro.img'), Buffer.alloc(512));
    chmodSync(join(dir, 'ro.img'), 0o444);
    const cases: Array<[string[], string]> = [
      [['run', 'x.elf', '--disk', join(dir, 'none.img')], `kiln: --disk ${join(dir, 'none.img')}: no such file\n`],
      [['run', 'x.elf', '--disk', join(dir, 'odd.img') + ',ro'], `kiln: --disk ${join(dir, 'odd.img')}: size 1000 bytes is not a multiple of 512\n`],
      [['run', 'x.elf', '--disk', dir], `kiln: --disk ${dir}: not a regular file\n`],
      [['run', 'x.elf', '--disk', ',ro'], 'kiln: --disk: expected PATH or PATH,ro, got ",ro"\n'],
      [['run', 'x.elf', '--disk', join(dir, 'ro.img') + ',ro', '--disk', join(dir, 'none.img')], `kiln: --disk ${join(dir, 'none.img')}: no such file\n`],
    ];
    if (process.getuid?.() !== 0) cases.push([['run', 'x.elf', '--disk', join(dir, 'ro.img')], `kiln: --disk ${join(dir, 'ro.img')}: not writable (add ,ro to attach it read-only)\n`]);
    for (const [args, stderr] of cases) {
      assert.deepEqual(kiln(...args), { code: 2, stdout: '', stderr }, args.join(' '));
    }
    // A good disk passes the flag check; the next error is the missing image.
    assert.deepEqual(kiln('run', 'x.elf', '--disk', join(dir, 'ro.img') + ',ro'), { code: 2, stdout: '', stderr: 'kiln: cannot read image x.elf: no such file\n' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('flag_errors_golden', () => {
  const cases: Array<[string[], string]> = [
    [['run', 'x.elf', '--mem', 'x'], 'kiln: --mem: expected an integer number of MiB between 2 and 65536, got "x"\n'],
    [['run', 'x.elf', '--mem', '1'], 'kiln: --mem: expected an integer number of MiB between 2 and 65536, got "1"\n'],
    [['run', 'x.elf', '--mem', '64.5'], 'kiln: --mem: expected an integer number of MiB between 2 and 65536, got "64.5"\n'],
    [['run', 'x.elf', '--cpus', '0'], 'kiln: --cpus: expected an integer number of vCPUs between 1 and 64, got "0"\n'],
    [['run', 'x.elf', '--vmm', 'firecracker'], 'kiln: --vmm: expected one of kiln, qemu, got "firecracker"\n'],
    [['run', 'x.elf', '--vmm', 'qemu', '--accel', 'hvf'], 'kiln: --accel: expected one of kvm, process, tcg, got "hvf"\n'],
    [['run', 'x.elf', '--timeout', '-1'], 'kiln: --timeout: expected a number of seconds greater than 0 and at most 86400, got "-1"\n'],
    [['run', 'x.elf', '--timeout', 'soon'], 'kiln: --timeout: expected a number of seconds greater than 0 and at most 86400, got "soon"\n'],
    [['run', 'x.elf', '--accel', 'tcg'], "kiln: --accel tcg: Kiln's VMM runs on KVM or as a process (use --accel process, or --vmm qemu --accel tcg)\n"],
    [['run', 'x.elf', '--vmm', 'qemu', '--accel', 'process'], "kiln: --accel process: the process platform is Kiln's VMM's (use --vmm kiln)\n"],
    [['run', 'x.elf', '--accel', 'kvm', '--unconfined'], 'kiln: --unconfined: only the process platform confines the guest itself (use --vmm kiln --accel process)\n'],
    [['run', 'x.elf', '--vmm', 'qemu', '--boot-timer'], 'kiln: --boot-timer: QEMU has no boot timer device (use --vmm kiln)\n'],
    [['run', 'x.elf', '--vmm', 'qemu', '--timings'], "kiln: --timings: only Kiln's VMM times its setup steps (use --vmm kiln)\n"],
    [['run', 'x.elf', '--frob'], "kiln: unknown option '--frob' (see kiln help)\n"],
    [['run', 'x.elf', 'extra'], 'kiln: run: unexpected argument "extra" (put guest arguments after --)\n'],
    [['run'], "kiln: missing required argument 'image' (see kiln help)\n"],
    [['run', 'does-not-exist.elf'], 'kiln: cannot read image does-not-exist.elf: no such file\n'],
    [['run', 'x.elf', '--mem'], "kiln: option '--mem <MiB>' argument missing (see kiln help)\n"],
    [['build', 'a.ts'], 'kiln: build: missing -o <out.elf> (where to write the image)\n'],
    [['build', 'missing.ts', '-o', 'x.elf'], 'kiln: cannot read missing.ts: no such file\n'],
    [['frob'], "kiln: unknown command 'frob' (see kiln help)\n"],
    [['help', 'frob'], 'kiln: unknown command "frob" (see kiln help)\n'],
  ];
  for (const [args, stderr] of cases) {
    const r = kiln(...args);
    assert.deepEqual(r, { code: 2, stdout: '', stderr }, args.join(' '));
  }
});

test('guest_cmdline', () => {
  assert.equal(guestCmdline(false, []), '--');
  assert.equal(guestCmdline(true, ['42']), 'kiln.bootchart -- 42');
  assert.equal(guestCmdline(false, ['a b', '', 'c']), '-- "a b" "" c');
  assert.throws(() => guestCmdline(false, ['say "x"']), /double quote/);
  assert.equal(guestCmdline(true, ['1'], ['ip=dhcp']), 'kiln.bootchart ip=dhcp -- 1');
  assert.equal(guestCmdline(false, [], ['ip=dhcp']), 'ip=dhcp --');
  // --env: NAME=value before --, quoted when it has blanks; the guest parses back the same pairs.
  const env = parseEnv(['A=1', 'B=two words', 'C=', 'D=x=y', 'E=é']);
  const line = guestCmdline(false, ['--', 'FOO=arg'], ['ip=dhcp'], env);
  assert.equal(line, 'ip=dhcp A=1 B="two words" C= D=x=y E=é -- "--" FOO=arg');
  const parsed = parseCmdline(`${line} virtio_mmio.device=4K@0xc0001000:5`);
  assert.deepEqual({ ...parsed.env }, { A: '1', B: 'two words', C: '', D: 'x=y', E: 'é' });
  assert.deepEqual(parsed.args, ['--', 'FOO=arg']);
  // Bounded: what the VMMs add must still fit in the core's CMDLINE_MAX.
  assert.equal(guestCmdline(false, [], [], [['A', 'x'.repeat(CMDLINE_KILN_MAX - 5)]]).length, CMDLINE_KILN_MAX);
  assert.throws(() => guestCmdline(false, [], [], [['A', 'x'.repeat(CMDLINE_KILN_MAX - 4)]]), /would be 3072 bytes; at most 3071 fit/);
  assert.throws(() => guestCmdline(false, ['x'.repeat(CMDLINE_KILN_MAX)]), /guest command line .* would be/);
});

test('env_flag_errors_golden', () => {
  const cases: Array<[string[], string]> = [
    [['run', 'x.elf', 'FOO=bar'], 'kiln: run: unexpected argument "FOO=bar" (put guest arguments after --; set the guest\'s environment with --env FOO=bar)\n'],
    [['run', 'x.elf', '--env', 'FOO'], 'kiln: --env: expected NAME=VALUE, got "FOO"\n'],
    [['run', 'x.elf', '--env', '=x'], 'kiln: --env =x: "" is not a variable name (a letter or _, then letters, digits or _)\n'],
    [['run', 'x.elf', '--env', '1A=x'], 'kiln: --env 1A=x: "1A" is not a variable name (a letter or _, then letters, digits or _)\n'],
    [['run', 'x.elf', '--env', 'a.b=x'], 'kiln: --env a.b=x: "a.b" is not a variable name (a letter or _, then letters, digits or _)\n'],
    [['run', 'x.elf', '--env', 'ip=dhcp'], 'kiln: --env ip=dhcp: ip= is a kernel parameter on the guest command line, not an environment variable\n'],
    [['run', 'x.elf', '--env', 'A=say "x"'], 'kiln: --env A=say "x": the value contains a double quote, which the guest command line cannot carry\n'],
    [['run', 'x.elf', '--env', 'A=a\nb'], 'kiln: --env A=a\nb: the value contains a control character\n'],
    [['run', 'x.elf', '--env', 'A=1', '--env', 'A=2'], 'kiln: --env A=2: A is given twice\n'],
  ];
  for (const [args, stderr] of cases) assert.deepEqual(kiln(...args), { code: 2, stdout: '', stderr }, args.join(' '));
  assert.deepEqual(kiln('run', 'x.elf', '--env', 'A=1', '--env', 'B=two words', '--env', 'C='), { code: 2, stdout: '', stderr: 'kiln: cannot read image x.elf: no such file\n' });
  assert.match(RUN_HELP, /\n  --env <name>=<value> set a variable of the guest's environment/);
});

test('qemu_args_and_status_decoding', () => {
  const a = qemuArgs({ image: 'h.elf', memMiB: 64, cpus: 2, cmdline: '-- 1', accel: 'tcg' });
  assert.deepEqual(a.slice(0, 6), ['-M', 'microvm,x-option-roms=off,rtc=on,acpi=off,isa-serial=on', '-kernel', 'h.elf', '-append', '-- 1']);
  assert.deepEqual(a.slice(-4), ['-accel', 'tcg', '-cpu', 'max']);
  assert.ok(a.join(' ').includes('-device virtio-rng-device'));
  assert.deepEqual(qemuVirtioArgs([{ path: 'a.img', readOnly: true }, { path: 'b,c.img', readOnly: false }]), [
    '-global', 'virtio-mmio.force-legacy=false',
    '-device', 'virtio-rng-device',
    '-drive', 'file=a.img,if=none,id=disk0,format=raw,readonly=on', '-device', 'virtio-blk-device,drive=disk0',
    '-drive', 'file=b,,c.img,if=none,id=disk1,format=raw', '-device', 'virtio-blk-device,drive=disk1',
  ]);
  assert.deepEqual(decodeQemuStatus((42 << 1) | 1), { exitCode: 42, reason: 'exit' });
  assert.deepEqual(decodeQemuStatus(1), { exitCode: 0, reason: 'exit' });
  assert.deepEqual(decodeQemuStatus(0), { exitCode: 0, reason: 'reset' });
  assert.equal(decodeQemuStatus(2).reason, 'error');
  // QEMU ends with status 0 on SIGTERM/SIGINT/SIGHUP: a failure, not the guest's exit 0.
  assert.deepEqual(qemuOutcome(0, null, 'qemu-system-x86_64: terminating on signal 15 from pid 42 (bash)\n'), { exitCode: 123, reason: 'killed', message: 'QEMU was terminated by signal 15 (SIGTERM) from pid 42 (bash)' });
  assert.deepEqual(qemuOutcome(null, 'SIGKILL', ''), { exitCode: 123, reason: 'killed', message: 'QEMU was killed by SIGKILL' });
  assert.deepEqual(qemuOutcome(0, null, ''), { exitCode: 0, reason: 'reset' });
  assert.deepEqual(qemuOutcome(1, null, 'qemu-system-x86_64: -drive x: No such file\n'), { exitCode: 125, reason: 'error', message: 'QEMU failed: -drive x: No such file' });
});

test('build_errors_name_the_import_and_file', { skip: existsSync(join(ROOT, 'arch/build/kiln-core.elf')) ? false : 'arch/build missing (make -C arch)' }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-cli-'));
  try {
    const cases: Array<[string, RegExp]> = [
      ['import fs from "node:fs";\nconsole.log(fs);\n', /app\.ts imports "node:fs", a Node built-in module that Kiln guests do not have/],
      ['import x from "kiln:nope";\nconsole.log(x);\n', /unknown Kiln module "kiln:nope" imported from .*app\.ts \(available: kiln:process, kiln:block, kiln:vsock, kiln:netdev, kiln:fs, kiln:net, kiln:http\)/],
    ];
    for (const [src, re] of cases) {
      writeFileSync(join(dir, 'app.ts'), src);
      const r = kiln('build', join(dir, 'app.ts'), '-o', join(dir, 'app.elf'));
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /^kiln: cannot bundle .*app\.ts \(1 error\)\n/);
      assert.match(r.stderr, re);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('net_flag_golden', () => {
  assert.match(RUN_HELP, /\n  --net tap=NAME\[,ip=ADDR\/PREFIX\[,gw=GW\]\]\n {23}virtio-net NIC on an existing TAP interface; kiln:net uses the\n/);
  assert.match(RUN_HELP, /\n  --net user\[,hostfwd=\[tcp:\]127\.0\.0\.1:HOSTPORT-:GUESTPORT \.\.\.\]\n/);
  const cases: [string[], string][] = [
    [['--net', 'bridge'], 'kiln: --net: expected user[,hostfwd=[tcp:]127.0.0.1:HOSTPORT-[10.0.2.15]:GUESTPORT ...] or tap=NAME[,ip=ADDR/PREFIX[,gw=GW]], got "bridge"\n'],
    [['--net', 'tap='], 'kiln: --net tap=: a TAP interface name is 1 to 15 letters, digits, _ . or -\n'],
    [['--net', 'tap=a-very-long-interface'], 'kiln: --net tap=a-very-long-interface: a TAP interface name is 1 to 15 letters, digits, _ . or -\n'],
    [['--net', 'user,hostfwd=:8080-:80'], 'kiln: --net user,hostfwd=:8080-:80: host address "" is not a loopback address (only 127.0.0.1 and the rest of 127.0.0.0/8 are allowed)\n'],
    [['--net', 'user,hostfwd=0.0.0.0:8080-:80'], 'kiln: --net user,hostfwd=0.0.0.0:8080-:80: host address "0.0.0.0" is not a loopback address (only 127.0.0.1 and the rest of 127.0.0.0/8 are allowed)\n'],
    [['--net', 'user,hostfwd=udp:127.0.0.1:53-:53'], 'kiln: --net user,hostfwd=udp:127.0.0.1:53-:53: only TCP ports can be forwarded\n'],
    [['--net', 'user,hostfwd=127.0.0.1:8080-10.0.2.16:80'], 'kiln: --net user,hostfwd=127.0.0.1:8080-10.0.2.16:80: guest address 10.0.2.16 is not the guest\'s (10.0.2.15, or leave it empty)\n'],
    [['--net', 'user,hostfwd=127.0.0.1:0-:80'], 'kiln: --net user,hostfwd=127.0.0.1:0-:80: ports must be between 1 and 65535\n'],
    [['--net', 'user,hostfwd=127.0.0.1:8080'], 'kiln: --net user,hostfwd=127.0.0.1:8080: expected hostfwd=[tcp:]127.0.0.1:HOSTPORT-[10.0.2.15]:GUESTPORT, got "hostfwd=127.0.0.1:8080"\n'],
    [['--net', 'user,restrict=on'], 'kiln: --net user,restrict=on: unknown option "restrict=on" (only hostfwd=... is supported)\n'],
    [['--net', 'user', '--net', 'tap=tap0'], 'kiln: --net tap=tap0: only one --net is supported (one NIC)\n'],
    [['--net', 'user', '--dns', '10.0.2.300'], 'kiln: --dns 10.0.2.300: expected one to three dotted IPv4 addresses separated by commas (--dns 10.0.2.3)\n'],
    [['--net', 'user', '--dns', '10.0.2.3,'], 'kiln: --dns 10.0.2.3,: expected one to three dotted IPv4 addresses separated by commas (--dns 10.0.2.3)\n'],
    [['--dns', '10.0.2.3'], 'kiln: --dns 10.0.2.3: the guest has no network (add --net)\n'],
    [['--net', 'tap=tap0,ip=10.0.0.5'], 'kiln: --net tap=tap0,ip=10.0.0.5: ip=10.0.0.5: expected ADDR/PREFIX, a dotted IPv4 address and a prefix length 1 to 30\n'],
    [['--net', 'tap=tap0,ip=10.0.0.256/24'], 'kiln: --net tap=tap0,ip=10.0.0.256/24: ip=10.0.0.256/24: expected ADDR/PREFIX, a dotted IPv4 address and a prefix length 1 to 30\n'],
    [['--net', 'tap=tap0,ip=10.0.0.255/24'], 'kiln: --net tap=tap0,ip=10.0.0.255/24: ip=10.0.0.255/24: 10.0.0.255 is the network or broadcast address of its /24\n'],
    [['--net', 'tap=tap0,ip=10.0.0.5/24,gw=10.0.1.1'], 'kiln: --net tap=tap0,ip=10.0.0.5/24,gw=10.0.1.1: gw=10.0.1.1: the gateway must be another address on 10.0.0.5/24\n'],
    [['--net', 'tap=tap0,gw=10.0.0.1'], 'kiln: --net tap=tap0,gw=10.0.0.1: gw= needs ip=ADDR/PREFIX (without ip=, the guest asks DHCP)\n'],
    [['--net', 'tap=tap0,mtu=9000'], 'kiln: --net tap=tap0,mtu=9000: unknown or repeated option "mtu=9000" (expected ip=ADDR/PREFIX and gw=GW)\n'],
  ];
  for (const [flags, stderr] of cases) assert.deepEqual(kiln('run', 'x.elf', ...flags), { code: 2, stdout: '', stderr }, flags.join(' '));
  // Good values pass the flag check; the next error is the missing image.
  for (const v of ['user', 'user,hostfwd=127.0.0.1:8080-:80,hostfwd=tcp:127.0.0.1:2222-10.0.2.15:22']) {
    assert.deepEqual(kiln('run', 'x.elf', '--net', v), { code: 2, stdout: '', stderr: 'kiln: cannot read image x.elf: no such file\n' }, v);
  }
  for (const v of ['tap=tap0', 'tap=tap0,ip=10.0.2.15/24', 'tap=tap0,ip=192.168.7.2/30,gw=192.168.7.1']) assert.doesNotThrow(() => parseNet(v), v);
  // A TAP must exist (else QEMU, and Kiln's VMM, as root, would create one): both VMMs refuse it before boot.
  for (const vmm of ['kiln', 'qemu']) {
    assert.deepEqual(kiln('run', 'x.elf', '--vmm', vmm, '--net', 'tap=nosuchtap9'), { code: 2, stdout: '', stderr: 'kiln: --net tap=nosuchtap9: there is no network interface nosuchtap9 (create it first: ip tuntap add dev nosuchtap9 mode tap)\n' }, vmm);
  }
  assert.deepEqual(kiln('run', 'x.elf', '--net', 'tap=lo'), { code: 2, stdout: '', stderr: 'kiln: --net tap=lo: lo is not a TAP interface (it has no tun_flags; create one with ip tuntap add dev NAME mode tap)\n' });
  const sys = mkdtempSync(join(tmpdir(), 'kiln-sys-'));
  try {
    for (const [name, flags] of [['tap5', '0x1002'], ['tun5', '0x1001']]) {
      mkdirSync(join(sys, name));
      writeFileSync(join(sys, name, 'tun_flags'), `${flags}\n`);
    }
    assert.doesNotThrow(() => checkTap({ tap: 'tap5' }, sys));
    assert.throws(() => checkTap({ tap: 'tun5' }, sys), /^CliError: --net tap=tun5: tun5 is a TUN interface, not a TAP one/);
    assert.doesNotThrow(() => checkTap({ user: { hostfwd: [] } }, sys));
  } finally {
    rmSync(sys, { recursive: true, force: true });
  }
  assert.deepEqual(qemuNetArgs({ tap: 'tap0' }), ['-netdev', 'tap,id=n0,ifname=tap0,script=no,downscript=no', '-device', 'virtio-net-device,netdev=n0']);
  assert.deepEqual(qemuNetArgs({ user: { hostfwd: [{ hostAddr: '127.0.0.1', hostPort: 8080, guestPort: 80 }] } }), [
    '-netdev', 'user,id=n0,net=10.0.2.0/24,hostfwd=tcp:127.0.0.1:8080-:80', '-device', 'virtio-net-device,netdev=n0',
  ]);
  assert.ok(qemuArgs({ image: 'h.elf', memMiB: 64, cpus: 1, cmdline: '', accel: 'tcg', net: { tap: 't' } }).join(' ').includes('-device virtio-net-device,netdev=n0'));
  assert.equal(guestIpParam(parseNet('user')), 'ip=10.0.2.15::10.0.2.2:255.255.255.0::eth0:off');
  assert.equal(guestIpParam(parseNet('tap=tap0')), undefined, 'DHCP');
  assert.equal(guestIpParam(parseNet('tap=tap0,ip=192.168.7.2/30,gw=192.168.7.1')), 'ip=192.168.7.2::192.168.7.1:255.255.255.252::eth0:off');
  assert.equal(guestIpParam(parseNet('tap=tap0,ip=10.1.2.3/8')), 'ip=10.1.2.3:::255.0.0.0::eth0:off');
});

test('vsock_flag_errors_golden', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-cli-'));
  try {
    const cases: Array<[string[], string]> = [
      [['run', 'x.elf', '--vsock', '3'], 'kiln: --vsock: expected CID,UDS_PATH, got "3"\n'],
      [['run', 'x.elf', '--vsock', 'x,/tmp/v.sock'], 'kiln: --vsock: expected CID,UDS_PATH, got "x,/tmp/v.sock"\n'],
      [['run', 'x.elf', '--vsock', `2,${dir}/v.sock`], `kiln: --vsock 2,${dir}/v.sock: CID must be 3 to 4294967294 (0-2 are reserved; 2 is the host), got 2\n`],
      [['run', 'x.elf', '--vsock', `3,${dir}/nope/v.sock`], `kiln: --vsock 3,${dir}/nope/v.sock: directory ${dir}/nope does not exist\n`],
      [['run', 'x.elf', '--vmm', 'qemu', '--vsock', `3,${dir}/v.sock`], 'kiln: --vsock: QEMU has no Firecracker-style hybrid vsock (its vhost-vsock needs /dev/vhost-vsock and AF_VSOCK on the host); use --vmm kiln\n'],
    ];
    for (const [args, stderr] of cases) assert.deepEqual(kiln(...args), { code: 2, stdout: '', stderr }, args.join(' '));
    assert.deepEqual(kiln('run', 'x.elf', '--vsock', `3,${dir}/v.sock`), { code: 2, stdout: '', stderr: 'kiln: cannot read image x.elf: no such file\n' });
    assert.match(RUN_HELP, /\n  --vsock <cid>,<path> virtio-vsock with guest CID <cid> \(3 or more\)/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('share_flag_errors_golden', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-cli-'));
  try {
    writeFileSync(join(dir, 'file'), '');
    const long = 'x'.repeat(37);
    const cases: Array<[string[], string]> = [
      [['run', 'x.elf', '--share', dir], `kiln: --share: expected HOSTDIR:TAG[,ro][,suid], got ${JSON.stringify(dir)}\n`],
      [['run', 'x.elf', '--share', `${dir}:`], `kiln: --share: expected HOSTDIR:TAG[,ro][,suid], got ${JSON.stringify(dir + ':')}\n`],
      [['run', 'x.elf', '--share', `${dir}/nope:t`], `kiln: --share ${dir}/nope:t: directory ${dir}/nope does not exist\n`],
      [['run', 'x.elf', '--share', `${dir}/file:t`], `kiln: --share ${dir}/file:t: ${dir}/file is not a directory\n`],
      [['run', 'x.elf', '--share', `${dir}:${long}`], `kiln: --share ${dir}:${long}: tag "${long}" is 37 bytes; at most 36 fit\n`],
      [['run', 'x.elf', '--share', `${dir}:a b`], `kiln: --share ${dir}:a b: tag "a b" may not contain spaces or commas\n`],
      [['run', 'x.elf', '--share', `${dir}:t,rw`], `kiln: --share ${dir}:t,rw: unknown option "rw" (options: ro, suid)\n`],
      [['run', 'x.elf', '--share', `${dir}:t,ro,ro`], `kiln: --share ${dir}:t,ro,ro: option ro is given twice\n`],
      [['run', 'x.elf', '--share', `${dir}:t`, '--share', `${dir}:t,ro`], 'kiln: --share: tag "t" is given twice (each share needs its own tag)\n'],
      [['run', 'x.elf', '--vmm', 'qemu', '--share', `${dir}:t`], 'kiln: --share: QEMU serves virtio-fs only through an external vhost-user daemon (virtiofsd), which kiln does not start; use --vmm kiln\n'],
    ];
    for (const [args, stderr] of cases) assert.deepEqual(kiln(...args), { code: 2, stdout: '', stderr }, args.join(' '));
    assert.deepEqual(kiln('run', 'x.elf', '--share', `${dir}:${'x'.repeat(36)},ro`, '--share', `${dir}:other,suid,ro`), { code: 2, stdout: '', stderr: 'kiln: cannot read image x.elf: no such file\n' });
    assert.match(RUN_HELP, /\n  --share <dir>:<tag>\[,ro\]\[,suid\]\n/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
