// The schedule knobs of attn-to-flash: values a kernel cannot take are
// refused by name (a 24-row block would leave 8 rows uncomputed, one stage
// would wait on copies never issued), and valid ones fix the schedule.
//
// RUN: not attn-opt %s --attn-to-flash="tensor-cores=true mma-rows=24" 2>&1 | FileCheck %s --check-prefix=ROWS
// ROWS: error: attn-to-flash: mma-rows must be 0 (planned) or 16, 32, 64, 128, got 24
// RUN: not attn-opt %s --attn-to-flash="tensor-cores=true mma-stages=1" 2>&1 | FileCheck %s --check-prefix=STAGES
// STAGES: error: attn-to-flash: mma-stages must be 0 (planned) or 2 to 8, got 1
// RUN: not attn-opt %s --attn-to-flash="tensor-cores=true mma-tile=40" 2>&1 | FileCheck %s --check-prefix=TILE
// TILE: error: attn-to-flash: mma-tile must be 0 (planned) or a multiple of 16 up to 256, got 40
// RUN: not attn-opt %s --attn-to-flash="tensor-cores=true mma-warps=3" 2>&1 | FileCheck %s --check-prefix=WARPS
// WARPS: error: attn-to-flash: mma-warps must be 0 (planned) or a power of two up to 16, got 3
// RUN: not attn-opt %s --attn-to-flash="tensor-cores=true mma-value-warps=3" 2>&1 | FileCheck %s --check-prefix=VALUE
// VALUE: error: attn-to-flash: mma-value-warps must be 0 (planned) or 1, 2, 4, got 3
// RUN: not attn-opt %s --attn-to-flash="tensor-cores=true mma-row-warps=3" 2>&1 | FileCheck %s --check-prefix=ROWW
// ROWW: error: attn-to-flash: mma-row-warps must be 0 (planned) or 1, 2, 4, 8, got 3
// RUN: not attn-opt %s --attn-to-flash="tensor-cores=true stream-unroll=5" 2>&1 | FileCheck %s --check-prefix=UNROLL
// UNROLL: error: attn-to-flash: stream-unroll must be 0 (planned) or 1 to 4, got 5
// The permissions build on each other: one without the one it needs is
// refused by name rather than ignored.
// RUN: not attn-opt %s --attn-to-flash="warpgroup-mma=true" 2>&1 | FileCheck %s --check-prefix=WGMMA
// WGMMA: error: attn-to-flash: warpgroup-mma needs tensor-cores
// RUN: not attn-opt %s --attn-to-flash="tensor-cores=true tensor-map-copies=true" 2>&1 | FileCheck %s --check-prefix=TMA
// TMA: error: attn-to-flash: tensor-map-copies needs warpgroup-mma
// RUN: not attn-opt %s --attn-to-flash="tensor-cores=true warpgroup-mma=true seesaw=true" 2>&1 | FileCheck %s --check-prefix=SEESAW
// SEESAW: error: attn-to-flash: seesaw needs tensor-map-copies
// RUN: not attn-opt %s --attn-to-flash="tensor-cores=true narrow-query=true" 2>&1 | FileCheck %s --check-prefix=NARROW
// NARROW: error: attn-to-flash: narrow-query needs warpgroup-mma
// RUN: not attn-opt %s --attn-to-flash="tensor-cores=true trace-blocks=true" 2>&1 | FileCheck %s --check-prefix=TRACE
// TRACE: error: attn-to-flash: trace-blocks needs warpgroup-mma
//
// Fixed knobs: MQA's 32 rows as 2 row warps of 16 over 2 key slices (the
// plan's own choice is 1 row warp of 32 rows over 4 key slices), and the
// shared-softmax form on request.
// RUN: attn-opt %s --attn-to-flash="tensor-cores=true mma-rows=32 mma-row-warps=2" | FileCheck %s --check-prefix=FIXED
// FIXED: rows_per_block = 32 : i64
// FIXED-SAME: softmax = "registers"
// FIXED-SAME: tile_rows = 32 : i64
// FIXED: nvvm.barrier id = {{%.+}} number_of_threads = %c64_i32
// RUN: attn-opt %s --attn-to-flash="tensor-cores=true mma-shared-softmax=true" | FileCheck %s --check-prefix=SHARED
// SHARED: softmax = "workgroup"
#mqa = #attn.variant<kv_form = separate, num_q_heads = 32, num_kv_heads = 1,
                     qk_head_dim = 128, v_head_dim = 128,
                     rope = #attn.rope<placement = full_head, dim = 128>,
                     softmax_scale = 0.088388347648318433>
func.func @mqa_decode(%q: tensor<?x1x32x128xbf16>, %k: tensor<?x?x1x128xbf16>,
                      %v: tensor<?x?x1x128xbf16>) -> tensor<?x1x32x128xbf16> {
  %o = attn.attention #mqa query(%q : tensor<?x1x32x128xbf16>) keys(%k : tensor<?x?x1x128xbf16>)
         values(%v : tensor<?x?x1x128xbf16>) -> tensor<?x1x32x128xbf16>
  return %o : tensor<?x1x32x128xbf16>
}
