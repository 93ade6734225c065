#!/usr/bin/env bash
# Set up ../shared/piemu's instruction counting for scripts/pi-frame-count.py, under $PIEMU_DIR
# (default /tmp/piemu); nothing goes into the host's Python or apt state.
#   - Debian 12's arm64 Python 3.11 userland, unpacked (not installed) with a private apt config;
#   - QEMU's plugin header from Debian's qemu source, and the counting plugin built against it;
#   - the aarch64 wheels of the kiosk's runtime stack, at the versions installed in .venv;
#   - two roots whose /proc/cpuinfo says Cortex-A72 (Pi 4) and Cortex-A76 (Pi 5).
# Needs root for apt-get install of qemu-user and libglib2.0-dev (skipped when present).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
project=$(dirname "$here")
piemu=$project/../shared/piemu
dir=${PIEMU_DIR:-/tmp/piemu}
pip=${PIP:-$project/.venv/bin/pip}
step() { printf 'pi-emulation-setup: %s\n' "$*"; }

[ -f "$piemu/icount.c" ] || { echo "pi-emulation-setup: $piemu/icount.c is missing (../shared beside the checkout)" >&2; exit 1; }
[ -x "$pip" ] || { echo "pi-emulation-setup: $pip is missing: run the README's install first" >&2; exit 1; }

if ! command -v qemu-aarch64 >/dev/null || ! pkg-config --exists glib-2.0; then
  step "installing qemu-user and libglib2.0-dev"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q qemu-user libglib2.0-dev
fi

step "a private arm64 apt configuration in $dir/apt"
mkdir -p "$dir"/apt/{lists/partial,cache/partial,etc/sources.list.d,etc/preferences.d} "$dir"/root "$dir"/src \
  "$dir"/plugin "$dir"/wheels/dl "$dir"/wheels/site
touch "$dir/apt/status"
cat > "$dir/apt/etc/sources.list" <<EOF
deb [arch=arm64] http://deb.debian.org/debian bookworm main
deb [arch=arm64] http://deb.debian.org/debian-security bookworm-security main
deb-src http://deb.debian.org/debian bookworm main
EOF
cat > "$dir/apt/apt.conf" <<EOF
Dir::State "$dir/apt";
Dir::State::Lists "$dir/apt/lists";
Dir::State::status "$dir/apt/status";
Dir::Cache "$dir/apt/cache";
Dir::Etc::SourceList "$dir/apt/etc/sources.list";
Dir::Etc::SourceParts "$dir/apt/etc/sources.list.d";
Dir::Etc::Preferences "$dir/apt/etc/preferences";
Dir::Etc::PreferencesParts "$dir/apt/etc/preferences.d";
APT::Architecture "arm64";
APT::Architectures { "arm64"; };
Acquire::Languages "none";
EOF
export APT_CONFIG=$dir/apt/apt.conf
apt-get update -q >/dev/null

step "Debian 12's arm64 Python 3.11 userland into $dir/root"
(cd "$dir/apt/cache" && apt-get download -q python3.11-minimal libpython3.11-minimal libpython3.11-stdlib python3.11 \
  libc6 libstdc++6 libgcc-s1 zlib1g libexpat1 libffi8 libssl3 libbz2-1.0 liblzma5 libsqlite3-0 libncursesw6 \
  libtinfo6 libreadline8 libuuid1 libcrypt1 libnsl2 libtirpc3 libdb5.3 libgssapi-krb5-2 libkrb5-3 libk5crypto3 \
  libcom-err2 libkrb5support0 libkeyutils1 media-types libgomp1 >/dev/null)
for deb in "$dir"/apt/cache/*.deb; do dpkg -x "$deb" "$dir/root"; done

step "the counting plugin, against QEMU's own plugin header"
(cd "$dir/src" && apt-get source -q --download-only qemu >/dev/null)
tar -xJf "$dir"/src/qemu_*.orig.tar.xz -C "$dir/src" --wildcards '*/include/qemu/qemu-plugin.h'
header=$(dirname "$(find "$dir/src" -name qemu-plugin.h | head -1)")
# shellcheck disable=SC2046  # pkg-config prints several flags
gcc -shared -fPIC -O2 $(pkg-config --cflags glib-2.0) -I"$header" "$piemu/icount.c" -o "$dir/plugin/libicount.so"

step "the aarch64 wheels of the versions in .venv"
version() { "$pip" show "$1" | sed -n 's/^Version: //p'; }
platforms=()
for tag in manylinux2014 manylinux_2_17 manylinux_2_27 manylinux_2_28 manylinux_2_31 manylinux_2_34; do
  platforms+=(--platform "${tag}_aarch64")
done
for package in ai-edge-litert numpy opencv-python-headless pygame; do
  "$pip" download -q --no-deps --only-binary=:all: --python-version 3.11 --implementation cp \
    "${platforms[@]}" -d "$dir/wheels/dl" "$package==$(version "$package")"
done
"$pip" download -q --no-deps --only-binary=:all: -d "$dir/wheels/dl" "flatbuffers==$(version flatbuffers)"
for wheel in "$dir"/wheels/dl/*.whl; do "$project/.venv/bin/python" -m zipfile -e "$wheel" "$dir/wheels/site/"; done

step "roots for a Cortex-A72 (Pi 4) and a Cortex-A76 (Pi 5)"
for cpu in a72 a76; do
  mkdir -p "$dir/root$cpu"
  cp -a "$dir/root/." "$dir/root$cpu/"
  mkdir -p "$dir/root$cpu/proc"
  cp "$piemu/cpuinfo.$cpu" "$dir/root$cpu/proc/cpuinfo"
done
step "done: python scripts/pi-frame-count.py run --cpu cortex-a72"
