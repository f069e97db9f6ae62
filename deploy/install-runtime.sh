#!/usr/bin/env bash
# What a render node's container needs at run time, in one place: the Dockerfile runs this to
# build the image, and the test suite runs it with --check on its own Debian 12 machine, so a
# renamed package or a new library the binary links cannot slip past the image recipe.
#
# usage: deploy/install-runtime.sh                  install (idempotently), as root, on Debian 12;
#               MANDELFLY_NVIDIA_ICD=FILE writes the NVIDIA driver description there instead
#        deploy/install-runtime.sh --check BINARY   change nothing; check that every package is
#               installed here and that every shared library BINARY loads comes from one of
#               them, their dependencies, or Debian's base system
set -euo pipefail

# The FFmpeg libraries the binary links, the Vulkan loader wgpu opens, and Mesa's lavapipe: the
# software Vulkan driver it falls back to where no GPU driver is visible.
PACKAGES=(libavcodec59 libavformat59 libavutil57 libswscale6 libvulkan1 mesa-vulkan-drivers)
# Where the NVIDIA container runtime (NVIDIA_DRIVER_CAPABILITIES with `graphics`) puts NVIDIA's
# Vulkan driver description; written here in case the runtime mounts the library but not this.
NVIDIA_ICD=${MANDELFLY_NVIDIA_ICD:-/etc/vulkan/icd.d/nvidia_icd.json}

die() { echo "install-runtime.sh: $*" >&2; exit 1; }
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

case "${1:-}" in
  "")
    missing=()
    for p in "${PACKAGES[@]}"; do installed "$p" || missing+=("$p"); done
    if [ ${#missing[@]} -gt 0 ]; then
      apt-get update -qq
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
    fi
    if [ ! -e "$NVIDIA_ICD" ]; then
      mkdir -p "$(dirname "$NVIDIA_ICD")"
      printf '%s\n' '{"file_format_version": "1.0.0",' \
        ' "ICD": {"library_path": "libGLX_nvidia.so.0", "api_version": "1.3"}}' >"$NVIDIA_ICD"
    fi
    ;;
  --check)
    binary=${2:?usage: install-runtime.sh --check BINARY}
    [ -x "$binary" ] || die "$binary: not an executable"
    for p in "${PACKAGES[@]}"; do installed "$p" || die "package $p is not installed (or not in Debian 12)"; done
    dpkg -L mesa-vulkan-drivers | grep -q 'icd.d/lvp_icd' || die "mesa-vulkan-drivers has no lavapipe ICD"
    dpkg -L libvulkan1 | grep -q 'libvulkan.so.1$' || die "libvulkan1 has no libvulkan.so.1"
    # What the image has: these packages, everything they depend on, and the base system.
    allowed=$(apt-cache depends --recurse --installed --no-recommends --no-suggests \
      --no-conflicts --no-breaks --no-replaces --no-enhances "${PACKAGES[@]}" 2>/dev/null \
      | grep -v '^ ' | grep -v '^<'
      dpkg-query -W -f='${Package} ${Priority}\n' | awk '$2 == "required" { print $1 }')
    libs=$(ldd "$binary" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }')
    [ -n "$libs" ] || die "ldd found no libraries in $binary"
    # Debian 12 records some libraries under /lib, others under /usr/lib: ask for both.
    candidates=()
    for lib in $libs; do
      for path in "$lib" "$(realpath "$lib")"; do
        candidates+=("$path" "${path/#\/usr\/lib\//\/lib\/}" "${path/#\/lib\//\/usr\/lib\/}")
      done
    done
    owners=$(dpkg -S "${candidates[@]}" 2>/dev/null || true)
    for lib in $libs; do
      name=$(basename "$(realpath "$lib")")
      owner=$(grep -F "/$name" <<<"$owners" | head -n1 | cut -d: -f1)
      [ -n "$owner" ] || die "$lib (needed by $binary) belongs to no Debian package"
      grep -qxF "$owner" <<<"$allowed" ||
        die "$lib (needed by $binary) comes from $owner, which the image does not install: add it to PACKAGES"
    done
    echo "install-runtime.sh: ${PACKAGES[*]} installed; every library $(basename "$binary") loads is covered"
    ;;
  *) echo "usage: $0 [--check BINARY]" >&2; exit 2 ;;
esac
