#!/usr/bin/env bash
# Installs everything attn needs on a fresh Debian 12 machine. Safe to run twice:
# packages already present are skipped, pip only installs what is missing.
set -euo pipefail

APT_PKGS=(
  llvm-22 llvm-22-dev llvm-22-tools llvm-22-runtime llvm-22-linker-tools
  libmlir-22 libmlir-22-dev mlir-22-tools
  clang-22 lld-22
  rocm-device-libs
  ninja-build cmake
  python3-numpy
)

missing=()
for p in "${APT_PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "setup: all Debian packages present"
fi

# Python packages for the numerical tests (the lit runner uses /usr/bin/python3 via
# Debian's lit; the tests use whichever python3 is on PATH).
PY=${PYTHON:-python3}
if ! "$PY" -c "import numpy, pytest" >/dev/null 2>&1; then
  "$PY" -m pip install -q --disable-pip-version-check numpy pytest
fi
# The Python package's build backend and bindings (python/pyproject.toml).
if ! "$PY" -c "import scikit_build_core, nanobind" >/dev/null 2>&1; then
  "$PY" -m pip install -q --disable-pip-version-check "scikit-build-core>=0.10" "nanobind>=2.0"
fi
echo "setup: done"
