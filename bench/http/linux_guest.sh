#!/bin/bash
# Builds the Linux+Node reference guest of bench/http: Debian's cloud kernel (not PVM-aware, so
# it runs under QEMU TCG here, a reference only) with an initramfs holding busybox, the host's
# node binary and its libraries, the virtio-net modules and node_hello.mjs. Output in
# bench/out/linux-guest/{vmlinuz,initrd.cpio.gz}. Nothing is installed on the system: the
# kernel package is downloaded with apt-get download and unpacked here.
# Usage: bash bench/http/linux_guest.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=$here/../out/linux-guest
mkdir -p "$out" && cd "$out"
command -v busybox >/dev/null && file -L "$(command -v busybox)" | grep -q 'statically linked' \
  || { echo "needs a static busybox: apt-get install busybox-static" >&2; exit 1; }
if [ ! -f vmlinuz ]; then
  rm -rf pkg && mkdir pkg
  (cd pkg && apt-get download linux-image-cloud-amd64 2>/dev/null \
    && dep=$(dpkg-deb -f linux-image-cloud-amd64_*.deb Depends | sed 's/ .*//') \
    && apt-get download "$dep" 2>/dev/null && dpkg-deb -x "$dep"_*.deb x)
  cp pkg/x/boot/vmlinuz-* vmlinuz
fi
root=$out/root
rm -rf "$root" && mkdir -p "$root"/{bin,lib/modules,proc,sys,dev,tmp,app}
cp "$(command -v busybox)" "$root/bin/busybox"
for t in sh mount insmod ip ifconfig route sleep cat dmesg; do ln -sf busybox "$root/bin/$t"; done
node=$(command -v node)
mkdir -p "$root/usr/bin" && cp "$node" "$root/usr/bin/node"
for lib in $(ldd "$node" | grep -o '/[^ ]*'); do mkdir -p "$root$(dirname "$lib")"; cp -L "$lib" "$root$lib"; done
mods=$(find pkg/x/lib/modules -name '*.ko')
for m in failover net_failover virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci virtio_net; do
  cp "$(echo "$mods" | grep "/$m.ko$")" "$root/lib/modules/"
done
cp "$here/node_hello.mjs" "$root/app/"
cat > "$root/init" <<'INIT'
#!/bin/sh
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
for m in failover net_failover virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci virtio_net; do insmod /lib/modules/$m.ko || dmesg | tail -3; done
ip link set lo up; ip link set eth0 up
ip addr add 10.0.2.15/24 dev eth0; ip route add default via 10.0.2.2
exec /usr/bin/node /app/node_hello.mjs 8080 0.0.0.0
INIT
chmod +x "$root/init"
(cd "$root" && find . | busybox cpio -o -H newc 2>/dev/null | gzip -1) > initrd.cpio.gz
echo "$out/vmlinuz $out/initrd.cpio.gz"
