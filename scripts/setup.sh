#!/usr/bin/env bash
# setup.sh — prepares a fresh Debian machine for Kiln and builds everything once:
# Debian packages (QEMU, musl, toolchain), npm dependencies (pinned by package-lock.json, and
# tests/compat/package-lock.json for the npm compatibility suite),
# the KVM addon (node-gyp) and the guest core, host bytecode compiler and the process platform's
# tender (make -C arch).
# Safe to run again: each step skips what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(build-essential binutils python3 openssl qemu-system-x86 musl-tools musl-dev passt iproute2 iputils-ping dosfstools mtools busybox dnsmasq-base curl wrk librsvg2-bin)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  sudo_cmd=(); [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

echo "setup: npm dependencies"
npm ci --no-audit --no-fund --loglevel=error
echo "setup: npm compatibility suite packages (tests/compat, a lockfile of its own)"
npm ci --prefix tests/compat --no-audit --no-fund --loglevel=error

echo "setup: KVM addon"
npm run --silent build -w @kiln/kvm

echo "setup: CLI bundle"
npm run --silent build:cli

echo "setup: guest core and bytecode compiler"
make -s -C arch -j"$(nproc)"

# `kiln` on the PATH (projects' npm scripts call it; npx costs ~0.7 s of npm start-up per call).
bindir=/usr/local/bin
if [ -w "$bindir" ] && { [ ! -e "$bindir/kiln" ] || [ -L "$bindir/kiln" ]; }; then
  ln -sfn "$PWD/packages/cli/bin/kiln.js" "$bindir/kiln"
  echo "setup: kiln is on the PATH ($bindir/kiln → $PWD/packages/cli/bin/kiln.js)"
else
  echo "setup: to put kiln on the PATH: export PATH=\"$PWD/node_modules/.bin:\$PATH\""
fi

if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
  echo "setup: done (/dev/kvm is usable)"
else
  echo "setup: done (/dev/kvm is not usable here: kiln run uses the process platform; QEMU runs with TCG)"
fi
