#!/usr/bin/env bash
# Installs Beltline as a kiosk on 64-bit Raspberry Pi OS: Bookworm (Python 3.11) or Trixie (3.13).
#
#   sudo scripts/install-pi.sh              # console kiosk: starts at boot, no desktop (KMS/DRM)
#   sudo scripts/install-pi.sh --desktop    # a user service in the Raspberry Pi OS desktop instead
#   sudo scripts/install-pi.sh --uninstall  # remove the service and /opt/beltline (keeps config and model)
#   scripts/install-pi.sh --dry-run         # print what it would change, change nothing
#
# Options: --runtime litert|tflite (tflite-runtime works on Python 3.11 only), --no-start, --force
# (skip the OS and architecture check), --no-picamera2 (a Debian without the Raspberry Pi archive,
# which alone has python3-picamera2: an emulated arm64 root, or a Pi with a USB webcam; the kiosk
# then opens webcam:0).  A model already in /var/lib/beltline/models with the manifest's sha256 is
# kept, so an offline Pi needs only that file copied in.  Idempotent: a second run changes nothing
# that is in place.
set -Eeuo pipefail

PREFIX=/opt/beltline
VENV=$PREFIX/venv
MODEL_DIR=/var/lib/beltline/models
RECORDS_DIR=/var/lib/beltline/records
CONFIG=/etc/beltline/config.toml
UNIT=/etc/systemd/system/beltline.service
SERVICE_USER=beltline
CHECKOUT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
APT_PACKAGES=(python3-venv python3-pip python3-numpy python3-opencv python3-pygame)

dry_run=false
desktop=false
uninstall=false
start=true
force=false
picamera2=true
runtime=litert
desktop_unit_only=""
step="starting"
hint="read the message above"

say() { printf 'install-pi: %s\n' "$*"; }
fail() { printf 'install-pi: %s\n' "$*" >&2; exit 1; }
# Every change goes through change(), so --dry-run shows the plan and touches nothing.
change() {
  if $dry_run; then printf '  would run: %s\n' "$*"; else "$@"; fi
}
begin() {
  step=$1
  hint=$2
  say "$step"
}
trap 'printf "install-pi: FAILED while %s.\ninstall-pi: %s\n" "$step" "$hint" >&2' ERR

while [ $# -gt 0 ]; do
  case $1 in
    --dry-run) dry_run=true ;;
    --desktop) desktop=true ;;
    --uninstall) uninstall=true ;;
    --no-start) start=false ;;
    --force) force=true ;;
    --no-picamera2) picamera2=false ;;
    --runtime) shift; runtime=${1:-} ;;
    --desktop-unit-only) shift; desktop_unit_only=${1:?--desktop-unit-only needs a user} ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) fail "unknown option $1 (see --help)" ;;
  esac
  shift
done
case $runtime in litert|tflite) ;; *) fail "--runtime must be litert or tflite" ;; esac
if $picamera2; then
  APT_PACKAGES=(python3-picamera2 "${APT_PACKAGES[@]}")
  camera_module=", picamera2"
  camera_source=picamera
else
  camera_module=""
  camera_source=webcam:0
fi

if ! $dry_run && [ "$(id -u)" -ne 0 ]; then
  fail "run it as root: sudo $0 $*"
fi

# The desktop user's unit, in folders the user owns (systemctl --user enable writes beside it).
# Only the camera and the GPU groups: the desktop hands the keyboard to the window, so the user
# needs no `input` group (which would let them read every keyboard on the machine).
install_desktop_unit() {
  local user=$1 home group unit_dir
  home=$(getent passwd "$user" | cut -d: -f6)
  group=$(id -gn "$user")
  unit_dir=$home/.config/systemd/user
  for folder in "$home/.config" "$home/.config/systemd" "$unit_dir"; do
    [ -d "$folder" ] || change install -d -m 0755 -o "$user" -g "$group" "$folder"
  done
  if ! cmp -s "$CHECKOUT/systemd/beltline-desktop.service" "$unit_dir/beltline.service"; then
    change install -m 0644 -o "$user" -g "$group" "$CHECKOUT/systemd/beltline-desktop.service" \
      "$unit_dir/beltline.service"
  fi
  for supplementary in video render; do
    if getent group "$supplementary" >/dev/null; then
      id -nG "$user" | tr ' ' '\n' | grep -qx "$supplementary" || change usermod -a -G "$supplementary" "$user"
    fi
  done
}
if [ -n "$desktop_unit_only" ]; then  # the desktop unit step alone, for the installer's own test
  install_desktop_unit "$desktop_unit_only"
  exit 0
fi

# --- what machine is this --------------------------------------------------------------------
codename=unknown
if [ -r /etc/os-release ]; then
  # shellcheck disable=SC1091
  codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-unknown}")
fi
arch=$(dpkg --print-architecture 2>/dev/null || uname -m)
if ! $force; then
  case $codename in bookworm|trixie) ;; *) fail "this is '$codename'; Beltline's installer knows Raspberry Pi OS bookworm and trixie (use --force to try anyway)" ;; esac
  [ "$arch" = arm64 ] || fail "this is $arch; a 64-bit Raspberry Pi OS (arm64) is needed (use --force to try anyway)"
fi

# systemd may be installed but not running: a chroot, an image being built (pi-gen), a container.
# Then the unit is installed and enabled (files only) and starts at the next boot.
systemd_running=false
[ -d /run/systemd/system ] && systemd_running=true

if $uninstall; then
  begin "removing the service" "run 'systemctl status beltline' to see what holds it"
  if systemctl list-unit-files beltline.service >/dev/null 2>&1 && [ -f "$UNIT" ]; then
    if $systemd_running; then change systemctl disable --now beltline.service
    else change systemctl disable beltline.service; fi
    change rm -f "$UNIT"
    if $systemd_running; then change systemctl daemon-reload; fi
  fi
  begin "removing $PREFIX" "remove it by hand: sudo rm -rf $PREFIX"
  [ -d "$PREFIX" ] && change rm -rf "$PREFIX"
  say "done. Kept, for a reinstall: $CONFIG and the model in $MODEL_DIR."
  say "Kept: the walk records (numbers only) in $RECORDS_DIR, and a desktop user's in"
  say "  ~/.local/share/beltline. To remove them too: sudo rm -rf /etc/beltline /var/lib/beltline"
  say "  (and, as that user, rm -rf ~/.local/share/beltline ~/.config/systemd/user/beltline.service)"
  exit 0
fi

# --- apt: picamera2, libcamera and the Python stack they are built against ----------------------
begin "installing apt packages" "check the network, run 'sudo apt-get update', then run this script again"
missing=()
for package in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  change apt-get update -q
  change apt-get install -y -q "${missing[@]}"
else
  say "  all present"
fi

# --- the service user ---------------------------------------------------------------------------
begin "creating the $SERVICE_USER user" "check 'id $SERVICE_USER'; the user needs the video, render and input groups"
if ! id -u "$SERVICE_USER" >/dev/null 2>&1; then
  change useradd --system --user-group --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin "$SERVICE_USER"
fi
for group in video render input; do
  if getent group "$group" >/dev/null && ! id -nG "$SERVICE_USER" 2>/dev/null | tr ' ' '\n' | grep -qx "$group"; then
    change usermod -a -G "$group" "$SERVICE_USER"
  fi
done

# --- the virtual environment: apt's numpy, OpenCV, pygame and picamera2; pip's TFLite runtime ------
begin "setting up $VENV" "remove $VENV and run this script again"
[ -x "$VENV/bin/python" ] || change python3 -m venv --system-site-packages "$VENV"
# The runtime and its own dependencies at the tested versions, each wheel checked against its
# sha256 (scripts/pi-runtime-*.txt); --no-deps keeps apt's numpy, which picamera2 is built against.
# Already at those versions, pip changes nothing and needs no network.
if [ "$runtime" = tflite ]; then runtime_module=tflite_runtime; else runtime_module=ai_edge_litert; fi
change "$VENV/bin/pip" install -q --no-deps --require-hashes -r "$CHECKOUT/scripts/pi-runtime-$runtime.txt"
source_stamp=$(git -C "$CHECKOUT" rev-parse HEAD 2>/dev/null || find "$CHECKOUT/kiosk" -name '*.py' -exec sha256sum {} + | sha256sum | cut -c1-40)
if [ "$(cat "$PREFIX/installed-from" 2>/dev/null || true)" != "$source_stamp" ]; then
  # --no-deps: numpy, OpenCV and pygame come from apt (above), consistent with picamera2.
  change "$VENV/bin/pip" install -q --no-deps --force-reinstall "$CHECKOUT"
  change install -m 0644 "$CHECKOUT/README.md" "$PREFIX/README.md"
  if $dry_run; then say "  would record $source_stamp in $PREFIX/installed-from"
  else echo "$source_stamp" > "$PREFIX/installed-from"; fi
fi
if ! $dry_run; then
  PYGAME_HIDE_SUPPORT_PROMPT=1 "$VENV/bin/python" -c "import numpy, cv2, pygame$camera_module, $runtime_module" \
    || fail "the virtual environment cannot import numpy, cv2, pygame$camera_module and $runtime_module"
fi

# --- the model, checked against the manifest ---------------------------------------------------
begin "fetching the model into $MODEL_DIR" "check the network; or copy the .tflite named in models/manifest.toml into $MODEL_DIR"
[ -d "$MODEL_DIR" ] || change install -d -m 0755 "$MODEL_DIR"
# The manifest beside the model lets 'beltline check' verify its sha256.
cmp -s "$CHECKOUT/models/manifest.toml" "$MODEL_DIR/manifest.toml" \
  || change install -m 0644 "$CHECKOUT/models/manifest.toml" "$MODEL_DIR/manifest.toml"
change python3 "$CHECKOUT/scripts/fetch-models" --manifest "$CHECKOUT/models/manifest.toml" --dest "$MODEL_DIR"
model_file=$(python3 -c 'import sys, tomllib; print(tomllib.load(open(sys.argv[1], "rb"))["model"][0]["file"])' "$CHECKOUT/models/manifest.toml")

# --- the records folder: the unit's StateDirectory, made now so that `beltline check` (and an
# image that has never booted) finds it before the service first starts ---------------------------
if ! $desktop; then
  begin "creating $RECORDS_DIR" "check 'ls -ld $RECORDS_DIR'; it must belong to $SERVICE_USER, mode 0700"
  [ -d "$RECORDS_DIR" ] || change install -d -m 0700 -o "$SERVICE_USER" -g "$SERVICE_USER" "$RECORDS_DIR"
fi

# --- configuration: written once, never overwritten ---------------------------------------------
begin "writing $CONFIG" "check that /etc/beltline is writable by root"
if [ ! -f "$CONFIG" ]; then
  config_text="# Beltline configuration: every key and its default is in $PREFIX/README.md.
[model]
path = \"$MODEL_DIR/$model_file\"

[source]
default = \"$camera_source\"

[display]
fullscreen = true
rotation = 0
"
  # The console service records into its state directory (StateDirectory=beltline/records); naming
  # it here lets `beltline check` and `beltline report`, run by hand, find the same file.
  $desktop || config_text+="
[records]
path = \"$RECORDS_DIR/records.sqlite\"
"
  if $dry_run; then printf '  would write %s:\n%s' "$CONFIG" "$config_text"
  else
    # whole or not at all: a temporary file beside it, flushed, then renamed over
    install -d -m 0755 "$(dirname "$CONFIG")"
    config_tmp=$(mktemp "$CONFIG.XXXXXX")
    printf '%s' "$config_text" > "$config_tmp"
    chmod 0644 "$config_tmp"
    sync "$config_tmp"
    mv -f "$config_tmp" "$CONFIG"
    sync "$(dirname "$CONFIG")"
  fi
else
  say "  kept the existing $CONFIG"
fi

# --- the service ---------------------------------------------------------------------------------
if $desktop; then
  begin "installing the desktop user service" "run it again from the desktop user's sudo, so SUDO_USER names that user"
  desktop_user=${SUDO_USER:-}
  if [ -z "$desktop_user" ] || [ "$desktop_user" = root ]; then
    fail "--desktop needs to be run with sudo by the desktop user"
  fi
  install_desktop_unit "$desktop_user"
  say "  enable it as $desktop_user: systemctl --user daemon-reload && systemctl --user enable --now beltline"
else
  begin "installing the systemd service" "run 'systemd-analyze verify $UNIT' and 'journalctl -u beltline' to see why"
  unit_changed=false
  if ! cmp -s "$CHECKOUT/systemd/beltline.service" "$UNIT"; then
    change install -m 0644 "$CHECKOUT/systemd/beltline.service" "$UNIT"
    if $systemd_running; then change systemctl daemon-reload; fi
    unit_changed=true
  fi
  systemctl is-enabled --quiet beltline.service 2>/dev/null || change systemctl enable beltline.service
  if [ "$(systemctl get-default 2>/dev/null || true)" = graphical.target ]; then
    say "  note: this Pi boots to the desktop, which holds the screen. Either boot to the console"
    say "  (sudo raspi-config nonint do_boot_behaviour B1, then reboot) or use --desktop."
  fi
  if $start && ! $systemd_running; then
    say "  systemd is not running here (a chroot or an image build): the service starts at the next boot"
  elif $start; then
    if $unit_changed || ! systemctl is-active --quiet beltline.service 2>/dev/null; then
      change systemctl restart beltline.service
    fi
  fi
fi

begin "checking" "read the FAIL lines above: each names its fix"
if $dry_run; then
  say "  would run: runuser -u $SERVICE_USER -- $VENV/bin/beltline check --config $CONFIG"
else
  # runuser (util-linux) is on every Debian; sudo is not (a minimal image has none).
  runuser -u "$SERVICE_USER" -- env SDL_VIDEODRIVER=kmsdrm "$VENV/bin/beltline" check --config "$CONFIG" \
    || say "  some checks failed (the display check fails while the desktop or the service holds the screen)"
fi
say "done. Logs: journalctl -u beltline -f"
