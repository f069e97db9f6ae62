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
# the interruption test's SIGINT; Xvfb gives the window test a display; Slurm and munge run the
# job-array script on a one-node cluster; python3 and pip bring the Kubernetes schema check.
TEST_PACKAGES=("${RUN_PACKAGES[@]}" g++ procps xvfb slurm-wlm munge python3 python3-pip)
# From PyPI (tests only): the Kubernetes manifests are validated against the Kubernetes schema;
# the EXR tests read mandelfly's files back with OpenEXR's own Python bindings.
TEST_PYTHON_PACKAGES=(kubernetes-validate==1.37.0 OpenEXR==3.5.3)

case "${1:-run}" in
  run) wanted=("${RUN_PACKAGES[@]}") ;;
  test) wanted=("${TEST_PACKAGES[@]}") ;;
  *) echo "usage: $0 [run|test]" >&2; exit 2 ;;
esac

missing=()
for p in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ "$(id -u)" -eq 0 ]; then SUDO=(); else SUDO=(sudo); fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  "${SUDO[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

if [ "${1:-run}" = test ]; then
  for spec in "${TEST_PYTHON_PACKAGES[@]}"; do
    python3 -m pip show -q "${spec%%==*}" >/dev/null 2>&1 && continue
    echo "setup: installing $spec from PyPI" >&2
    # Debian's own python3 refuses pip installs unless told (PEP 668); a pyenv or venv python does not.
    pip_flags=(--quiet --disable-pip-version-check --root-user-action=ignore)
    python3 -c 'import os, sysconfig; exit(not os.path.exists(os.path.join(sysconfig.get_path("stdlib"), "EXTERNALLY-MANAGED")))' \
      && pip_flags+=(--break-system-packages)
    "${SUDO[@]}" python3 -m pip install "${pip_flags[@]}" "$spec" >&2
  done
fi
