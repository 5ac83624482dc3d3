#!/usr/bin/env bash
# Fetch the QuickJS 2021-03-27 sources from the npm registry package `qjsc` (its deps/ folder),
# check the tarball against the pinned integrity, and patch the configuration for a
# freestanding guest: no CONFIG_ATOMICS (it needs OS threads). Nothing fetched is committed.
set -euo pipefail
out=${1:?usage: fetch_quickjs.sh OUTDIR}
version=0.3.0
integrity='sha512-a7+cU6/IVcZbIejffdt/wZVMX6LL2MDL3HQ9Zb5Gm23G9DvBMS/z9GHFxz39bAvp2PvMOM+ypSOAyokt2DdZ2w=='
[ -f "$out/quickjs.c" ] && exit 0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "qjsc@$version" >/dev/null)
tgz="$tmp/qjsc-$version.tgz"
got="sha512-$(openssl dgst -sha512 -binary "$tgz" | base64 -w0)"
if [ "$got" != "$integrity" ]; then
  echo "fetch_quickjs: qjsc@$version integrity mismatch: got $got" >&2
  exit 1
fi
tar -xzf "$tgz" -C "$tmp" package/deps/quickjs_2021_03_27
mkdir -p "$out"
cp -r "$tmp/package/deps/quickjs_2021_03_27/." "$out/"
# CONFIG_ATOMICS pulls in pthreads; the guest has no OS threads.
sed -i 's|^#define CONFIG_ATOMICS$|/* CONFIG_ATOMICS disabled by Kiln: no OS threads in the guest */|' "$out/quickjs.c"
grep -q 'CONFIG_ATOMICS disabled by Kiln' "$out/quickjs.c" || { echo "fetch_quickjs: patch failed" >&2; exit 1; }
echo "fetch_quickjs: QuickJS $(cat "$out/VERSION") in $out"
