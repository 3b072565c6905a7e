#!/usr/bin/env bash
# The arm64 C libraries the linux-arm64 executable needs when a test runs it
# under qemu-aarch64-static on this x64 machine (qemu -L runtimes/arm64-sysroot):
# glibc's loader and libc, libstdc++ and libgcc_s, Debian's arm64 builds of
# the packages below, unpacked with dpkg-deb -x.
# Nothing on the system changes: no `dpkg --add-architecture`, no install.
# apt reads the system's sources but keeps its arm64 package lists and
# downloads in a private state directory (runtimes/.apt-arm64).
set -euo pipefail
cd "$(dirname "$0")/../runtimes"
packages=(libc6:arm64 libstdc++6:arm64 libgcc-s1:arm64)
sysroot=arm64-sysroot
[ -e "$sysroot/lib/ld-linux-aarch64.so.1" ] && [ -e "$sysroot/usr/lib/aarch64-linux-gnu/libstdc++.so.6" ] && exit 0
state=.apt-arm64
rm -rf "$state" "$sysroot.tmp"
mkdir -p "$state/lists/partial" "$state/cache/archives/partial" "$state/debs" "$sysroot.tmp"
: > "$state/status"
apt=(-qq
  -o APT::Architecture=arm64 -o APT::Architectures::=arm64
  -o Dir::State="$PWD/$state" -o Dir::State::Lists="$PWD/$state/lists" -o Dir::State::status="$PWD/$state/status"
  -o Dir::Cache="$PWD/$state/cache" -o APT::Sandbox::User=root)
apt-get "${apt[@]}" update
(cd "$state/debs" && apt-get "${apt[@]}" download "${packages[@]}")
for deb in "$state"/debs/*.deb; do dpkg-deb -x "$deb" "$sysroot.tmp"; done
rm -rf "$sysroot" "$state"
mv "$sysroot.tmp" "$sysroot"
