#!/usr/bin/env bash
# deps.sh GROUP... installs the Debian packages classhub needs for each
# group, only when something is missing, and makes sure the Docker engine
# answers. Groups:
#   build  headers cgo needs to build the desktop app (Fyne on GLFW/X11)
#   image  mmdebstrap, to build the notebook image from Debian packages
#   test   Xvfb, D-Bus and Chromium for the GUI and browser tests; JupyterHub
#          3.0 with its proxy and the notebook server it spawns, which the
#          learner's client is tested against
#   bench  wrk and JupyterHub's own hub and proxy, to measure against
#   windows  the mingw-w64 C compiler, to cross-build the Windows desktop app
set -euo pipefail

declare -A pkgs=(
  [build]="gcc pkg-config libgl1-mesa-dev libx11-dev libxcursor-dev libxrandr-dev libxinerama-dev libxi-dev libxxf86vm-dev"
  [image]="mmdebstrap"
  [test]="xvfb dbus xdotool x11-utils chromium imagemagick jupyterhub node-configurable-http-proxy python3-notebook"
  [bench]="wrk node-configurable-http-proxy jupyterhub"
  [windows]="gcc-mingw-w64-x86-64"
)

want=()
for g in "$@"; do
  [[ -n ${pkgs[$g]:-} ]] || { echo "deps.sh: unknown group $g" >&2; exit 2; }
  for p in ${pkgs[$g]}; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || want+=("$p")
  done
done

sudo=""
[[ $(id -u) -eq 0 ]] || sudo="sudo"
if ((${#want[@]})); then
  echo "Installing Debian packages: ${want[*]}"
  $sudo apt-get -o DPkg::Lock::Timeout=600 update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${want[@]}" >/dev/null
fi

# A missing X header makes the Fyne build fail after five minutes of
# compiling OpenGL bindings; checking first makes it fail in a second.
for g in "$@"; do
  if [[ $g == build ]]; then
    pkg-config --exists gl x11 xcursor xrandr xinerama xi xxf86vm || {
      echo "deps.sh: X11/OpenGL development headers are still missing (pkg-config)." >&2; exit 1; }
  fi
done

# The Docker engine: the tests and the app need one that answers.
if ! docker info >/dev/null 2>&1; then
  if command -v dockerd >/dev/null && [[ $(id -u) -eq 0 ]]; then
    echo "Starting the Docker engine"
    (dockerd >/var/log/classhub-dockerd.log 2>&1 &)
    for _ in $(seq 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
  fi
  docker info >/dev/null 2>&1 || {
    echo "deps.sh: the Docker engine does not answer; run \`classhub doctor\` for what to do." >&2; exit 1; }
fi
