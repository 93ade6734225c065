#!/usr/bin/env bash
# The kiosk installed and run in an emulated arm64 Debian root, its analysis compared with x86's.
#
#   sudo scripts/pi-emulated-install.sh [--suite bookworm|trixie] [--root DIR] [--clip CLIP]
#
# Steps, each timed: register qemu-user-static with binfmt_misc; debootstrap an arm64 root; a venv
# in it with `pip install` of this checkout (the aarch64 wheels from PyPI); `beltline analyze` on
# the clip with the CPU a Pi 4 has (QEMU_CPU=cortex-a72 and its /proc/cpuinfo: under QEMU's default
# CPU, XNNPACK picks kernels no Pi runs); the same analysis here; the CSVs compared.  Not yet:
# scripts/install-pi.sh itself inside the root (it needs the Raspberry Pi archive's picamera2).
# Not run by CI (it needs root, the network and about 10 minutes); shellcheck checks it.
set -euo pipefail

suite=bookworm
root=
here=$(cd "$(dirname "$0")" && pwd)
project=$(dirname "$here")
clip=$project/../shared/data/frontal_walk_outdoor_cane.mp4
model=$project/../shared/models/lite-model_movenet_singlepose_lightning_tflite_int8_4.tflite
while [ $# -gt 0 ]; do
  case $1 in
    --suite) shift; suite=${1:-} ;;
    --root) shift; root=${1:-} ;;
    --clip) shift; clip=${1:-} ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "pi-emulated-install: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
case $suite in bookworm|trixie) ;; *) echo "pi-emulated-install: --suite must be bookworm or trixie" >&2; exit 2 ;; esac
root=${root:-/tmp/pi-$suite}
[ "$(id -u)" -eq 0 ] || { echo "pi-emulated-install: run it as root (debootstrap, chroot, mounts)" >&2; exit 1; }
[ -f "$model" ] && [ -f "$clip" ] || { echo "pi-emulated-install: $model or $clip is missing" >&2; exit 1; }

started=$SECONDS
timed() {
  local label=$1; shift
  local t0=$SECONDS
  "$@"
  printf 'pi-emulated-install: %-34s %4d s\n' "$label" $((SECONDS - t0))
}

register() {
  command -v debootstrap >/dev/null && [ -x /usr/libexec/qemu-binfmt/aarch64-binfmt-P ] \
    || DEBIAN_FRONTEND=noninteractive apt-get install -y -q qemu-user-static debootstrap >/dev/null
  [ -e /proc/sys/fs/binfmt_misc/register ] || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
  [ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ] || grep -v '^#' /usr/lib/binfmt.d/qemu-aarch64.conf \
    > /proc/sys/fs/binfmt_misc/register
}

bootstrap() {
  [ -x "$root/usr/bin/python3" ] && return 0
  mkdir -p "$root"
  debootstrap --arch=arm64 --variant=minbase --include=python3,python3-venv,ca-certificates "$suite" "$root" \
    http://deb.debian.org/debian >"$root.debootstrap.log" 2>&1
}

copy_in() {
  mkdir -p "$root/beltline" "$root/shared/models" "$root/shared/data"
  rm -rf "${root:?}/beltline/"*
  git -C "$project" archive HEAD | tar -x -C "$root/beltline"
  cp "$model" "$root/shared/models/"
  cp "$clip" "$root/shared/data/"
  cp /etc/resolv.conf "$root/etc/resolv.conf"
  [ -f /etc/ssl/certs/ca-certificates.crt ] && cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/"
  printf '[model]\nmirror_average = true\nthreads = 1\n[records]\nenabled = false\n' > "$root/pinned.toml"
  mountpoint -q "$root/proc" || mount -t proc proc "$root/proc"
  mountpoint -q "$root/sys" || mount -t sysfs sys "$root/sys"
  mountpoint -q "$root/proc/cpuinfo" || mount --bind "$project/../shared/piemu/cpuinfo.a72" "$root/proc/cpuinfo"
}

install_kiosk() {
  chroot "$root" /bin/sh -c 'python3 -m venv /opt/beltline/venv && /opt/beltline/venv/bin/pip install -q /beltline' \
    >"$root.pip.log" 2>&1
}

analyze_arm64() {
  chroot "$root" /bin/sh -c "cd /beltline && QEMU_CPU=cortex-a72 /opt/beltline/venv/bin/beltline analyze \
    /shared/data/$(basename "$clip") --model /shared/models/$(basename "$model") --config /pinned.toml \
    --csv /arm64.csv --summary /arm64.json" >"$root.analyze.log" 2>&1
}

analyze_here() {
  "$project/.venv/bin/beltline" analyze "$clip" --model "$model" --config "$root/pinned.toml" --csv "$root.x86.csv" \
    --summary "$root.x86.json" 2>/dev/null
}

compare() {
  "$project/.venv/bin/python" - "$root/arm64.csv" "$root.x86.csv" <<'EOF'
import csv, statistics, sys
a, b = (list(csv.DictReader(open(path))) for path in sys.argv[1:3])
pairs = list(zip(a, b))
same = sum(x["state"] == y["state"] for x, y in pairs)
def diffs(key):
    return [abs(float(x[key]) - float(y[key])) for x, y in pairs if x[key] and y[key]]
shown, raw = diffs("tilt_deg"), diffs("raw_tilt_deg")
print(f"pi-emulated-install: {len(a)} arm64 rows, {len(b)} x86 rows; the same state on {same}")
if shown:
    print(f"pi-emulated-install: shown tilt differs by {statistics.median(shown):.2f} deg at the median, "
          f"{max(shown):.2f} at most; raw tilt {statistics.median(raw):.2f} / {max(raw):.2f}")
EOF
}

timed "binfmt_misc and qemu-user-static" register
timed "debootstrap $suite arm64" bootstrap
timed "the checkout, model and clip copied in" copy_in
timed "pip install in the arm64 root" install_kiosk
timed "analyze on arm64 (Cortex-A72)" analyze_arm64
timed "analyze here" analyze_here
compare
printf 'pi-emulated-install: %d s in all\n' $((SECONDS - started))
