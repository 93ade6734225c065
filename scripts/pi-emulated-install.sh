#!/usr/bin/env bash
# The Pi install run for real in an emulated arm64 Debian root, its analysis compared with x86's.
#
#   sudo scripts/pi-emulated-install.sh [--suite bookworm|trixie] [--root DIR] [--clip CLIP] [--pip]
#
# Steps, each timed: register qemu-user-static with binfmt_misc; debootstrap a minimal arm64 root
# (python3 and systemd, as every Raspberry Pi OS has); the model copied into the root's
# /var/lib/beltline/models (the offline path: install-pi.sh keeps a file whose sha256 matches);
# scripts/install-pi.sh --no-picamera2 --no-start inside it (apt's numpy, OpenCV and pygame, pip's
# ai-edge-litert; python3-picamera2 is only in the Raspberry Pi archive, not reachable here);
# `beltline check` as the service user; `beltline analyze` of the clip with the installed kiosk and
# the CPU a Pi 4 has (QEMU_CPU=cortex-a72 and its /proc/cpuinfo: under QEMU's default CPU, XNNPACK
# picks kernels no Pi runs), of the clip and of a lossless FFV1 copy of its frames (decoded here
# once, so both machines read the same pixels); the same analyses here; the CSVs compared; one
# frame as a PNG through both kiosks (scripts/model-input-probe.py: the model's input tensor on
# each side, and x86's tensor through the arm64 model).  --pip also installs this
# checkout with plain `pip install` (PyPI's aarch64 wheels of numpy, OpenCV and pygame) into a
# second venv and compares its CSV too.  An existing root is reused (delete it for a clean one).
# Not run by CI (it needs root, the network and 10-20 minutes); shellcheck checks it.
set -euo pipefail

suite=bookworm
root=
pip_too=false
here=$(cd "$(dirname "$0")" && pwd)
project=$(dirname "$here")
clip=$project/../shared/data/frontal_walk_outdoor_cane.mp4
model=$project/../shared/models/lite-model_movenet_singlepose_lightning_tflite_int8_4.tflite
while [ $# -gt 0 ]; do
  case $1 in
    --suite) shift; suite=${1:-} ;;
    --root) shift; root=${1:-} ;;
    --clip) shift; clip=${1:-} ;;
    --pip) pip_too=true ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "pi-emulated-install: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
case $suite in bookworm|trixie) ;; *) echo "pi-emulated-install: --suite must be bookworm or trixie" >&2; exit 2 ;; esac
root=${root:-/tmp/pi-$suite}
[ "$(id -u)" -eq 0 ] || { echo "pi-emulated-install: run it as root (debootstrap, chroot, mounts)" >&2; exit 1; }
[ -f "$model" ] && [ -f "$clip" ] || { echo "pi-emulated-install: $model or $clip is missing" >&2; exit 1; }

started=$SECONDS
unmount() {
  local point
  for point in proc/cpuinfo proc sys; do
    if mountpoint -q "$root/$point"; then umount "$root/$point" || true; fi
  done
}
trap unmount EXIT
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
  debootstrap --arch=arm64 --variant=minbase --include=python3,ca-certificates,systemd "$suite" "$root" \
    http://deb.debian.org/debian >"$root.debootstrap.log" 2>&1
}

copy_in() {
  mkdir -p "$root/beltline" "$root/shared/data" "$root/var/lib/beltline/models"
  rm -rf "${root:?}/beltline/"*
  git -C "$project" archive HEAD | tar -x -C "$root/beltline"
  cp "$model" "$root/var/lib/beltline/models/"
  cp "$clip" "$root/shared/data/"
  # The same frames losslessly (FFV1, decoded here once): both machines then read the very same
  # pixels, which takes each platform's H.264 decoder out of the comparison.
  "$project/.venv/bin/python" - "$clip" "$root/shared/data/lossless.avi" <<'EOF'
import sys, cv2
source = cv2.VideoCapture(sys.argv[1])
size = (int(source.get(cv2.CAP_PROP_FRAME_WIDTH)), int(source.get(cv2.CAP_PROP_FRAME_HEIGHT)))
writer = cv2.VideoWriter(sys.argv[2], cv2.VideoWriter_fourcc(*"FFV1"), source.get(cv2.CAP_PROP_FPS), size)
while True:
    ok, image = source.read()
    if not ok:
        break
    writer.write(image)
writer.release()
source.set(cv2.CAP_PROP_POS_FRAMES, 0)
ok, image = source.read()
cv2.imwrite(sys.argv[2].replace("lossless.avi", "frame.png"), image)
EOF
  cp /etc/resolv.conf "$root/etc/resolv.conf"
  # A host behind a TLS-inspecting proxy trusts its CA locally; the root needs it for pip too.
  if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
    mkdir -p "$root/usr/local/share/ca-certificates"
    cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/"
    in_root update-ca-certificates >/dev/null 2>&1
  fi
  printf '[model]\nmirror_average = true\nthreads = 1\nrefine_radius = 2\n[records]\nenabled = false\n' \
    > "$root/pinned.toml"
  mountpoint -q "$root/proc" || mount -t proc proc "$root/proc"
  mountpoint -q "$root/sys" || mount -t sysfs sys "$root/sys"
  mountpoint -q "$root/proc/cpuinfo" || mount --bind "$project/../shared/piemu/cpuinfo.a72" "$root/proc/cpuinfo"
}

in_root() {
  chroot "$root" /usr/bin/env QEMU_CPU=cortex-a72 DEBIAN_FRONTEND=noninteractive "$@"
}

install_pi() {
  in_root bash /beltline/scripts/install-pi.sh --no-picamera2 --no-start >"$root.install-pi.log" 2>&1 \
    || { tail -n 20 "$root.install-pi.log" >&2; return 1; }
}

check_arm64() {
  # The camera fails (there is none), and so does kmsdrm (no screen); the rest must pass.
  in_root runuser -u beltline -- env SDL_VIDEODRIVER=kmsdrm /opt/beltline/venv/bin/beltline check \
    --config /etc/beltline/config.toml >"$root.check.log" 2>&1 || true
  in_root runuser -u beltline -- env SDL_VIDEODRIVER=offscreen /opt/beltline/venv/bin/beltline check \
    --config /etc/beltline/config.toml >>"$root.check.log" 2>&1 || true
  sed 's/^/  /' "$root.check.log"
  in_root PYGAME_HIDE_SUPPORT_PROMPT=1 /opt/beltline/venv/bin/python -c 'import sys, numpy, cv2, pygame, ai_edge_litert
print("  versions: Python", sys.version.split()[0], "numpy", numpy.__version__, "OpenCV", cv2.__version__,
      "pygame", pygame.version.ver, "SDL", ".".join(map(str, pygame.get_sdl_version())))'
}

analyze_arm64() {
  local venv=$1 name=$2 file=${3:-$(basename "$clip")}
  in_root runuser -u beltline -- "$venv/bin/beltline" analyze "/shared/data/$file" \
    --model "/var/lib/beltline/models/$(basename "$model")" --config /pinned.toml \
    --csv "/tmp/$name.csv" --summary "/tmp/$name.json" >"$root.$name.log" 2>&1 \
    || { tail -n 5 "$root.$name.log" >&2; return 1; }
}

probe_input() {
  # One frame as a PNG through both kiosks: the input tensor told from the model's arithmetic.
  local model_file
  model_file=$(basename "$model")
  "$project/.venv/bin/python" "$project/scripts/model-input-probe.py" "$root/shared/data/frame.png" \
    "$root/probe-x86.npz" --config "$root/pinned.toml" --model "$model" 2>/dev/null
  in_root /opt/beltline/venv/bin/python /beltline/scripts/model-input-probe.py /shared/data/frame.png \
    /probe-arm64.npz --config /pinned.toml --model "/var/lib/beltline/models/$model_file" --other /probe-x86.npz \
    >"$root.probe.log" 2>&1 || { tail -n 5 "$root.probe.log" >&2; return 1; }
  printf '  %s\n' "$("$project/.venv/bin/python" "$project/scripts/model-input-probe.py" --compare \
    "$root/probe-arm64.npz" "$root/probe-x86.npz")"
}

install_pip() {
  in_root /bin/sh -c 'python3 -m venv /opt/pip-venv && /opt/pip-venv/bin/pip install -q /beltline' \
    >"$root.pip.log" 2>&1
}

analyze_here() {
  "$project/.venv/bin/beltline" analyze "$clip" --model "$model" --config "$root/pinned.toml" --csv "$root.x86.csv" \
    --summary "$root.x86.json" 2>/dev/null
  "$project/.venv/bin/beltline" analyze "$root/shared/data/lossless.avi" --model "$model" --config "$root/pinned.toml" \
    --csv "$root.x86-lossless.csv" --summary "$root.x86-lossless.json" 2>/dev/null
}

compare() {
  "$project/.venv/bin/python" - "$1" "${3:-$root.x86.csv}" "$2" <<'EOF'
import csv, statistics, sys
a, b = (list(csv.DictReader(open(path))) for path in sys.argv[1:3])
label = sys.argv[3]
pairs = list(zip(a, b))
same = sum(x["state"] == y["state"] for x, y in pairs)
def diffs(key):
    return [abs(float(x[key]) - float(y[key])) for x, y in pairs if x[key] and y[key]]
shown, raw = diffs("tilt_deg"), diffs("raw_tilt_deg")
print(f"pi-emulated-install: {label}: {len(a)} arm64 rows, {len(b)} x86 rows; the same state on {same}")
if shown:
    print(f"pi-emulated-install: {label}: shown tilt differs by {statistics.median(shown):.2f} deg at the median, "
          f"{max(shown):.2f} at most; raw tilt {statistics.median(raw):.2f} / {max(raw):.2f}")
EOF
}

timed "binfmt_misc and qemu-user-static" register
timed "debootstrap $suite arm64" bootstrap
timed "the checkout, model and clip copied in" copy_in
timed "install-pi.sh --no-picamera2 in the root" install_pi
timed "beltline check in the root" check_arm64
timed "analyze, installed kiosk (Cortex-A72)" analyze_arm64 /opt/beltline/venv installed
timed "analyze the lossless copy there" analyze_arm64 /opt/beltline/venv installed-lossless lossless.avi
timed "one frame's input and model, both sides" probe_input
if $pip_too; then
  timed "pip install in a second venv" install_pip
  timed "analyze, pip's wheels (Cortex-A72)" analyze_arm64 /opt/pip-venv pip
fi
timed "analyze here" analyze_here
compare "$root/tmp/installed.csv" "installed kiosk (apt's OpenCV)"
compare "$root/tmp/installed-lossless.csv" "installed kiosk, the lossless copy" "$root.x86-lossless.csv"
if $pip_too; then compare "$root/tmp/pip.csv" "pip's wheels"; fi
printf 'pi-emulated-install: %d s in all\n' $((SECONDS - started))
