#!/usr/bin/env bash
# Builds the release binary of groundmist-sync that runs on a machine without a Swift toolchain:
# the Swift runtime and Foundation are linked in (--static-swift-stdlib); what remains are the
# system's glibc, libstdc++ and zlib, present on every Debian and Ubuntu. Then checks that the
# binary needs no library from the toolchain and runs, and packs it with the installer:
#
#   bash deploy/build-release.sh                      # -> .build/dist/
#   bash deploy/build-release.sh --output /tmp/dist
#
# Build on the oldest system you deploy to (glibc is linked dynamically): a binary built on
# Debian 12 runs on Debian 12+ and Ubuntu 24.04+. The Docker image builds the same way.
set -euo pipefail
shopt -s inherit_errexit

PACKAGE_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUTPUT="${PACKAGE_DIR}/.build/dist"
SCRATCH=""

while [[ $# -gt 0 ]]; do
    case "$1" in
        --output) OUTPUT="${2:?--output needs a directory}"; shift 2 ;;
        --scratch-path) SCRATCH="${2:?--scratch-path needs a directory}"; shift 2 ;;
        -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
        *) echo "build-release: unknown option $1" >&2; exit 1 ;;
    esac
done

command -v swift >/dev/null 2>&1 || { echo "build-release: needs a Swift 6.2+ toolchain (https://www.swift.org/install/linux/)" >&2; exit 1; }
arguments=(-c release --product groundmist-sync --static-swift-stdlib --package-path "${PACKAGE_DIR}")
[[ -z "${SCRATCH}" ]] || arguments+=(--scratch-path "${SCRATCH}")

swift build "${arguments[@]}"
bin_dir="$(swift build "${arguments[@]}" --show-bin-path)"
binary="${bin_dir}/groundmist-sync"

# No library from the toolchain may be needed at run time.
libraries="$(ldd "${binary}")"
if grep -E 'libswift|libFoundation|libdispatch|libBlocksRuntime|not found' <<<"${libraries}"; then
    echo "build-release: ${binary} still needs the libraries above from the Swift toolchain" >&2
    exit 1
fi
version="$("${binary}" --version)"
arch="$(uname -m)"

mkdir -p "${OUTPUT}"
install -m 0755 "${binary}" "${OUTPUT}/groundmist-sync"
if command -v strip >/dev/null 2>&1; then strip "${OUTPUT}/groundmist-sync"; fi
"${OUTPUT}/groundmist-sync" --version >/dev/null

name="groundmist-sync-${version}-linux-${arch}"
staging="$(mktemp -d)"
trap 'rm -rf "${staging}"' EXIT
mkdir "${staging}/${name}"
cp "${OUTPUT}/groundmist-sync" "${PACKAGE_DIR}/deploy/installer.sh" "${PACKAGE_DIR}/README.md" "${staging}/${name}/"
tar -C "${staging}" -czf "${OUTPUT}/${name}.tar.gz" "${name}"

size="$(du -h "${OUTPUT}/groundmist-sync")"
needed="$(awk '/=>/ { print "  " $1 }' <<<"${libraries}")"
echo "built ${OUTPUT}/groundmist-sync (version ${version}, ${size%%[[:space:]]*}); it needs only these system libraries:"
echo "${needed}"
echo "packed ${OUTPUT}/${name}.tar.gz: unpack it on the server and run"
echo "  sudo bash ${name}/installer.sh --domain sync.example.com --did did:plc:..."
