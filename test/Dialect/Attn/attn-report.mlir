// The report's cache sizes and decode intensities for the realistic
// configurations of variants.md §11.4 match the table of §9 (bf16 cache):
// MHA ~1, MQA ~h_q, GQA ~g_q, GTA ~2 g_q (rope row counted), MLA ~1.89 h_q,
// GLA-2 ~h_q, MFA ~h_q, MFA-KR ~2 h_q, Sun's GTA ~n_q, MTLA per slot as MLA.
// Then the fused path's choice for a one-token decode step and its roofline
// time at B = 16, L = 8192: GQA streams (4 query rows per KV head) into
// mma.sync fragments, two 16-row steps in flight per warp (on CUDA cores, 8
// rows), and is memory-bound (537 MB at 3 TB/s + launches); GTA's
// tied rows and Sun's 5-row groups would be issue-bound streaming and take
// the narrow wgmma form (two blocks an SM); MLA's 128 rows per latent row
// take sm_90a warpgroups (two per 64-row block for the 512-wide values,
// memory-bound at 770 TFLOP/s), on mma.sync alone the softmax in workgroup
// memory (FLOP-bound at 490), or without tensor cores the tiled CUDA-core
// kernel (FLOP-bound at 67); GLA, MFA and MFA-KR (64 rows per group) one
// warpgroup each.
//
// RUN: attn-opt --attn-report -o /dev/null %examples/mha.mlir | FileCheck %s --check-prefix=MHA
// MHA: function{{ +}}kv_form{{ +}}h_q{{ +}}h_kv{{ +}}h_out{{ +}}cache el/tok{{ +}}bytes/tok{{ +}}vs MHA{{ +}}decode AI{{ +}}schedule{{ +}}rows{{ +}}unroll{{ +}}decode us@16x8k{{ +}}why
// MHA: mha_prefill{{.*}}wgmma{{.*}}query tokens not static (prefill): 1.0 FLOP/B, past the CUDA-core ridge (22), tensor cores (wgmma), 1 warpgroup per 64-row block (128 value columns each), 64-row tiles, 4 stages, pipelined
// MHA: mha_decode{{ +}}separate{{ +}}32{{ +}}32{{ +}}32{{ +}}8192.0{{ +}}16384.0{{ +}}1.0000{{ +}}1.00
// RUN: attn-opt --attn-report -o /dev/null %examples/mqa.mlir | FileCheck %s --check-prefix=MQA
// MQA: mqa_decode{{ +}}separate{{ +}}32{{ +}}1{{ +}}32{{ +}}256.0{{ +}}512.0{{ +}}0.0312{{ +}}32.00{{ +}}wgmma-narrow{{ +}}32{{ +}}1{{ +}}30.4{{ +}}32 query rows per cache group: 32.0 FLOP/B, past the CUDA-core ridge (22), tensor cores (wgmma), the narrow form: 1 warpgroup, the 32 rows as wgmma's N (K Q^T, V^T P^T), 64-row tiles, 4 stages, tiles copied by TMA{{$}}
// RUN: attn-opt --attn-report -o /dev/null %examples/gqa.mlir | FileCheck %s --check-prefix=GQA
// GQA: gqa_decode{{ +}}separate{{ +}}32{{ +}}8{{ +}}32{{ +}}2048.0{{ +}}4096.0{{ +}}0.2500{{ +}}4.00{{ +}}mma-stream{{ +}}4{{ +}}2{{ +}}187.0{{ +}}4 query rows per cache group <= 8: stream rows from memory straight into mma.sync fragments (rows padded to 16; on CUDA cores the ~100 instructions per cache row would bound it)
// RUN: attn-opt --attn-report="tensor-cores=false" -o /dev/null %examples/gqa.mlir | FileCheck %s --check-prefix=GQA-CUDA
// GQA-CUDA: gqa_decode{{ +}}separate{{ +}}32{{ +}}8{{ +}}32{{ +}}2048.0{{ +}}4096.0{{ +}}0.2500{{ +}}4.00{{ +}}streaming{{ +}}4{{ +}}8{{ +}}187.0{{ +}}4 query rows per cache group <= 8: stream rows through registers
// RUN: attn-opt --attn-report -o /dev/null %examples/gta.mlir | FileCheck %s --check-prefix=GTA
// GTA: gta_decode{{ +}}tied{{ +}}32{{ +}}8{{ +}}32{{ +}}1088.0{{ +}}2176.0{{ +}}0.1328{{ +}}7.53{{ +}}wgmma-narrow{{ +}}8{{ +}}1{{ +}}103.1{{ +}}4 query rows per cache group, tied row (two views of each element): streaming would be issue-bound; tensor cores (wgmma), the narrow form: 1 warpgroup, the 8 rows as wgmma's N (K Q^T, V^T P^T), 64-row tiles, 3 stages, 2 blocks an SM, tiles copied by TMA
// RUN: attn-opt --attn-report -o /dev/null %examples/mla.mlir | FileCheck %s --check-prefix=MLA
// MLA: mla_decode{{ +}}latent{{ +}}128{{ +}}1{{ +}}128{{ +}}576.0{{ +}}1152.0{{ +}}0.0176{{ +}}241.78{{ +}}wgmma{{ +}}64{{ +}}1{{ +}}58.3{{ +}}128 query rows per cache group: 241.8 FLOP/B, past the CUDA-core ridge (22), tensor cores (wgmma), 2 warpgroups per 64-row block (256 value columns each), 64-row tiles, 2 stages, tiles copied by TMA, the seesaw over tile pairs{{$}}
// RUN: attn-opt --attn-report="warpgroup-mma=false" -o /dev/null %examples/mla.mlir | FileCheck %s --check-prefix=MLA-SYNC
// MLA-SYNC: mla_decode{{ +}}latent{{ +}}128{{ +}}1{{ +}}128{{ +}}576.0{{ +}}1152.0{{ +}}0.0176{{ +}}241.78{{ +}}mma{{ +}}32{{ +}}1{{ +}}82.5{{ +}}128 query rows per cache group: 241.8 FLOP/B, past the CUDA-core ridge (22), tensor cores (mma.sync), softmax in workgroup memory (16-row tiles; in registers, padded rows and recomputed scores would pass half the tensor-core ridge, 82 FLOP/B, or leave one block per SM)
// RUN: attn-opt --attn-report="tensor-cores=false" -o /dev/null %examples/mla.mlir | FileCheck %s --check-prefix=MLA-CUDA
// MLA-CUDA: mla_decode{{ +}}latent{{ +}}128{{ +}}1{{ +}}128{{ +}}576.0{{ +}}1152.0{{ +}}0.0176{{ +}}241.78{{ +}}tiled{{ +}}8{{ +}}1{{ +}}552.9{{ +}}128 query rows per cache group: too many for registers, stage tiles in workgroup memory
// RUN: attn-opt --attn-report -o /dev/null %examples/gla.mlir | FileCheck %s --check-prefix=GLA
// GLA: gla_decode{{ +}}latent{{ +}}128{{ +}}2{{ +}}128{{ +}}576.0{{ +}}1152.0{{ +}}0.0176{{ +}}128.00{{ +}}wgmma{{ +}}64{{ +}}1{{ +}}58.3{{ +}}64 query rows per cache group: 128.0 FLOP/B, past the CUDA-core ridge (22), tensor cores (wgmma), 1 warpgroup per 64-row block (256 value columns each), 64-row tiles, 4 stages, pipelined
// RUN: attn-opt --attn-report -o /dev/null %examples/mfa.mlir | FileCheck %s --check-prefix=MFA
// MFA: mfa_decode{{ +}}separate{{ +}}64{{ +}}1{{ +}}64{{ +}}512.0{{ +}}1024.0{{ +}}0.0156{{ +}}64.00{{ +}}wgmma{{ +}}64{{ +}}1{{ +}}52.7{{ +}}64 query rows per cache group: 64.0 FLOP/B, past the CUDA-core ridge (22), tensor cores (wgmma), 1 warpgroup per 64-row block (256 value columns each), 64-row tiles, 2 stages, tiles copied by TMA
// RUN: attn-opt --attn-report -o /dev/null %examples/mfa_kr.mlir | FileCheck %s --check-prefix=KR
// KR: mfa_kr_decode{{ +}}tied{{ +}}64{{ +}}1{{ +}}64{{ +}}256.0{{ +}}512.0{{ +}}0.0078{{ +}}128.00{{ +}}wgmma{{ +}}64{{ +}}1{{ +}}30.4{{ +}}64 query rows per cache group: 128.0 FLOP/B, past the CUDA-core ridge (22), tensor cores (wgmma), 1 warpgroup per 64-row block (256 value columns each), 64-row tiles, 4 stages, pipelined; the post-transform (linear) on each split's outputs, the combine only merges
// RUN: attn-opt --attn-report -o /dev/null %examples/gta_sun.mlir | FileCheck %s --check-prefix=SUN
// SUN: gta_sun_decode{{ +}}separate{{ +}}5{{ +}}1{{ +}}20{{ +}}192.0{{ +}}384.0{{ +}}0.0750{{ +}}5.00{{ +}}wgmma-narrow{{ +}}8{{ +}}{{.*}}5 query rows per cache group, not a power of two: streaming would be issue-bound; tensor cores (wgmma), the narrow form: 1 warpgroup, the 8 rows as wgmma's N (K Q^T, V^T P^T), 64-row tiles, 3 stages, 2 blocks an SM, tiles copied by TMA{{$}}
// RUN: attn-opt --attn-report -o /dev/null %examples/mtla.mlir | FileCheck %s --check-prefix=MTLA
// MTLA: mtla_decode{{ +}}latent{{ +}}32{{ +}}1{{ +}}32{{ +}}288.0{{ +}}576.0{{ +}}0.0352{{ +}}60.44{{ +}}wgmma-narrow{{ +}}32{{ +}}1{{ +}}33.2{{ +}}32 query rows per cache group: 60.4 FLOP/B, past the CUDA-core ridge (22), tensor cores (wgmma), the narrow form: 1 warpgroup, the 32 rows as wgmma's N (K Q^T, V^T P^T), 64-row tiles, 2 stages, tiles copied by TMA{{$}}
