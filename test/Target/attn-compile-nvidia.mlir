// REQUIRES: ptxas
// Every bundled example compiles to PTX and cubin for sm_90a and sm_80; ptxas
// assembles every PTX for its target and its resource report is kept next
// to the binaries (%t/<target>/<example>/ptxas.txt).
//
// RUN: rm -rf %t && mkdir -p %t
// RUN: for t in sm_90a sm_80; do for f in %examples/*.mlir; do n=$(basename $f .mlir); \
// RUN:   attn-opt $f --attn-compile="target=$t output=%t/$t/$n" -o /dev/null || exit 1; \
// RUN:   for p in %t/$t/$n/*.ptx; do %ptxas -arch=$t -v $p -o /dev/null 2>> %t/$t/$n/ptxas.txt || exit 1; done; \
// RUN: done; done
// RUN: cat %t/sm_90a/mla/ptxas.txt | FileCheck %s --check-prefix=PTXAS
// RUN: cat %t/sm_90a/mla/manifest.json | FileCheck %s --check-prefix=MANIFEST
// RUN: ls %t/sm_90a/*/ %t/sm_80/*/ | FileCheck %s --check-prefix=FILES
// RUN: FileCheck %s --check-prefix=PTX < %t/sm_80/mla/mla_decode_attn0.sm_80.ptx
//
// The MLA decode runs on tensor cores from sm_80 on: cp.async tile copies
// (zero-filling past the sequence), ldmatrix fragments, bf16 mma.sync.
// PTX: .target sm_80
// PTX-DAG: cp.async.cg.shared.global
// PTX-DAG: cp.async.commit_group
// PTX-DAG: cp.async.wait_group
// PTX-DAG: ldmatrix.sync.aligned.m8n8.x4.shared.b16
// PTX-DAG: mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32
// PTX-DAG: ldmatrix.sync.aligned.m8n8.x2.trans.shared.b16
//
// PTXAS: Compiling entry function 'fwd' for 'sm_90a'
// PTXAS: Used {{[0-9]+}} registers, used 1 barriers, {{[0-9]+}} bytes smem
// PTXAS: Compiling entry function 'combine' for 'sm_90a'
//
// The absorbed MLA decode: 128 query heads over one 576-wide key (512 latent
// + 64 rope), values the first 512 columns, latent_up in the combine kernel.
// MANIFEST: "abi": "memref1d"
// MANIFEST: "function": "mla_decode"
// MANIFEST: "name": "query",
// MANIFEST-NEXT: "shape": [
// MANIFEST-NEXT: "B",
// MANIFEST-NEXT: "Tq",
// MANIFEST-NEXT: "128",
// MANIFEST-NEXT: "576"
// MANIFEST-NEXT: ],
// MANIFEST-NEXT: "strides": [
// MANIFEST-NEXT: "Tq*73728",
// MANIFEST-NEXT: "73728",
// MANIFEST-NEXT: "576",
// MANIFEST-NEXT: "1"
// MANIFEST: "key_width": 576
// MANIFEST: "kv_form": "latent"
// MANIFEST: "value_epilogue": "latent_up"
// MANIFEST: "value_width": 512
// MANIFEST: "target": "sm_90a"
//
// FILES-DAG: gqa_decode_attn0.sm_90a.cubin
// FILES-DAG: gqa_decode_attn0.sm_90a.ptx
// FILES-DAG: mtla_prefill_update0.sm_90a.ptx
// FILES-DAG: gta_sun_decode_attn0.sm_80.cubin
// FILES-DAG: mfa_kr_prefill_attn0.sm_80.ptx
