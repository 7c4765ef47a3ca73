// Every bundled example compiles to AMDGPU assembly and HSACO for gfx942 and
// gfx90a; each HSACO is an AMDGPU ELF for its chip with the fwd and combine
// kernel symbols.
//
// RUN: rm -rf %t && mkdir -p %t
// RUN: for t in gfx942 gfx90a; do for f in %examples/*.mlir; do n=$(basename $f .mlir); \
// RUN:   attn-opt $f --attn-compile="target=$t output=%t/$t/$n" -o /dev/null || exit 1; done; done
// RUN: llvm-readelf -h %t/gfx942/mla/mla_decode_attn0.gfx942.hsaco | FileCheck %s --check-prefix=ELF942
// RUN: llvm-readelf -h %t/gfx90a/gqa/gqa_decode_attn0.gfx90a.hsaco | FileCheck %s --check-prefix=ELF90A
// RUN: for h in %t/*/*/*attn*.hsaco; do llvm-readelf -s --wide $h | grep -c -E " (fwd|combine)$"; done | sort -u | FileCheck %s --check-prefix=SYMS
// RUN: for h in %t/*/*/*update*.hsaco; do llvm-readelf -s --wide $h | grep -c -E " update$"; done | sort -u | FileCheck %s --check-prefix=UPDATE
// RUN: cat %t/gfx942/mtla/manifest.json | FileCheck %s --check-prefix=MANIFEST
//
// ELF942: Machine: EM_AMDGPU
// ELF942: Flags: {{.*}}gfx942
// ELF90A: Machine: EM_AMDGPU
// ELF90A: Flags: {{.*}}gfx90a
// Each kernel symbol appears in both symbol tables.
// SYMS: 4
// SYMS-NOT: {{[0-9]}}
// UPDATE: 2
// UPDATE-NOT: {{[0-9]}}
// MANIFEST: "hsaco": "mtla_decode_attn0.gfx942.hsaco"
// MANIFEST: "vendor": "amd"
