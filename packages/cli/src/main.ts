// The kiln command: parses the command line with commander and dispatches to build/run/profile/init/mkfs.
// Every failure is a CliError printed as one `kiln: ...` line on stderr (plus details such as
// esbuild diagnostics) with the exit code of docs/ARCHITECTURE.md "Exit codes".
// Guest arguments are everything after the first `--`, passed through untouched.

import { Command, CommanderError } from 'commander';
import { buildImage, parseDefine } from './build.ts';
import { CliError } from './errors.ts';
import { parseAssets } from './assets.ts';
import { checkDisk, checkShareTags, checkTap, parseChoice, parseCpus, parseDisk, parseEnv, parseMem, parseDns, parseMounts, parseNet, parseShare, parseTimeout, parseVsock } from './flags.ts';
import { BUILD_HELP, INIT_HELP, MAIN_HELP, MKFS_HELP, PROFILE_HELP, RUN_HELP } from './help.ts';
import { initProject, type Template } from './init.ts';
import { mkfsFat, parseFatType, parseSize } from './mkfs.ts';
import { runImage, type RunOptions } from './run.ts';
import { PROFILE_DEFAULT_HZ, profileRequest, type ProfileFlags } from './profile.ts';
import { withNativeLocations } from './native_lines.ts';

export interface MainIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

const defaultIo: MainIo = {
  stdout: (t) => void process.stdout.write(t),
  stderr: (t) => void process.stderr.write(t),
};

interface RunFlags {
  mem: string;
  cpus: string;
  vmm: string;
  accel?: string;
  unconfined?: boolean;
  bootTimer?: boolean;
  timings?: boolean;
  console?: string;
  bootchart?: boolean;
  timeout?: string;
  disk: string[];
  net: string[];
  dns?: string;
  vsock?: string;
  share: string[];
  mount: string[];
  env: string[];
}

/** The RunOptions of `kiln run`'s flags (shared by `kiln profile`), checked. */
function runOptions(command: string, image: string, flags: RunFlags, cmd: Command, guestArgs: string[]): RunOptions {
  if (cmd.args.length > 1) {
    const extra = cmd.args[1]!;
    const hint = /^[A-Za-z_][A-Za-z0-9_]*=/.test(extra) ? `; set the guest's environment with --env ${extra}` : '';
    throw new CliError('EUSAGE', `${command}: unexpected argument ${JSON.stringify(extra)} (put guest arguments after --${hint})`);
  }
  const memMiB = parseMem(flags.mem);
  const cpus = parseCpus(flags.cpus);
  const vmm = parseChoice('--vmm', flags.vmm, ['kiln', 'qemu'] as const);
  const accel = flags.accel === undefined ? undefined : parseChoice('--accel', flags.accel, ['kvm', 'process', 'tcg'] as const);
  const timeoutS = flags.timeout === undefined ? undefined : parseTimeout(flags.timeout);
  const disks = flags.disk.map((d) => checkDisk(parseDisk(d)));
  if (flags.net.length > 1) throw new CliError('EUSAGE', `--net ${flags.net[1]}: only one --net is supported (one NIC)`);
  const net = flags.net.length ? parseNet(flags.net[0]!) : undefined;
  checkTap(net);
  const dns = flags.dns === undefined ? undefined : parseDns(flags.dns);
  if (dns && !net) throw new CliError('EUSAGE', `--dns ${flags.dns}: the guest has no network (add --net)`);
  const env = parseEnv(flags.env);
  const vsock = flags.vsock === undefined ? undefined : parseVsock(flags.vsock);
  const shares = flags.share.map(parseShare);
  checkShareTags(shares);
  const consoleMode = parseChoice('--console', flags.console ?? 'auto', ['serial', 'virtio', 'auto'] as const);
  const mounts = parseMounts(flags.mount, disks, shares.map((s) => s.tag));
  if (vmm === 'qemu' && consoleMode === 'virtio') throw new CliError('EUSAGE', '--console virtio: only Kiln\'s VMM wires virtio-console to the console (use --vmm kiln)');
  if (vmm === 'qemu' && shares.length) throw new CliError('EUSAGE', '--share: QEMU serves virtio-fs only through an external vhost-user daemon (virtiofsd), which kiln does not start; use --vmm kiln');
  if (vmm === 'qemu' && vsock) throw new CliError('EUSAGE', '--vsock: QEMU has no Firecracker-style hybrid vsock (its vhost-vsock needs /dev/vhost-vsock and AF_VSOCK on the host); use --vmm kiln');
  if (vmm === 'kiln' && accel === 'tcg') throw new CliError('EUSAGE', '--accel tcg: Kiln\'s VMM runs on KVM or as a process (use --accel process, or --vmm qemu --accel tcg)');
  if (vmm === 'qemu' && accel === 'process') throw new CliError('EUSAGE', '--accel process: the process platform is Kiln\'s VMM\'s (use --vmm kiln)');
  if (flags.unconfined === true && (vmm === 'qemu' || accel === 'kvm')) throw new CliError('EUSAGE', '--unconfined: only the process platform confines the guest itself (use --vmm kiln --accel process)');
  if (vmm === 'qemu' && flags.bootTimer === true) throw new CliError('EUSAGE', '--boot-timer: QEMU has no boot timer device (use --vmm kiln)');
  if (vmm === 'qemu' && flags.timings === true) throw new CliError('EUSAGE', '--timings: only Kiln\'s VMM times its setup steps (use --vmm kiln)');
  return {
    image, memMiB, cpus, vmm, accel, unconfined: flags.unconfined === true, timeoutS, bootTimer: flags.bootTimer === true, bootchart: flags.bootchart === true, timings: flags.timings === true, args: guestArgs, disks, ...(net ? { net } : {}), ...(dns ? { dns } : {}), ...(vsock ? { vsock } : {}), ...(shares.length ? { shares } : {}), console: consoleMode, mounts, env,
  };
}

/** Runs the kiln command with `argv` (without node and script); resolves to the exit code. */
export async function main(argv: string[], io: MainIo = defaultIo): Promise<number> {
  const dashes = argv.indexOf('--');
  const own = dashes === -1 ? argv : argv.slice(0, dashes);
  const guestArgs = dashes === -1 ? [] : argv.slice(dashes + 1);
  let result = 0;

  const program = new Command('kiln');
  const configure = (cmd: Command, help: string): Command => {
    cmd.exitOverride();
    cmd.helpInformation = () => help;
    cmd.configureOutput({ writeOut: io.stdout, writeErr: io.stderr, outputError: () => {} });
    return cmd;
  };
  configure(program, MAIN_HELP).helpCommand(false).allowExcessArguments(false);

  configure(program.command('build'), BUILD_HELP)
    .argument('<entry>')
    .option('-o, --out <file>')
    .option('--assets <dir[:/mountpoint]>')
    .option('--mode <mode>')
    .option('--define <name=value>', '', (v: string, prev: string[]) => [...prev, v], [] as string[])
    .allowExcessArguments(false)
    .action(async (entry: string, flags: { out?: string; assets?: string; mode?: string; define: string[] }) => {
      if (dashes !== -1) throw new CliError('EUSAGE', 'build takes no guest arguments (nothing may follow --)');
      if (flags.out === undefined) throw new CliError('EUSAGE', 'build: missing -o <out.elf> (where to write the image)');
      const assets = flags.assets === undefined ? undefined : parseAssets(flags.assets);
      if (flags.mode !== undefined && !/^[\w.-]+$/.test(flags.mode)) throw new CliError('EUSAGE', `--mode ${flags.mode}: expected a name such as production or development`);
      const define = Object.fromEntries(flags.define.map(parseDefine));
      const bundle = { ...(flags.mode !== undefined ? { mode: flags.mode } : {}), ...(flags.define.length ? { define } : {}) };
      const r = await buildImage({ entry, out: flags.out, ...(assets ? { assets } : {}), bundle });
      for (const w of r.warnings) io.stderr(`kiln: warning: ${w}\n`);
      io.stdout(`${r.out} ${r.size} bytes (${(r.size / 1024).toFixed(1)} KiB)${r.bigint ? ', with BigInt' : ''}\n`);
    });

  const runCommand = (name: 'run' | 'profile', help: string): Command =>
    configure(program.command(name), help)
      .argument('<image>')
      .option('--mem <MiB>', '', '64')
      .option('--cpus <n>', '', '1')
      .option('--vmm <vmm>', '', 'kiln')
      .option('--accel <accel>')
      .option('--unconfined')
      .option('--boot-timer')
      .option('--bootchart')
      .option('--timings')
      .option('--timeout <s>')
      .option('--disk <path[,ro]>', '', (v: string, prev: string[]) => [...prev, v], [] as string[])
      .option('--net <spec>', '', (v: string, prev: string[]) => [...prev, v], [] as string[])
      .option('--dns <addrs>')
      .option('--vsock <cid,uds_path>')
      .option('--share <hostdir:tag[,ro]>', '', (v: string, prev: string[]) => [...prev, v], [] as string[])
      .option('--console <mode>', '', 'auto')
      .option('--mount <path=spec>', '', (v: string, prev: string[]) => [...prev, v], [] as string[])
      .option('--env <name=value>', '', (v: string, prev: string[]) => [...prev, v], [] as string[])
      .allowExcessArguments(true);

  runCommand('run', RUN_HELP).action(async (image: string, flags: RunFlags, cmd: Command) => {
    result = await runImage(runOptions('run', image, flags, cmd, guestArgs));
  });

  runCommand('profile', PROFILE_HELP)
    .option('--hz <n>', '', String(PROFILE_DEFAULT_HZ))
    .option('--duration <s>')
    .option('-o, --output <base>', '', 'kiln-profile')
    .option('--top <n>', '', '25')
    .action(async (image: string, flags: RunFlags & ProfileFlags, cmd: Command) => {
      const o = runOptions('profile', image, flags, cmd, guestArgs);
      if (o.vmm === 'qemu') throw new CliError('EUSAGE', 'profile: sampling QEMU guests is not built yet (use --vmm kiln: KVM or the process platform)');
      result = await runImage({ ...o, profile: profileRequest(flags, io.stderr, (p) => withNativeLocations(p, image)) });
    });

  configure(program.command('init'), INIT_HELP)
    .argument('[dir]', '', '.')
    .option('--template <name>', '', 'http')
    .allowExcessArguments(false)
    .action((dir: string, flags: { template: string }) => {
      if (dashes !== -1) throw new CliError('EUSAGE', 'init takes no guest arguments (nothing may follow --)');
      const r = initProject(dir, flags.template as Template);
      io.stdout(`kiln: created ${r.files.join(', ')} in ${r.dir}\nNext:\n${r.next.map((l) => `  ${l}\n`).join('')}`);
    });

  configure(program.command('mkfs'), MKFS_HELP)
    .argument('<type>')
    .option('-o, --out <file>')
    .option('--size <size>')
    .option('--from <dir>')
    .option('--fat <12|16|32>')
    .option('--label <name>')
    .allowExcessArguments(false)
    .action(async (type: string, flags: { out?: string; size?: string; from?: string; fat?: string; label?: string }) => {
      if (dashes !== -1) throw new CliError('EUSAGE', 'mkfs takes no guest arguments (nothing may follow --)');
      if (type !== 'fat') throw new CliError('EUSAGE', `mkfs: unknown filesystem type ${JSON.stringify(type)} (only fat)`);
      if (flags.out === undefined) throw new CliError('EUSAGE', 'mkfs: missing -o <disk.img> (where to write the image)');
      if (flags.size === undefined) throw new CliError('EUSAGE', 'mkfs: missing --size <size> (for example --size 64M)');
      const size = parseSize(flags.size);
      const fat = flags.fat === undefined ? undefined : parseFatType(flags.fat);
      const r = await mkfsFat({ out: flags.out, size, ...(flags.from !== undefined ? { from: flags.from } : {}), ...(fat ? { fat } : {}), ...(flags.label !== undefined ? { label: flags.label } : {}) });
      const what = flags.from === undefined ? 'empty' : `${r.files} file${r.files === 1 ? '' : 's'} (${r.bytes} bytes) in ${r.dirs} director${r.dirs === 1 ? 'y' : 'ies'} from ${flags.from}`;
      io.stdout(`${flags.out}: ${r.type.toUpperCase()}, ${size} bytes, ${r.clusterSize}-byte clusters, ${what}\n`);
    });

  program
    .command('help')
    .argument('[command]')
    .action((name?: string) => {
      const texts: Record<string, string> = { build: BUILD_HELP, run: RUN_HELP, profile: PROFILE_HELP, init: INIT_HELP, mkfs: MKFS_HELP };
      if (name !== undefined && texts[name] === undefined) throw new CliError('EUSAGE', `unknown command ${JSON.stringify(name)} (see kiln help)`);
      io.stdout(name === undefined ? MAIN_HELP : texts[name]!);
    });

  if (own.length === 0) {
    io.stdout(MAIN_HELP);
    return 0;
  }
  try {
    await program.parseAsync(own, { from: 'user' });
    return result;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.help' || err.code === 'commander.version') return 0;
      const msg = err.message.replace(/^error: /, '');
      io.stderr(`kiln: ${msg} (see kiln help)\n`);
      return 2;
    }
    if (err instanceof CliError) {
      io.stderr(`kiln: ${err.message}\n${err.details}`);
      return err.exitCode;
    }
    io.stderr(`kiln: internal error: ${(err as Error)?.stack ?? String(err)}\n`);
    return 70;
  }
}
