#!/usr/bin/env bash
# Set up a fresh Debian machine for edgekit, idempotently:
#   1. Debian packages (cross toolchains, QEMU), --no-install-recommends, only what is missing;
#   2. .venv with the pinned Python dependencies (requirements.lock) and edgekit installed editable;
#   3. .venv-labgrid with labgrid (requirements-labgrid.lock): its pyserial fork (pyserial-labgrid)
#      installs the same `serial` package as pyserial, so edgekit runs labgrid's tools from there,
#      and the HIL suite runs there under labgrid's pytest plugin (edgekit installed --no-deps).
# Re-running is cheap: both steps are skipped when nothing changed.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  build-essential
  gcc-aarch64-linux-gnu libc6-dev-arm64-cross binutils-aarch64-linux-gnu
  gcc-arm-none-eabi libnewlib-arm-none-eabi binutils-arm-none-eabi
  qemu-user qemu-system-arm
  python3-venv
  clang libclang-rt-14-dev   # libFuzzer + ASan/UBSan runtimes for firmware/fuzz (scripts/fuzz.sh)
  qemu-system-x86 linux-image-amd64 busybox-static dropbear-bin cpio   # the Linux VM twin of the car computer
  openssh-client i2c-tools v4l-utils e2fsprogs                         # SSH deploy; register/camera read-back in the VM
  chromium            # headless render check of the HIL report.html
  ser2net             # a labgrid exporter serves a board's local tty (RawSerialPort/USBSerialPort) with it
)

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "bootstrap: installing Debian packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "bootstrap: creating .venv"
  "$PY" -m venv .venv
fi
stamp=.venv/.edgekit-lock.sha256
want=$(cat requirements.lock pyproject.toml | sha256sum | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "bootstrap: installing Python dependencies (requirements.lock)"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -r requirements.lock
  .venv/bin/python -m pip install -q --no-deps --no-build-isolation -e .
  echo "$want" > "$stamp"
fi
if [ ! -x .venv-labgrid/bin/python ]; then
  echo "bootstrap: creating .venv-labgrid"
  "$PY" -m venv .venv-labgrid
fi
lg_stamp=.venv-labgrid/.edgekit-lock.sha256
lg_want=$(cat requirements-labgrid.lock pyproject.toml | sha256sum | cut -d' ' -f1)
if [ ! -f "$lg_stamp" ] || [ "$(cat "$lg_stamp")" != "$lg_want" ]; then
  echo "bootstrap: installing labgrid (requirements-labgrid.lock)"
  .venv-labgrid/bin/python -m pip install -q --upgrade pip
  .venv-labgrid/bin/python -m pip install -q -r requirements-labgrid.lock
  # edgekit itself, for the HIL suite under labgrid's pytest plugin (its deps: the lock above)
  .venv-labgrid/bin/python -m pip install -q --no-deps --no-build-isolation -e .
  echo "$lg_want" > "$lg_stamp"
fi
echo "bootstrap: ready (.venv/bin/edgekit, .venv-labgrid/bin/labgrid-client)"
