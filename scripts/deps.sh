#!/bin/bash
# The one list of Debian packages Atrium needs to build, run and test, and the one way to
# build it. Sourced by scripts/run-server and scripts/run-tests; run directly it installs
# what is missing (`scripts/deps.sh`) or also builds (`scripts/deps.sh build`).

ATRIUM_DEPS=(
  # toolchain
  meson ninja-build pkg-config g++
  # media
  libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev libgstreamer-plugins-bad1.0-dev
  gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad
  gstreamer1.0-plugins-ugly gstreamer1.0-libav gstreamer1.0-nice gstreamer1.0-tools
  gstreamer1.0-x  # pango textoverlay: names on MCU tiles
  libnice-dev libopencv-dev
  opencv-data  # Haar cascades for atriumfacedetect
  gstreamer1.0-pocketsphinx pocketsphinx-en-us  # offline live transcription (conference.transcribe)
  # control plane and storage
  libsoup-3.0-dev libjson-glib-dev nlohmann-json3-dev libsqlite3-dev sqlite3
  libsodium-dev libjwt-dev glib-networking  # TLS for https:// and wss://
  # tests and benchmarks
  libgtest-dev libgmock-dev wrk curl python3
  opencv-doc  # its examples/data/messi5.jpg: the face photo atriumfacedetect is tested on
  espeak-ng  # speaks the phrase the transcription test publishes
  # sanitizer and fuzzing build (build-asan: clang with ASan, UBSan and libFuzzer), valgrind
  clang-14 libclang-rt-14-dev valgrind
  # browser and interop tests (tests/browser, tests/interop): Debian's Chromium driven by npm
  # playwright-core on the machine's own Node (never Debian's nodejs), an aiortc peer on
  # /usr/bin/python3, and ../shared/tools/netns-run with its packet capture
  chromium python3-aiortc python3-websockets tcpdump iproute2 util-linux
  # packages (scripts/package, tests/packaging): .deb, .rpm, lint, unit check
  dpkg-dev debhelper lintian rpm systemd adduser
  mmdebstrap  # scripts/package-cross: the arm64 build chroot
)

ATRIUM_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# Installs the packages of ATRIUM_DEPS that are not installed yet; silent when none is.
atrium_deps() {
  local missing=() pkg
  for pkg in "${ATRIUM_DEPS[@]}"; do
    [[ "$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null)" == "install ok installed" ]] ||
      missing+=("$pkg")
  done
  ((${#missing[@]})) || return 0
  local sudo=()
  ((EUID == 0)) || sudo=(sudo)
  echo "deps: installing ${missing[*]}" >&2
  "${sudo[@]}" apt-get update -qq &&
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
}

# Configures build/ once (ninja regenerates it after meson.build changes) and builds it.
atrium_build() {
  if [[ ! -f "$ATRIUM_ROOT/build/build.ninja" ]]; then
    meson setup "$ATRIUM_ROOT/build" "$ATRIUM_ROOT" || return
  fi
  ninja -C "$ATRIUM_ROOT/build" -j2
}

# The sanitizer build: clang-14 with AddressSanitizer + UndefinedBehaviorSanitizer and the
# libFuzzer targets (tests/fuzz), in build-asan/.
atrium_build_asan() {
  if [[ ! -f "$ATRIUM_ROOT/build-asan/build.ninja" ]]; then
    CC=clang-14 CXX=clang++-14 meson setup "$ATRIUM_ROOT/build-asan" "$ATRIUM_ROOT" \
      -Db_sanitize=address,undefined -Db_lundef=false -Dfuzzing=true || return
  fi
  ninja -C "$ATRIUM_ROOT/build-asan" -j2
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  set -euo pipefail
  atrium_deps
  [[ "${1:-}" != build ]] || atrium_build
fi
