//===- Report.cpp - the attn-report pass ----------------------------------===//
#include "attn/Conversion/AttnToFlash/FlashPlan.h"
#include "llvm/Support/FormatVariadic.h"
#include "attn/Dialect/Attn/IR/AttnAnalysis.h"
#include "attn/Dialect/Attn/IR/AttnOps.h"
#include "attn/Dialect/Attn/Transforms/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/ToolOutputFile.h"

namespace mlir::attn {
#define GEN_PASS_DEF_ATTNREPORT
#include "attn/Dialect/Attn/Transforms/Passes.h.inc"

namespace {
struct AttnReportPass : impl::AttnReportBase<AttnReportPass> {
  using Base::Base;

  void runOnOperation() override {
    std::string error;
    std::unique_ptr<llvm::ToolOutputFile> file =
        openOutputFile(outputFile, &error);
    if (!file) {
      getOperation().emitError() << "attn-report: " << error;
      return signalPassFailure();
    }
    raw_ostream &os = file->os();
    os << llvm::format("%-24s %-8s %5s %5s %5s %12s %10s %8s %10s  %-9s %4s "
                       "%6s %14s  %s\n",
                       "function", "kv_form", "h_q", "h_kv", "h_out",
                       "cache el/tok", "bytes/tok", "vs MHA", "decode AI",
                       "schedule", "rows", "unroll", "decode us@16x8k",
                       "why");
    getOperation().walk([&](AttentionOp op) {
      VariantAttr v = op.getVariant();
      DecodeCost cost = computeDecodeCost(v);
      unsigned bytes = cast<RankedTensorType>(op.getQuery().getType())
                           .getElementTypeBitWidth() /
                       8;
      auto func = op->getParentOfType<func::FuncOp>();
      os << llvm::format(
          "%-24s %-8s %5lld %5lld %5lld %12.1f %10.1f %8.4f %10.2f",
          func ? func.getSymName().str().c_str() : "<none>",
          stringifyKvForm(v.getKvForm()).str().c_str(),
          static_cast<long long>(v.getNumQHeads()),
          static_cast<long long>(v.getNumKvHeads()),
          static_cast<long long>(v.getNumOutputHeads()),
          cost.cacheElementsPerToken, cost.bytesPerToken(bytes),
          cost.cacheElementsPerToken / cost.mhaElementsPerToken,
          cost.intensity(bytes));
      // What the fused path would do with a one-token decode step of this
      // variant, and its roofline time at B = 16, L = 8192 on an H100.
      FlashOptions options;
      options.tensorCores = tensorCores;
      options.warpgroupMma = warpgroupMma; // taken with tensor cores only
      options.tensorMapCopies = warpgroupMma;
      options.seesaw = warpgroupMma;
      options.narrowQuery = warpgroupMma;
      FailureOr<FlashPlan> plan =
          FlashPlan::get(op, /*forAnalysis=*/true, options);
      if (failed(plan)) {
        os << "  (no fused kernel)\n";
        return;
      }
      // The choice: the query rows that share a cache group decide whether
      // their state fits registers (streaming) or needs staged tiles.
      int64_t tq =
          cast<RankedTensorType>(op.getQuery().getType()).getDimSize(1);
      std::string why;
      bool fewRows = !ShapedType::isDynamic(tq) && plan->group * tq <= 8;
      if (plan->mma && fewRows) {
        why = std::to_string(plan->group * tq) + " query rows per cache group" +
              (plan->separate() ? std::string(", not a power of two")
                                : std::string(", tied row (two views of each "
                                              "element)")) +
              ": streaming would be issue-bound; " +
              (plan->narrow ? "tensor cores (wgmma), "
                            : "tensor cores (mma.sync) on rows padded to 16, ");
      } else if (plan->mma) {
        why = (ShapedType::isDynamic(tq)
                   ? std::string("query tokens not static (prefill)")
                   : std::to_string(plan->group * tq) +
                         " query rows per cache group") +
              llvm::formatv(": {0:f1} FLOP/B, past the CUDA-core ridge "
                            "({1:f0}), tensor cores ({2}), ",
                            cost.intensity(bytes),
                            FlashPlan::kCudaCoreFlops / FlashPlan::kBandwidth,
                            plan->warpgroup ? "wgmma" : "mma.sync")
                  .str();
      }
      if (plan->narrow) {
        why += llvm::formatv("the narrow form: 1 warpgroup, the {0} rows as "
                             "wgmma's N (K Q^T, V^T P^T), 64-row tiles, {1} "
                             "stages",
                             plan->rowsPerBlock, plan->stages)
                   .str();
        if (plan->blocksPerSM > 1)
          why += llvm::formatv(", {0} blocks an SM", plan->blocksPerSM).str();
        if (plan->tensorMaps)
          why += ", tiles copied by TMA";
      } else if (plan->warpgroup) {
        why += llvm::formatv("{0} warpgroup{1} per 64-row block ({2} value "
                             "columns each), {3}-row tiles, {4} stages{5}",
                             plan->warpgroups,
                             plan->warpgroups > 1 ? "s" : "",
                             plan->valueWidth / plan->warpgroups,
                             plan->tileRows, plan->stages,
                             plan->stages >= 3 ? ", pipelined" : "")
                   .str();
        if (plan->tensorMaps)
          why += ", tiles copied by TMA";
        if (plan->seesaw)
          why += ", the seesaw over tile pairs";
        if (plan->forwardEpilogue)
          why += "; the post-transform (linear) on each split's outputs, the "
                 "combine only merges";
      } else if (plan->mma) {
        why += plan->registerSoftmax
                   ? llvm::formatv("softmax in registers ({0} key x {1}{2} "
                                   "value warps, {3}-row tiles)",
                                   plan->keyWarps(),
                                   plan->rowWarps > 1
                                       ? std::to_string(plan->rowWarps) +
                                             " row x "
                                       : std::string(),
                                   plan->valueWarps, plan->tileRows)
                         .str()
                   : llvm::formatv("softmax in workgroup memory ({0}-row "
                                   "tiles; in registers, padded rows and "
                                   "recomputed scores would pass half the "
                                   "tensor-core ridge, {1:f0} FLOP/B, or "
                                   "leave one block per SM)",
                                   plan->tileRows, FlashPlan::kValueWarpIntensity)
                         .str();
      } else if (ShapedType::isDynamic(tq))
        why = "query tokens not static (prefill): stage tiles in workgroup "
              "memory";
      else if (plan->streamMma)
        why = std::to_string(plan->group * tq) +
              " query rows per cache group <= 8: stream rows from memory "
              "straight into mma.sync fragments (rows padded to 16; on CUDA "
              "cores the ~100 instructions per cache row would bound it)";
      else if (plan->streaming)
        why = std::to_string(plan->group * tq) +
              " query rows per cache group <= 8: stream rows through "
              "registers";
      else
        why = std::to_string(plan->group * tq) +
              " query rows per cache group: too many for registers, stage "
              "tiles in workgroup memory";
      os << llvm::format("  %-12s %4lld %6lld %14.1f  %s\n",
                         plan->scheduleName().data(),
                         static_cast<long long>(plan->rowsPerBlock),
                         static_cast<long long>(plan->unroll),
                         plan->predictDecodeMicros(op, 16, 8192), why.c_str());
    });
    file->keep();
    markAllAnalysesPreserved();
  }
};
} // namespace
} // namespace mlir::attn
