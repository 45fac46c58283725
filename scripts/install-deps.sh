#!/usr/bin/env bash
# Installs what building, testing and running Sockscope needs on Debian/Ubuntu, and nothing that is
# already there. Safe to run again. Needs root (or sudo) only when something is missing.
set -euo pipefail

# Runtime libraries eframe loads with dlopen (so `ldd` does not show them), `ss` for the tests that
# compare with it, zenity for the save/open dialog when no desktop portal runs, and libnss-extrausers for
# the test that proves user names come through NSS (inert unless nsswitch.conf names it).
packages=(
  iproute2
  libgl1 libegl1 libgl1-mesa-dri
  libx11-6 libxcursor1 libxi6 libxrandr2 libxkbcommon0 libxkbcommon-x11-0
  libwayland-client0 libwayland-egl1 libwayland-cursor0
  libdbus-1-3
  zenity
  libnss-extrausers
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if ! command -v cargo >/dev/null 2>&1; then
  echo "install-deps: cargo not found; install Rust from https://rustup.rs first" >&2
  exit 1
fi
if command -v rustup >/dev/null 2>&1; then
  for c in rustfmt clippy; do
    rustup component list --installed 2>/dev/null | grep -q "^$c" || rustup component add "$c"
  done
fi
echo "install-deps: all set"
