// attn-run --dry-run prints the launches the runtime makes on a stand-in
// GPU (132 multiprocessors, an H100's workgroup memory) without running
// anything: the split count, which combine kernel, grids and blocks, the
// forward's per-launch flags (`merge`, `normalise`) and the bytes of the
// cache stream it marks as streaming in L2 where each block reads its rows
// once (one block of query rows per group; MLA-128's two blocks read every
// row, so not there). Here
// MLA with 16 heads (bench/variants/mla16.mlir) at issue 5's shapes.
//
// RUN: rm -rf %t && attn-opt %s --attn-compile="target=sm_90a output=%t formats=isa" -o /dev/null
// RUN: attn-run %t --dry-run 132 --batch 1 --cache 32768 | FileCheck %s --check-prefix=B1
// RUN: attn-run %t --dry-run 132 --batch 2 --cache 32768 | FileCheck %s --check-prefix=B2
// RUN: attn-run %t --dry-run 132 --batch 1 --cache 2048 | FileCheck %s --check-prefix=B1L2K
// RUN: rm -rf %t.mla && attn-opt %examples/mla.mlir --attn-compile="target=sm_90a output=%t.mla formats=isa" -o /dev/null
// RUN: attn-run %t.mla --module mla_decode --dry-run 132 --batch 1 --cache 8192 | FileCheck %s --check-prefix=MLA128
// RUN: attn-run %t.mla --module mla_decode --dry-run 132 --batch 16 --cache 4096 | FileCheck %s --check-prefix=MLA128B16
// RUN: attn-run %t.mla --module mla_decode --dry-run 132 --batch 32 --cache 4096 | FileCheck %s --check-prefix=MLA128B32
// RUN: attn-run %t --dry-run 132 --batch 16 --cache 8192 | FileCheck %s --check-prefix=B16
// RUN: attn-run %t --dry-run 132 --batch 32 --cache 8192 | FileCheck %s --check-prefix=B32
// RUN: not attn-run %t --dry-run 132 --batch 16 --cache 8192 --splits 12 --combine latent-slices 2>&1 | FileCheck %s --check-prefix=LSMANY
// RUN: attn-run %t --dry-run 132 --batch 64 --cache 8192 | FileCheck %s --check-prefix=B64
// RUN: attn-run %t --dry-run 132 --batch 64 --cache 8192 --splits 3 | FileCheck %s --check-prefix=B64S3
// RUN: attn-run %t --dry-run 132 --batch 128 --cache 8192 | FileCheck %s --check-prefix=B128
// RUN: attn-run %t --dry-run 132 --batch 128 --cache 8192 --combine row | FileCheck %s --check-prefix=B128ROW
// RUN: attn-run %t --dry-run 132 --batch 64 --cache 8192 --splits 12 --combine rows | FileCheck %s --check-prefix=B64S12
// RUN: attn-run %t --dry-run 132 --batch 64 --cache 8192 --combine wide | FileCheck %s --check-prefix=WIDE
// RUN: attn-run %t --dry-run 132 --batch 4 --cache 8192 --combine slices | FileCheck %s --check-prefix=SLICES
// RUN: attn-run %t --dry-run 132 --batch 1 --cache 32768 --combine row | FileCheck %s --check-prefix=ROW
// RUN: not attn-run %t --dry-run 132 --batch 64 --cache 8192 --splits 17 --combine rows 2>&1 | FileCheck %s --check-prefix=MANY
// RUN: not attn-run %t --dry-run 0 2>&1 | FileCheck %s --check-prefix=SMS
// RUN: rm -rf %t.kr && attn-opt %examples/mfa_kr.mlir --attn-compile="target=sm_90a output=%t.kr formats=isa" -o /dev/null
// RUN: attn-run %t.kr --module mfa_kr_decode --dry-run 132 --batch 16 --cache 8192 | FileCheck %s --check-prefix=KR16
// RUN: attn-run %t.kr --module mfa_kr_decode --dry-run 132 --batch 64 --cache 8192 | FileCheck %s --check-prefix=KR64
// RUN: attn-run %t.kr --module mfa_kr_decode --dry-run 132 --batch 128 --cache 8192 | FileCheck %s --check-prefix=KR128
// RUN: attn-run %t.kr --module mfa_kr_decode --dry-run 132 --batch 1 --cache 32768 | FileCheck %s --check-prefix=KR1
// RUN: attn-run %t.kr --module mfa_kr_decode --dry-run 132 --batch 1 --cache 2048 | FileCheck %s --check-prefix=KR1L2K
// RUN: attn-run %t.kr --module mfa_kr_decode --dry-run 132 --batch 1 --cache 8192 | FileCheck %s --check-prefix=KR1L8K
// RUN: attn-run %t.kr --module mfa_kr_decode --dry-run 132 --batch 64 --cache 8192 --combine rows | FileCheck %s --check-prefix=KR64ROWS
// RUN: attn-run %t.kr --module mfa_kr_decode --dry-run 132 --batch 16 --cache 8192 --splits 17 | FileCheck %s --check-prefix=KR17
// RUN: not attn-run %t.kr --module mfa_kr_decode --dry-run 132 --batch 16 --cache 8192 --splits 17 --combine grid 2>&1 | FileCheck %s --check-prefix=KR17GRID
// RUN: not attn-run %t --dry-run 132 --batch 16 --cache 8192 --combine grid 2>&1 | FileCheck %s --check-prefix=NOGRID
// RUN: not attn-run %t.kr --module mfa_kr_decode --dry-run 132 --batch 1 --cache 2048 --combine slices 2>&1 | FileCheck %s --check-prefix=NOSLICES
// An artifact without combine_rows and grid_merge (older compilers made
// neither for a plain merge): auto takes the one-row kernel, forcing rows
// is an error.
// RUN: rm -rf %t.old && cp -r %t.kr %t.old
// RUN: python3 -c "import json, sys; p = sys.argv[1]; d = json.load(open(p)); [m.update(grid_merge=False, kernels=[k for k in m['kernels'] if k['name'] != 'combine_rows']) for m in d['modules']]; json.dump(d, open(p, 'w'))" %t.old/manifest.json
// RUN: attn-run %t.old --module mfa_kr_decode --dry-run 132 --batch 64 --cache 8192 | FileCheck %s --check-prefix=OLD
// RUN: not attn-run %t.old --module mfa_kr_decode --dry-run 132 --batch 64 --cache 8192 --combine rows 2>&1 | FileCheck %s --check-prefix=NOROWS
// A tensor map the manifest gets wrong is named before any launch: a box
// of 300 rows (TMA takes at most 256).
// RUN: rm -rf %t.box && cp -r %t %t.box
// RUN: python3 -c "import json, sys; p = sys.argv[1]; d = json.load(open(p)); [a.update(box=[1, 300, 1, 64]) for m in d['modules'] for k in m['kernels'] for a in k['args'] if a['kind'] == 'tensor_map' and a['tensor'] == 'rows']; json.dump(d, open(p, 'w'))" %t.box/manifest.json
// RUN: not attn-run %t.box --dry-run 132 --batch 1 --cache 1024 2>&1 | FileCheck %s --check-prefix=BOX

// One sequence: 128 splits fill the SMs (one block each: the forward's
// 165 KiB of workgroup memory), and the 16 one-row combine rows, fewer
// than the SMs, run on 512 threads, each in 8 blocks of 64 latent columns
// (combine_slices: 128 blocks, one an SM).
// B1: mla16_decode_attn0 B=1 Tq=1 L=32768 S=128
// B1-NEXT: fwd          grid 1 1 128  block 128  dynamic shared 169344  normalise=0
// B1-NEXT: combine_slices grid 128 1 1  block 512  dynamic shared 0
// Two sequences: 66 splits would fill the SMs, but their 497 rows run as
// 8 tiles, as 64 splits of 512 rows do: the runtime takes 64. Their 32
// rows in slices would be 256 blocks, more than the SMs: combine_wide.
// B2: mla16_decode_attn0 B=2 Tq=1 L=32768 S=64
// B2-NEXT: fwd          grid 1 2 64  block 128
// B2-NEXT: combine_wide grid 16 1 2  block 512

// A short cache: splits of 128 rows (two tiles), 16 of them.
// B1L2K: mla16_decode_attn0 B=1 Tq=1 L=2048 S=16
// 128 heads: each split writes 128 x 512 f32 partial values (256 KB), which
// it must not outweigh with its cache rows (1152 bytes each): 256 rows a
// split, 32 splits, though 66 blocks of two would fill the SMs.
// MLA128: mla_decode_attn0 B=1 Tq=1 L=8192 S=32
// MLA128-NEXT: fwd          grid 2 1 32
// At B=16, project_slices with one slice: a block per head (its 16 rows),
// 128 blocks of 152 KB, one wave. At B=32 its 256 blocks would take two
// waves: project_rows (64-row blocks).
// MLA128B16: mla_decode_attn0 B=16 Tq=1 L=4096 S=4
// MLA128B16-NEXT: fwd          grid 2 16 4  block 256  dynamic shared 231040  normalise=1{{$}}
// MLA128B16-NEXT: project_slices grid 128 1 1  block 256  dynamic shared 155904  early
// MLA128B32: mla_decode_attn0 B=32 Tq=1 L=4096 S=2
// MLA128B32-NEXT: fwd          grid 2 32 2  block 256  dynamic shared 231040  normalise=1
// MLA128B32-NEXT: project_rows grid 128 1 1  block 256  dynamic shared 209920  early

// 16 sequences: 8 splits, so the forward stores normalised rows and
// project_slices merges and multiplies them: one block per head and slice
// of 64 latent columns (the 16 rows in one block), launched early; the
// one-row combine read the heads' up-projections once per row (34 MB).
// With 32 sequences two blocks of 16 rows; more than 8 splits (forced) the
// kernel cannot take.
// B16: mla16_decode_attn0 B=16 Tq=1 L=8192 S=8
// B16-NEXT: fwd          grid 1 16 8  block 128  dynamic shared 169344  normalise=1  l2-streaming 134217728{{$}}
// B16-NEXT: project_slices grid 128 1 1  block 256  dynamic shared 62096  early
// B32: mla16_decode_attn0 B=32 Tq=1 L=8192 S=4
// B32-NEXT: fwd          grid 1 32 4  block 128  dynamic shared 169344  normalise=1
// B32-NEXT: project_slices grid 128 1 2  block 256  dynamic shared 62096  early
// LSMANY: attn-run: mla16_decode_attn0: project_slices merges at most 8 splits, 12 requested

// 64 sequences fill the tensor-core combine's 64-row blocks; each of the
// 16 heads' 128 output columns is split over 8 blocks (16 columns each,
// the up-projection's slice beside the merged rows; 8 warps merge, 4
// multiply). With at most 8 splits that kernel is project_rows: the
// forward stores each split's rows normalised in bf16, with their (max,
// sum), and project_rows merges and multiplies them. The forward grid is
// one wave, so it starts early.
// B64: mla16_decode_attn0 B=64 Tq=1 L=8192 S=2
// B64-NEXT: fwd          grid 1 64 2  block 128  dynamic shared 169344  normalise=1
// B64-NEXT: project_rows grid 128 1 1  block 256  dynamic shared 95232  early
// Three splits make 192 forward blocks, more than one wave: the combine
// launches after the forward, or its early blocks could take SMs that the
// forward's second wave needs.
// B64S3: mla16_decode_attn0 B=64 Tq=1 L=8192 S=3
// B64S3-NEXT: fwd          grid 1 64 3  block 128  dynamic shared 169344  normalise=1
// B64S3-NEXT: project_rows grid 128 1 1  block 256  dynamic shared 95232{{$}}
// More than 8 splits: combine_rows, from f32 partial outputs.
// B64S12: mla16_decode_attn0 B=64 Tq=1 L=8192 S=12
// B64S12-NEXT: fwd          grid 1 64 12  block 128  dynamic shared 169344  normalise=0
// B64S12-NEXT: combine_rows grid 128 1 1  block 256  dynamic shared 95232{{$}}
// 128 sequences: one split, so project_rows takes the normalised rows as
// they are; with the one-row combine forced, the forward stores f32
// partial outputs for it instead (normalise = 0).
// B128: mla16_decode_attn0 B=128 Tq=1 L=8192 S=1
// B128-NEXT: fwd          grid 1 128 1  block 128  dynamic shared 169344  normalise=1
// B128-NEXT: project_rows grid 128 1 2  block 256  dynamic shared 95232  early
// B128ROW: mla16_decode_attn0 B=128 Tq=1 L=8192 S=1
// B128ROW-NEXT: fwd          grid 1 128 1  block 128  dynamic shared 169344  normalise=0
// B128ROW-NEXT: combine      grid 16 1 128  block 256

// MFA-KR (64 heads): the forward kernel applies the post-transform, so
// the splits only need merging, which the forward kernel does itself when
// every block is resident: one cooperative launch, no combine.
// KR16: mfa_kr_decode_attn0 B=16 Tq=1 L=8192 S=8
// KR16-NEXT: fwd          grid 1 16 8  block 128  dynamic shared 173296  cooperative  merge=1  l2-streaming 67108864{{$}}
// KR16-NOT: combine
// KR64: mfa_kr_decode_attn0 B=64 Tq=1 L=8192 S=2
// KR64-NEXT: fwd          grid 1 64 2  block 128  dynamic shared 173296  cooperative  merge=1
// KR64-NOT: combine
// Asked for a combine kernel: at B=64 (4096 one-row blocks) blocks of 8
// rows.
// KR64ROWS: fwd          grid 1 64 2  block 128  dynamic shared 173296  merge=0  l2-streaming 268435456{{$}}
// KR64ROWS-NEXT: combine_rows grid 64 1 8  block 128  dynamic shared 0
// One sequence: 128 splits, merged the same way.
// KR1: mfa_kr_decode_attn0 B=1 Tq=1 L=32768 S=128
// KR1-NEXT: fwd          grid 1 1 128  block 128  dynamic shared 173296  cooperative  merge=1
// KR1-NOT: combine
// Shorter caches: 16 and 64 blocks, half a wave or less, go to a combine
// kernel, not the grid merge. At L=2k a row's 16 partial outputs are 16 KB,
// too few for combine_wide's 512 threads: the one-row kernel on 128; at
// L=8k, 64 KB: combine_wide.
// KR1L2K: mfa_kr_decode_attn0 B=1 Tq=1 L=2048 S=16
// KR1L2K-NEXT: fwd          grid 1 1 16  block 128  dynamic shared 173296  merge=0  l2-streaming 1048576{{$}}
// KR1L2K-NEXT: combine      grid 64 1 1  block 128
// KR1L8K: mfa_kr_decode_attn0 B=1 Tq=1 L=8192 S=64
// KR1L8K-NEXT: fwd          grid 1 1 64  block 128  dynamic shared 173296  merge=0  l2-streaming 4194304{{$}}
// KR1L8K-NEXT: combine_wide grid 64 1 1  block 512
// With more splits than are resident (272 blocks) forcing the merge is an
// error, and auto launches the combine (one row a block at B=16).
// KR17: fwd          grid 1 16 17  block 128  dynamic shared 173296  merge=0  l2-streaming 67108864{{$}}
// KR17-NEXT: combine      grid 64 1 16  block 128
// KR17GRID: attn-run: mfa_kr_decode_attn0: cannot merge in the grid: 272 forward blocks, 132 resident at once
// MLA's latent up-projection is left to the combine: its forward kernel
// cannot merge.
// NOGRID: attn-run: mla16_decode_attn0: its forward kernel cannot merge the splits (no grid_merge in the manifest)
// At B=128 one split: the forward kernel stores the result, no combine.
// KR128: mfa_kr_decode_attn0 B=128 Tq=1 L=8192 S=1
// KR128-NEXT: fwd          grid 1 128 1  block 128
// KR128-NOT: combine
// OLD: combine      grid 64 1 64  block 128
// NOROWS: attn-run: mfa_kr_decode_attn0: no combine_rows kernel
// NOSLICES: attn-run: mfa_kr_decode_attn0: no combine_slices kernel (only a latent up-projection behind a tensor-core forward kernel has one)

// Forced choices.
// WIDE: combine_wide grid 16 1 64  block 512
// SLICES: combine_slices grid 128 1 4  block 512
// ROW: combine      grid 16 1 1  block 256
// MANY: attn-run: mla16_decode_attn0: combine_rows merges at most 16 splits, 17 requested
// SMS: attn-run: --dry-run takes the multiprocessors of the GPU to plan for

#mla16 = #attn.variant<kv_form = latent, num_q_heads = 16, num_kv_heads = 1,
                       qk_head_dim = 192, v_head_dim = 128, latent_dim = 512,
                       rope = #attn.rope<placement = decoupled_shared_key, dim = 64>,
                       softmax_scale = 0.07216878364870322,
                       latent_norm = rms, value_epilogue = latent_up>

func.func @mla16_decode(%q: tensor<?x1x16x576xbf16>, %c: tensor<?x?x1x512xbf16>,
                        %kr: tensor<?x?x64xbf16>, %uv: tensor<16x512x128xbf16>,
                        %valid: tensor<?xi32>) -> tensor<?x1x16x128xbf16> {
  %o = attn.attention #mla16 query(%q : tensor<?x1x16x576xbf16>)
         rows(%c : tensor<?x?x1x512xbf16>) rope_keys(%kr : tensor<?x?x64xbf16>)
         up_v(%uv : tensor<16x512x128xbf16>) seq_lens(%valid : tensor<?xi32>)
         absorbed -> tensor<?x1x16x128xbf16>
  return %o : tensor<?x1x16x128xbf16>
}

// BOX: fwd: tensor map of 'rows': box of 300 elements (TMA takes 1 to 256)
