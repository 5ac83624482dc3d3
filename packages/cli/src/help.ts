// Help texts of the kiln command, written by hand for humans (esbuild's style); golden-tested
// in main.test.ts. Keep them in step with the flags main.ts accepts.

export const MAIN_HELP = `Usage: kiln <command> [options]

Build TypeScript programs into unikernel images and boot them in microVMs.

Commands:
  build <entry.ts> -o <out.elf>      bundle an app with the kernel into a bootable image
  run <image> [options] [-- args]    boot an image; kiln exits with the guest's exit code
  help [command]                     show help for a command

Run "kiln help <command>" for its options.
`;

export const BUILD_HELP = `Usage: kiln build <entry.ts> -o <out.elf>

Bundle <entry.ts>, the kiln:* modules it imports and the kernel prelude with esbuild,
compile the bundle to QuickJS bytecode and write a bootable ELF image.

Options:
  -o, --out <file>    where to write the image (required)
  -h, --help          show this help

Needs the arch core (arch/build/kiln-core.elf, arch/build/kiln-qjsc): bash scripts/setup.sh
`;

export const RUN_HELP = `Usage: kiln run <image> [options] [-- guest args...]

Boot an image in a microVM. kiln exits with the guest's exit code.

Options:
  --mem <MiB>          guest memory, 2 to 65536 MiB (default 64)
  --cpus <n>           number of vCPUs, 1 to 64 (default 1)
  --vmm <kiln|qemu>    Kiln's VMM on /dev/kvm (default), or QEMU microvm
  --accel <kvm|tcg>    QEMU accelerator (default: kvm when /dev/kvm is usable, else tcg)
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
  --vsock <cid>,<path> virtio-vsock with guest CID <cid> (3 or more), Firecracker's hybrid
                       Unix socket: the host connects to <path> and sends "CONNECT <port>\\n";
                       guest connects to CID 2 port P reach <path>_P (Kiln's VMM)
  -h, --help           show this help

Exit codes: the guest's (0-255); 2 bad usage; 123 the guest died; 124 timeout;
125 KVM or VMM failure; 126 bad image.
`;
