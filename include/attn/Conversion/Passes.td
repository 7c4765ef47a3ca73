//===- Passes.td - attn conversion passes ------------------*- tablegen -*-===//

#ifndef ATTN_CONVERSION_PASSES_TD
#define ATTN_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def AttnToLinalg : Pass<"attn-to-linalg"> {
  let summary = "Lower attn ops to linalg on tensors, naively and exactly";
  let description = [{
    The reference lowering of every attn op: attention materialises each
    head's keys and values from the cache rows (tied slices, latent
    up-projections, the shared rotary key), computes all scores, masks them
    (causal bottom-right, MTLA's stride-aware mask, per-sequence lengths),
    takes the softmax and aggregates, then applies the value epilogue (latent
    up-projection, Sun's gated decoder, MFA-KR's post-transform). Layer ops
    become contractions and elementwise generics. Arithmetic runs in f32 for
    16-bit floats (f64 stays f64); a row with no visible key yields zeros.
    Slow and obviously right: fast kernels are checked against it.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::linalg::LinalgDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::tensor::TensorDialect"];
}

#endif // ATTN_CONVERSION_PASSES_TD
