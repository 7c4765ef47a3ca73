//===- Manifest.cpp - describe the fused kernels of one op ----------------===//
#include "attn/Conversion/AttnToFlash/Manifest.h"
#include "attn/Dialect/Attn/IR/AttnAnalysis.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/TypeSwitch.h"
#include <cctype>

using namespace mlir;
using namespace mlir::attn;

namespace {
std::string typeName(Type t) {
  std::string s;
  llvm::raw_string_ostream os(s);
  t.print(os);
  return s;
}

struct ArgList {
  Builder &b;
  SmallVector<Attribute> args;
  void tensor(StringRef name, Type elem, ArrayRef<std::string> shape) {
    SmallVector<Attribute> dims, strides(shape.size());
    for (const std::string &d : shape)
      dims.push_back(b.getStringAttr(d));
    // Row-major element strides as products of the trailing sizes: the
    // symbols first, then one folded constant ("Tq*32*576" -> "Tq*18432").
    int64_t constant = 1;
    std::string symbols;
    for (int64_t i = shape.size() - 1; i >= 0; --i) {
      std::string s = symbols.empty() ? std::to_string(constant)
                      : constant == 1 ? symbols
                                      : symbols + "*" + std::to_string(constant);
      strides[i] = b.getStringAttr(s);
      const std::string &d = shape[i];
      if (!d.empty() && std::isdigit(static_cast<unsigned char>(d[0])))
        constant *= std::stoll(d);
      else
        symbols = symbols.empty() ? d : d + "*" + symbols;
    }
    args.push_back(b.getDictionaryAttr(
        {b.getNamedAttr("name", b.getStringAttr(name)),
         b.getNamedAttr("kind", b.getStringAttr("tensor")),
         b.getNamedAttr("dtype", b.getStringAttr(typeName(elem))),
         b.getNamedAttr("shape", b.getArrayAttr(dims)),
         b.getNamedAttr("strides", b.getArrayAttr(strides))}));
  }
  /// A TMA tensor map of `tensor`, passed by value: the runtime encodes it
  /// per launch with boxes of `box` (per dimension of the tensor's shape)
  /// in the 128-byte swizzle.
  void tensorMap(StringRef tensor, ArrayRef<int64_t> box) {
    SmallVector<Attribute> dims;
    for (int64_t d : box)
      dims.push_back(b.getI64IntegerAttr(d));
    args.push_back(b.getDictionaryAttr(
        {b.getNamedAttr("name", b.getStringAttr(tensor.str() + "_map")),
         b.getNamedAttr("kind", b.getStringAttr("tensor_map")),
         b.getNamedAttr("tensor", b.getStringAttr(tensor)),
         b.getNamedAttr("box", b.getArrayAttr(dims)),
         b.getNamedAttr("swizzle", b.getI64IntegerAttr(128))}));
  }
  void size(StringRef name) {
    args.push_back(b.getDictionaryAttr(
        {b.getNamedAttr("name", b.getStringAttr(name)),
         b.getNamedAttr("kind", b.getStringAttr("size"))}));
  }
};
} // namespace

DictionaryAttr mlir::attn::buildManifestEntry(AttentionOp op,
                                              const FlashPlan &p,
                                              StringRef moduleName,
                                              StringRef function) {
  Builder b(op.getContext());
  auto str = [&](StringRef s) { return b.getStringAttr(s); };
  auto i64 = [&](int64_t v) { return b.getI64IntegerAttr(v); };
  auto n = [](int64_t v) { return std::to_string(v); };
  Type f32 = b.getF32Type();

  ArgList fwd{b, {}};
  fwd.tensor("query", p.storage, {"B", "Tq", n(p.qHeads), n(p.keyWidth)});
  if (p.separate()) {
    fwd.tensor("keys", p.storage, {"B", "L", n(p.kvHeads), n(p.keyWidth)});
    fwd.tensor("values", p.storage,
               {"B", "L", n(p.kvHeads), n(p.valueWidth)});
  } else {
    fwd.tensor("rows", p.storage, {"B", "L", n(p.kvHeads), n(p.rowWidth)});
  }
  // The cache stream a decode step's forward reads once, which the runtime
  // marks as streaming in L2 (l2_streaming): the keys (as large as the
  // values), or the rows (far larger than their shared rotary keys).
  StringRef streamed = p.separate() ? "keys" : "rows";
  if (p.ropeDim)
    fwd.tensor("rope_keys", p.storage, {"B", "L", n(p.ropeDim)});
  if (p.lengthType)
    fwd.tensor("seq_lens", p.lengthType, {"B"});
  // The key-reuse transform's operands, where the forward kernel applies it.
  auto keyReuse = [&](ArgList &args) {
    args.tensor("alpha", p.storage, {n(p.valueWidth)});
    args.tensor("transform", p.storage, {n(p.valueWidth), n(p.valueWidth)});
  };
  if (p.forwardEpilogue)
    keyReuse(fwd);
  // The workspace: partial outputs and each row's (max, sum) per split.
  auto oPart = [&](ArgList &args) {
    args.tensor("o_part", f32, {"S", "B", "Tq", n(p.qHeads), n(p.valueWidth)});
  };
  auto mlPart = [&](ArgList &args) {
    args.tensor("ml_part", f32, {"S", "B", "Tq", n(p.qHeads), "2"});
  };
  oPart(fwd);
  mlPart(fwd);
  // Over o_part's bytes (plan.storesRows()).
  auto normalisedRows = [&](ArgList &args) {
    if (p.storesRows())
      args.tensor("o_rows", p.storage,
                  {"S", "B", "Tq", n(p.qHeads), n(p.valueWidth)});
  };
  normalisedRows(fwd);
  auto result = [&](ArgList &args) {
    args.tensor("out", p.storage, {"B", "Tq", n(p.outHeads), n(p.outWidth)});
  };
  if (p.directOutput())
    result(fwd);
  // One arrival counter per forward block of a split (x, y of the grid),
  // zero between launches; `merge` is the runtime's choice per launch.
  if (p.gridMerge())
    fwd.tensor(
        "grid_sync", IntegerType::get(op.getContext(), 32),
        {"B", "Tq", n(p.kvHeads * llvm::divideCeil(p.group, p.rowsPerBlock))});
  for (StringRef s : {"B", "Tq", "L", "S"})
    fwd.size(s);
  if (p.gridMerge())
    fwd.size("merge");
  if (p.normalisedRows())
    fwd.size("normalise");
  if (p.tensorMaps)
    for (const FlashPlan::TileStream &s : p.tileStreams())
      fwd.tensorMap(s.tensor, p.tileBox(s));

  ArgList comb{b, {}};
  oPart(comb);
  mlPart(comb);
  auto upV = [&](ArgList &args) {
    args.tensor("up_v", p.storage,
                {n(p.qHeads), n(p.valueWidth), n(p.outWidth)});
  };
  switch (p.combineEpilogue()) {
  case ValueEpilogue::None:
    break;
  case ValueEpilogue::LatentUp:
    upV(comb);
    break;
  case ValueEpilogue::GatedLatentDecoder:
    comb.tensor("gate", p.storage, {"B", "Tq", n(p.outHeads * p.outWidth)});
    comb.tensor("decoder", p.storage,
                {n(p.outHeads), n(p.valueWidth), n(p.outWidth)});
    break;
  case ValueEpilogue::KeyReusePost:
    keyReuse(comb);
    break;
  }
  result(comb);
  // combine_slices: where the column slices' mat-vec sums meet (the
  // workspace after ml_part) and one arrival counter per row (zero between
  // launches).
  ArgList sliceComb = comb;
  const int64_t slices = p.combineSlices();
  if (slices > 1) {
    sliceComb.tensor("combine_part", f32,
                     {"B", "Tq", n(p.outHeads), n(slices), n(p.outWidth)});
    sliceComb.tensor("combine_sync", IntegerType::get(op.getContext(), 32),
                     {"B", "Tq", n(p.outHeads)});
  }
  for (StringRef s : {"B", "Tq", "S"}) {
    comb.size(s);
    sliceComb.size(s);
  }
  // project_rows: the up-projection of the rows the forward kernel
  // normalised, merged first where there are several splits.
  ArgList project{b, {}};
  normalisedRows(project);
  mlPart(project);
  upV(project);
  result(project);
  for (StringRef s : {"B", "Tq", "S"})
    project.size(s);
  // project_slices takes project_rows' arguments.
  const int64_t latentSlices = p.projectSlices();

  std::string rows = n(p.group) + "*Tq";
  auto kernel = [&](StringRef name, ArgList &args, ArrayRef<std::string> grid,
                    int64_t threads, int64_t shared, int64_t dynamicShared) {
    SmallVector<Attribute> g;
    for (const std::string &s : grid)
      g.push_back(str(s));
    return b.getDictionaryAttr(
        {b.getNamedAttr("name", str(name)),
         b.getNamedAttr("grid", b.getArrayAttr(g)),
         b.getNamedAttr("block",
                        b.getArrayAttr({i64(threads), i64(1), i64(1)})),
         b.getNamedAttr("shared_bytes", i64(shared)),
         b.getNamedAttr("dynamic_shared_bytes", i64(dynamicShared)),
         b.getNamedAttr("args", b.getArrayAttr(args.args))});
  };
  SmallVector<Attribute> kernels = {
      kernel("fwd", fwd,
             {"ceildiv(" + rows + "," + n(p.rowsPerBlock) + ")",
              "B*" + n(p.kvHeads), "S"},
             p.threads, p.sharedBytes(), p.mma ? p.sharedBytes() : 0),
      kernel("combine", comb, {n(p.outHeads), "Tq", "B"}, p.combineThreads(),
             p.combineSharedBytes(1, p.combineThreads()), 0)};
  if (int64_t wide = p.combineWideThreads())
    kernels.push_back(kernel("combine_wide", comb, {n(p.outHeads), "Tq", "B"},
                             wide, p.combineSharedBytes(1, wide), 0));
  if (slices > 1)
    kernels.push_back(
        kernel("combine_slices", sliceComb, {n(p.outHeads * slices), "Tq", "B"},
               p.combineWideThreads(),
               p.combineSharedBytes(1, p.combineWideThreads(), slices), 0));
  if (int64_t rows = p.combineRows()) {
    int64_t dynamic =
        p.combinesOnTensorCores() ? p.combineMmaLayout().total : 0;
    SmallVector<std::string> grid = {n(p.outHeads * p.combineRowsSlices()),
                                     "Tq", "ceildiv(B," + n(rows) + ")"};
    kernels.push_back(kernel(
        "combine_rows", comb, grid, p.combineRowsThreads(),
        dynamic ? dynamic : p.combineSharedBytes(rows, p.combineThreads()),
        dynamic));
    if (p.normalisedRows())
      kernels.push_back(kernel("project_rows", project, grid,
                               p.combineRowsThreads(), dynamic, dynamic));
  }
  if (latentSlices) {
    int64_t dynamic = p.projectSlicesLayout().dynamic;
    kernels.push_back(
        kernel("project_slices", project,
               {n(p.outHeads * latentSlices), "Tq",
                "ceildiv(B," + n(FlashPlan::kProjectSliceRows) + ")"},
               FlashPlan::kCombineMmaThreads, dynamic, dynamic));
  }

  DecodeCost cost = computeDecodeCost(op.getVariant());
  std::string variant;
  llvm::raw_string_ostream vs(variant);
  Attribute(op.getVariant()).print(vs);
  return b.getDictionaryAttr({
      b.getNamedAttr("op", str("attention")),
      b.getNamedAttr("module", str(moduleName)),
      b.getNamedAttr("function", str(function)),
      b.getNamedAttr("variant", str(variant)),
      b.getNamedAttr("kv_form", str(stringifyKvForm(p.form))),
      b.getNamedAttr("dtype", str(typeName(p.storage))),
      b.getNamedAttr("num_q_heads", i64(p.qHeads)),
      b.getNamedAttr("num_kv_heads", i64(p.kvHeads)),
      b.getNamedAttr("num_out_heads", i64(p.outHeads)),
      b.getNamedAttr("group", i64(p.group)),
      b.getNamedAttr("key_width", i64(p.keyWidth)),
      b.getNamedAttr("value_width", i64(p.valueWidth)),
      b.getNamedAttr("row_width", i64(p.rowWidth)),
      b.getNamedAttr("rope_dim", i64(p.ropeDim)),
      b.getNamedAttr("key_begin", i64(p.keyBegin)),
      b.getNamedAttr("key_nope", i64(p.keyNope)),
      b.getNamedAttr("value_begin", i64(p.valueBegin)),
      b.getNamedAttr("out_width", i64(p.outWidth)),
      b.getNamedAttr("mask", str(stringifyMask(p.mask))),
      b.getNamedAttr("time_stride", i64(p.timeStride)),
      b.getNamedAttr("softmax_scale", b.getF64FloatAttr(p.scale)),
      b.getNamedAttr("value_epilogue", str(stringifyValueEpilogue(p.epilogue))),
      b.getNamedAttr("epilogue_in",
                     str(p.forwardEpilogue                   ? "fwd"
                         : p.epilogue == ValueEpilogue::None ? "-"
                                                             : "combine")),
      b.getNamedAttr("schedule", str(p.scheduleName())),
      b.getNamedAttr("l2_streaming", str(streamed)),
      b.getNamedAttr("softmax", str(p.registerSoftmax ? "registers"
                                    : p.mma           ? "workgroup"
                                                      : "-")),
      b.getNamedAttr("cache_bytes_per_token",
                     b.getF64FloatAttr(cost.bytesPerToken(p.elementBytes()))),
      b.getNamedAttr("flops_per_token", b.getF64FloatAttr(cost.flopsPerToken)),
      b.getNamedAttr("unroll", i64(p.unroll)),
      b.getNamedAttr("butterfly", b.getBoolAttr(p.butterfly)),
      b.getNamedAttr("rows_per_block", i64(p.rowsPerBlock)),
      b.getNamedAttr("max_splits", i64(FlashPlan::kMaxSplits)),
      b.getNamedAttr("wave_blocks_per_sm", i64(p.waveBlocksPerSM())),
      b.getNamedAttr("direct_output", b.getBoolAttr(p.directOutput())),
      b.getNamedAttr("grid_merge", b.getBoolAttr(p.gridMerge())),
      b.getNamedAttr("normalised_rows", b.getBoolAttr(p.normalisedRows())),
      b.getNamedAttr(
          "project_rows_max_splits",
          i64(p.normalisedRows() ? FlashPlan::kProjectRowsMaxSplits : 0)),
      b.getNamedAttr("combine_rows_overlaps",
                     b.getBoolAttr(p.combineRowsOverlaps())),
      b.getNamedAttr("combine_rows", i64(p.combineRows())),
      b.getNamedAttr("combine_rows_max_splits",
                     i64(p.combinesOnTensorCores()
                             ? FlashPlan::kCombineMmaSplits
                             : FlashPlan::kMaxSplits)),
      b.getNamedAttr("combine_rows_mma",
                     b.getBoolAttr(p.combinesOnTensorCores())),
      b.getNamedAttr("combine_rows_slices", i64(p.combineRowsSlices())),
      b.getNamedAttr("combine_slices", i64(slices)),
      b.getNamedAttr("project_slices", i64(latentSlices)),
      b.getNamedAttr("tile_rows", i64(p.tileRows)),
      b.getNamedAttr("kernels", b.getArrayAttr(kernels)),
  });
}

DictionaryAttr mlir::attn::buildCacheUpdateManifest(CacheUpdateOp op,
                                                   int64_t rowElements,
                                                   StringRef moduleName,
                                                   StringRef function) {
  Builder b(op.getContext());
  auto str = [&](StringRef s) { return b.getStringAttr(s); };
  auto i64 = [&](int64_t v) { return b.getI64IntegerAttr(v); };
  Type elem = op.getCache().getType().getElementType();
  std::string w = std::to_string(rowElements);
  ArgList args{b, {}};
  args.tensor("cache", elem, {"B", "C", w});
  args.tensor("rows", elem, {"B", "T", w});
  args.tensor("lengths", op.getLengths().getType().getElementType(), {"B"});
  bool weighted = op.getMerge() == SlotMerge::WeightedSum;
  if (weighted)
    args.tensor("weights", elem, {"B", "T"});
  for (StringRef s : {"B", "T", "C"})
    args.size(s);
  int64_t stride = op.getTimeStride();
  std::string slots = stride == 1 ? std::string("T")
                                  : "ceildiv(T," + std::to_string(stride) +
                                        ")+1";
  SmallVector<Attribute> grid = {
      str("ceildiv(" + w + ",128)"), str(slots), str("B")};
  auto kernel = b.getDictionaryAttr(
      {b.getNamedAttr("name", str("update")),
       b.getNamedAttr("grid", b.getArrayAttr(grid)),
       b.getNamedAttr("block", b.getArrayAttr({i64(128), i64(1), i64(1)})),
       b.getNamedAttr("shared_bytes", i64(0)),
       b.getNamedAttr("dynamic_shared_bytes", i64(0)),
       b.getNamedAttr("args", b.getArrayAttr(args.args))});
  return b.getDictionaryAttr({
      b.getNamedAttr("op", str("cache_update")),
      b.getNamedAttr("module", str(moduleName)),
      b.getNamedAttr("function", str(function)),
      b.getNamedAttr("dtype", str(typeName(elem))),
      b.getNamedAttr("row_elements", i64(rowElements)),
      b.getNamedAttr("time_stride", i64(stride)),
      b.getNamedAttr("merge", str(!op.getMerge() ? "append"
                                  : weighted     ? "weighted_sum"
                                                 : "replace")),
      b.getNamedAttr("kernels", b.getArrayAttr({kernel})),
  });
}

llvm::json::Value mlir::attn::attributeToJSON(Attribute attr) {
  return llvm::TypeSwitch<Attribute, llvm::json::Value>(attr)
      .Case<DictionaryAttr>([](DictionaryAttr d) {
        llvm::json::Object o;
        for (NamedAttribute a : d)
          o[a.getName().str()] = attributeToJSON(a.getValue());
        return llvm::json::Value(std::move(o));
      })
      .Case<ArrayAttr>([](ArrayAttr a) {
        llvm::json::Array arr;
        for (Attribute e : a)
          arr.push_back(attributeToJSON(e));
        return llvm::json::Value(std::move(arr));
      })
      .Case<StringAttr>(
          [](StringAttr s) { return llvm::json::Value(s.str()); })
      .Case<BoolAttr>([](BoolAttr v) { return llvm::json::Value(v.getValue()); })
      .Case<IntegerAttr>(
          [](IntegerAttr i) { return llvm::json::Value(i.getInt()); })
      .Case<FloatAttr>([](FloatAttr f) {
        return llvm::json::Value(f.getValueAsDouble());
      })
      .Default([](Attribute) { return llvm::json::Value(nullptr); });
}
