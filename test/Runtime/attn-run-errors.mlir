// The runtime and attn-run fail with a message naming the problem, never a
// crash.
//
// RUN: rm -rf %t && mkdir -p %t/bad %t/old
// RUN: not attn-run 2>&1 | FileCheck %s --check-prefix=NODIR
// NODIR: attn-run: no artifact directory
// RUN: not attn-run %t/missing 2>&1 | FileCheck %s --check-prefix=MISSING
// MISSING: attn-run: cannot read '{{.*}}missing/manifest.json'
// RUN: printf '{"version": 1, "abi": "memref1d", "modules": [' > %t/bad/manifest.json
// RUN: not attn-run %t/bad 2>&1 | FileCheck %s --check-prefix=JSON
// JSON: attn-run: {{.*}}bad/manifest.json: unexpected end of input at offset 46
// RUN: printf '{"version": 2, "abi": "memref1d", "modules": []}' > %t/old/manifest.json
// RUN: not attn-run %t/old 2>&1 | FileCheck %s --check-prefix=VERSION
// VERSION: unsupported manifest version or kernel ABI
// RUN: not attn-run %t/old --batch x 2>&1 | FileCheck %s --check-prefix=ARGS
// ARGS: attn-run: bad number 'x' for --batch
// RUN: not attn-run %t/old --frobnicate 2>&1 | FileCheck %s --check-prefix=OPTION
// OPTION: attn-run: unknown option --frobnicate
// RUN: not attn-run %t/old --combine some 2>&1 | FileCheck %s --check-prefix=COMBINE
// COMBINE: attn-run: --combine takes auto, row, rows, wide, slices, latent-slices or grid, got 'some'
