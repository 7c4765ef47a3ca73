#!/usr/bin/env bash
# Regenerates docs/Dialects/ from ODS. test/Docs checks the copy is current.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${ATTN_BUILD_DIR:-$ROOT/build}
"$ROOT/scripts/build.sh" --target mlir-doc >/dev/null
mkdir -p "$ROOT/docs/Dialects"
cp "$BUILD/docs/Dialects/"*.md "$ROOT/docs/Dialects/"
cp "$BUILD/docs/"*.md "$ROOT/docs/"
echo "docs/Dialects updated"
