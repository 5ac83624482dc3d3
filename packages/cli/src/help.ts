// Help texts of the kiln command, written by hand for humans (esbuild's style); golden-tested
// in main.test.ts. Keep them in step with the flags main.ts accepts; numbers come from their constants.

import { MEM_MIB_MAX, MEM_MIB_MIN } from '@kiln/common';
import { HEAP_MIN_BYTES } from '@kiln/common';
import { GUEST_EXIT_CPU_FAULT, GUEST_EXIT_JS_ERROR, GUEST_EXIT_NO_HEAP, GUEST_EXIT_OUT_OF_MEMORY } from '@kiln/common/exit_codes.ts';
import { CMDLINE_KILN_MAX } from './run.ts';

export const MAIN_HELP = `Usage: kiln <command> [options]

Build TypeScript programs into unikernel images and boot them in microVMs.

Commands:
  build <entry.ts> -o <out.elf>      bundle an app with the kernel into a bootable image
  run <image> [options] [-- args]    boot an image; kiln exits with the guest's exit code
  profile <image> [options] [-- args]
                                     run an image and sample where it spends its time
  init [dir] [--template http|hono]  scaffold a project that builds and runs as it is
  mkfs fat -o <disk.img> --size <n>  create a FAT disk image, optionally filled from a directory
  help [command]                     show help for a command

Run "kiln help <command>" for its options.
`;

export const BUILD_HELP = `Usage: kiln build <entry.ts> -o <out.elf> [--assets <dir>[:/<path>]] [--mode <mode>]
                  [--define <name>=<value> ...]

Bundle <entry.ts>, the kiln:* modules it imports and the kernel prelude with esbuild,
compile the bundle to QuickJS bytecode and write a bootable ELF image.

npm packages resolve as for Cloudflare Workers: the workerd, worker and browser export
conditions, then the browser, module and main fields. A package that needs a Node
module Kiln does not provide, or a native addon (.node), fails the build naming the
package, its file and the module.

Options:
  -o, --out <file>    where to write the image (required)
  --assets <dir>[:/<path>]
                      bake the files under <dir> into the image as a read-only
                      filesystem (bootfs), mounted at / or at /<path> before the app
                      runs; the app reads them with kiln:fs (which it must import).
                      Symbolic links may not lead outside <dir>
  --mode <mode>       the value of process.env.NODE_ENV, replaced in the code at
                      build time (default: production)
  --define <name>=<value>
                      replace <name> (an identifier or dotted path, e.g.
                      process.env.API_URL) with <value>, a JSON literal or an
                      identifier: --define 'process.env.API_URL="http://x"'.
                      Repeatable
  -h, --help          show this help

An app that uses BigInt (a literal such as 12n, BigInt, BigInt64Array, BigUint64Array,
DataView's getBigInt64 and the like, process.hrtime.bigint) gets the engine with BigInt
(arch/build/kiln-core-bigint.elf, ~110 KB larger and slower at plain arithmetic); the
others get the one without it. The build line says ", with BigInt" for the former.

Needs the arch cores (arch/build/kiln-core.elf + kiln-qjsc, kiln-core-bigint.elf +
kiln-qjsc-bigint): bash scripts/setup.sh
`;

export const PROFILE_HELP = `Usage: kiln profile <image> [run options] [--hz <n>] [--duration <s>] [-o <base>]
                    [--top <n>] [-- guest args...]

Run an image as kiln run does (every run option applies; Kiln's VMM, on KVM or the process
platform) and sample it from outside, without changing the image: each sample is the
guest's native stack (RIP and the frame-pointer chain through the C core and QuickJS, named
from the image's symbol table; files and lines from the arch build's core ELF through
addr2line when the image's code is that core's) and its JavaScript stack (QuickJS's frame
list, named from the guest's own bytecode and, for class methods and kept arrows, from the
image's function names, in the app's TypeScript files and lines through its line map). At
the end (the guest stops, or --duration passes while it runs on) kiln prints the top
functions on stderr and writes three files.

Options:
  --hz <n>             samples per second, 1 to 10000 (default 1000)
  --duration <s>       stop sampling after <s> seconds and write the profile; the guest
                       runs on (default: sample until the guest stops)
  -o, --output <base>  write <base>.txt (the table, every function), <base>.folded (folded
                       stacks: flamegraph.pl, speedscope) and <base>.svg (a flame graph to open
                       in a browser); default kiln-profile
  --top <n>            rows of the table printed on stderr (default 25)
  -h, --help           show this help

A program that ends before the first sample gets a profile that says so. Samples whose
stack cannot be read in full keep what could be read; a guest that exits, crashes or is
stopped keeps the samples taken so far, and the profile says why sampling stopped.
`;

export const RUN_HELP = `Usage: kiln run <image> [options] [-- guest args...]

Boot an image in a microVM, or where the host has no usable /dev/kvm, as a confined process
on the same devices (the process platform). kiln exits with the guest's exit code.

Options:
  --mem <MiB>          guest memory, ${MEM_MIB_MIN} to ${MEM_MIB_MAX} MiB (default 64); a Kiln image needs
                       its segments plus ${HEAP_MIN_BYTES / 1024 / 1024} MiB of heap (hello: 4), checked before boot
  --cpus <n>           number of vCPUs, 1 to 64 (default 1)
  --vmm <kiln|qemu>    Kiln's VMM (default), or QEMU microvm
  --accel <kvm|process|tcg>
                       Kiln's VMM: kvm, or process (the image runs as a seccomp-confined
                       process; one vCPU); default kvm when /dev/kvm is usable, else
                       process (said on stderr). QEMU: kvm or tcg, default kvm when usable
  --unconfined         process platform only: run even where the host refuses seccomp
                       (without it, such a host is an error)
  --boot-timer         print "Guest-boot-time = N us" when the app starts (Kiln's VMM)
  --bootchart          make the guest print its boot phases
  --timings            print how long each VM setup step took (Kiln's VMM)
  --timeout <s>        stop the guest after <s> seconds
  --console <serial|virtio|auto>
                       guest console on Kiln's VMM: the serial port (one trap per byte),
                       virtio-console (one notification per event-loop turn; probing it
                       costs ~3 ms), or auto (default: serial, then virtio-console after
                       512 characters of output)
  --disk <path>[,ro]   attach a raw disk image (size a multiple of 512) as a virtio-blk
                       device; ,ro makes it read-only; repeat for more disks
  --net user[,hostfwd=[tcp:]127.0.0.1:HOSTPORT-:GUESTPORT ...]
                       virtio-net NIC on user-mode networking (passt on Kiln's VMM,
                       slirp on QEMU): guest 10.0.2.15/24, gateway 10.0.2.2 (given to
                       kiln:net as ip= on the guest command line: no DHCP wait); each
                       hostfwd forwards a loopback TCP port to the guest
  --net tap=NAME[,ip=ADDR/PREFIX[,gw=GW]]
                       virtio-net NIC on an existing TAP interface; kiln:net uses the
                       static address ADDR/PREFIX (and gateway GW), or DHCP without ip=
  --dns ADDR[,ADDR]    DNS servers for kiln:net and fetch (instead of DHCP's; user-mode
                       networking and a static ip= give none)
  --vsock <cid>,<path> virtio-vsock with guest CID <cid> (3 or more), Firecracker's hybrid
                       Unix socket: the host connects to <path> and sends "CONNECT <port>\\n";
                       guest connects to CID 2 port P reach <path>_P (Kiln's VMM)
  --share <dir>:<tag>[,ro][,suid]
                       share a host directory with the guest over virtio-fs; the guest
                       mounts it by <tag> (at most 36 bytes); ,ro makes it read-only;
                       setuid/setgid bits the guest sets are stripped unless ,suid;
                       repeat for more shares (Kiln's VMM)
  --env <name>=<value> set a variable of the guest's environment (kiln:process env); repeat
                       for more. Names: a letter or _, then letters, digits or _; values:
                       no double quote or control character; the whole guest command line
                       holds at most ${CMDLINE_KILN_MAX} bytes
  --mount <guestpath>=<spec>
                       mount a filesystem for kiln:fs before the app's first line runs:
                       <spec> is a --disk index (0 = the first; FAT detected from its
                       boot sector), the <tag> of a --share, or tmpfs (in guest memory);
                       repeat for more mounts. Cached writes go back to the disk at exit
  -h, --help           show this help

Exit codes: the guest's own (0-255; on QEMU only 0-127 survive isa-debug-exit), among
them ${GUEST_EXIT_JS_ERROR} an uncaught JS error or unhandled rejection, ${GUEST_EXIT_OUT_OF_MEMORY} the guest's JavaScript heap ran
out of memory (give it more --mem), ${GUEST_EXIT_NO_HEAP} too little memory after the image for the core's
heap or JS runtime, and ${GUEST_EXIT_CPU_FAULT} a CPU exception, a fatal core error (an abort) or, on the
process platform, a fault signal or a refused system call; 2 bad usage; 70 an internal
error of kiln; 123 the guest died (also QEMU ended by a signal); 124 timeout; 125 KVM,
tender or VMM failure (a host that cannot confine the guest too); 126 bad image;
128+N kiln itself ended by signal N.
`;

export const INIT_HELP = `Usage: kiln init [dir] [--template http|hono]

Create a Kiln project in <dir> (default: the current directory): package.json with build,
start and typecheck scripts, tsconfig.json (extends this Kiln's app tsconfig, so kiln:* modules
and the guest's globals typecheck), main.ts and .gitignore. Nothing is written if one of those
files exists.

Options:
  --template http   a web server on kiln:http (default; no dependencies)
  --template hono   a Hono app served by kiln:http (npm install fetches hono)

Then: npm install && npm run build && npm start (kiln must be on the PATH: see the README).
`;

export const MKFS_HELP = `Usage: kiln mkfs fat -o <disk.img> --size <size> [options]

Create a FAT12/16/32 disk image for \`kiln run --disk\`, formatted and filled by Kiln's own
FAT driver (the one the guest runs).

Options:
  -o, --out <file>     where to write the image (replaced if it exists; required)
  --size <size>        image size: bytes, or a number with K, M or G (KiB, MiB, GiB),
                       a multiple of 512 (required)
  --from <dir>         copy this host directory tree into the image (files and
                       directories only; names must be valid FAT long names)
  --fat <12|16|32>     FAT type (default by size, as mkfs.fat: FAT12/16 below 512 MiB,
                       FAT32 from 512 MiB); the cluster size adapts to the type
  --label <name>       volume label, up to 11 characters (A-Z 0-9 space ! # $ % & ' ( ) - @ ^ _ \` { } ~)
  -h, --help           show this help
`;
