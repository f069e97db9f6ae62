#!/usr/bin/env bash
# Installs the Debian 12 packages mandelfly needs, and only those that are missing.
# usage: scripts/setup.sh [run|test]   (default: run)
#   run:  what building and running the renderer needs
#   test: that plus what building and running the test suite needs
set -euo pipefail

# A Vulkan driver (Mesa's lavapipe runs without a GPU), and what building the video output
# needs: the FFmpeg libraries and headers, and clang for their bindings.
# The X11 libraries are what the live window loads at run time.
RUN_PACKAGES=(mesa-vulkan-drivers libvulkan1
  clang libclang-dev pkg-config libavcodec-dev libavformat-dev libavutil-dev libswscale-dev
  libx11-6 libx11-xcb1 libxcursor1 libxrandr2 libxi6 libxkbcommon-x11-0)
# g++ builds the NVIDIA FLIP image metric used by the golden-image tests; kill (procps) sends
# the interruption test's SIGINT; Xvfb gives the window test a display.
TEST_PACKAGES=("${RUN_PACKAGES[@]}" g++ procps xvfb)

case "${1:-run}" in
  run) wanted=("${RUN_PACKAGES[@]}") ;;
  test) wanted=("${TEST_PACKAGES[@]}") ;;
  *) echo "usage: $0 [run|test]" >&2; exit 2 ;;
esac

if [ "$(id -u)" -eq 0 ]; then SUDO=(); else SUDO=(sudo); fi

missing=()
for p in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  "${SUDO[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

# The EXR tests read mandelfly's files back with OpenEXR's own Python bindings (PyPI: OpenEXR),
# an independent reader.
if [ "${1:-run}" = test ] && ! python3 -c "import OpenEXR" 2>/dev/null; then
  echo "setup: installing the Python OpenEXR package" >&2
  pip=(python3 -m pip install --quiet --disable-pip-version-check OpenEXR)
  # Debian's own Python marks itself externally managed; a user-level install is still fine.
  "${pip[@]}" >&2 || "${pip[@]}" --user --break-system-packages >&2
fi
