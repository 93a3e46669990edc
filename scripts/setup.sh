#!/usr/bin/env bash
# Installs what a fresh Debian/Ubuntu machine lacks, then the npm dependencies.
#  - chromium: headless Chrome for the browser tests and benchmarks; its SwiftShader (a CPU Vulkan)
#    is also the WebGPU adapter Node and Firefox fall back to on machines without a GPU driver.
#  - firefox-esr: the second browser of the browser tests (WebGPU through wgpu and naga, where Chromium
#    has Dawn and Tint), so WGSL that only one compiler accepts fails a test.
#  - libvulkan1: the Vulkan loader Dawn (the `webgpu` package) needs.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v firefox-esr >/dev/null 2>&1 || need+=(firefox-esr)
ldconfig -p 2>/dev/null | grep 'libvulkan\.so\.1' >/dev/null || need+=(libvulkan1)  # no grep -q: with pipefail, its early exit fails the pipe
if [ ${#need[@]} -gt 0 ]; then
  if command -v apt-get >/dev/null 2>&1; then
    SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y "${need[@]}"
  else
    echo "setup: please install ${need[*]} with your package manager" >&2
  fi
fi

if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi
