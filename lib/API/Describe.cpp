//===- Describe.cpp - a module from a variant description -----------------===//
//
// buildAttention: the operands an attn.attention takes follow from its
// variant (AttentionOp::verify states the rules); this writes the function a
// user would otherwise write by hand, then verifies it.
//
//===----------------------------------------------------------------------===//
#include "Session.h"
#include "attn/Dialect/Attn/IR/AttnOps.h"
#include "mlir/AsmParser/AsmParser.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Verifier.h"
#include "llvm/Support/raw_ostream.h"

namespace attn {

ModuleText buildAttention(const AttentionSpec &spec) {
  ModuleText out;
  detail::Session s(out.diagnostics);
  mlir::MLIRContext *ctx = &s.context;
  ctx->loadDialect<mlir::attn::AttnDialect, mlir::func::FuncDialect>();

  // Either the whole attribute or its <...> body.
  std::string text = spec.variant;
  if (text.rfind("#", 0) == 0 && text.rfind("#attn.variant", 0) != 0) {
    s.error("not an #attn.variant: '" + spec.variant + "'");
    return out;
  }
  if (text.rfind("#attn.variant", 0) != 0)
    text = "#attn.variant" + text;
  mlir::Attribute attr = mlir::parseAttribute(text, ctx);
  auto v = llvm::dyn_cast_or_null<mlir::attn::VariantAttr>(attr);
  if (!v) {
    if (attr)
      s.error("not an #attn.variant: '" + spec.variant + "'");
    return out;
  }
  mlir::Type elem = llvm::StringSwitch<mlir::Type>(spec.dtype)
                        .Case("bf16", mlir::BFloat16Type::get(ctx))
                        .Case("f16", mlir::Float16Type::get(ctx))
                        .Case("f32", mlir::Float32Type::get(ctx))
                        .Default(mlir::Type());
  if (!elem) {
    s.error("unknown dtype '" + spec.dtype + "' (expected bf16, f16 or f32)");
    return out;
  }
  std::optional<mlir::attn::Mask> mask =
      mlir::attn::symbolizeMask(spec.mask);
  if (!mask) {
    s.error("unknown mask '" + spec.mask +
            "' (expected none, causal or stride_aware_causal)");
    return out;
  }
  if (spec.queryTokens < 0) {
    s.error("queryTokens must be >= 0 (0: any), got " +
            std::to_string(spec.queryTokens));
    return out;
  }

  using mlir::attn::KvForm;
  using mlir::attn::ValueEpilogue;
  const int64_t dyn = mlir::ShapedType::kDynamic;
  int64_t tq = spec.queryTokens ? spec.queryTokens : dyn;
  KvForm form = v.getKvForm();
  bool latent = form == KvForm::Latent;
  bool absorbed = latent && spec.absorbed;
  ValueEpilogue epi = v.getValueEpilogue();
  auto tensor = [&](llvm::ArrayRef<int64_t> shape, mlir::Type t = {}) {
    return mlir::RankedTensorType::get(shape, t ? t : elem);
  };
  int64_t hq = v.getNumQHeads(), hkv = v.getNumKvHeads();
  int64_t dv = v.getVHeadDim(), out_h = v.getNumOutputHeads();

  // Operands in the op's order, each with its type.
  enum Slot { Query, Keys, Values, Rows, Rope, UpK, UpV, Lens, Gate, Decoder,
              Alpha, Transform, NumSlots };
  mlir::Type types[NumSlots] = {};
  types[Query] = tensor({dyn, tq, hq, v.getQueryWidth(absorbed)});
  if (form == KvForm::Separate) {
    types[Keys] = tensor({dyn, dyn, hkv, v.getQkHeadDim()});
    int64_t vw = epi == ValueEpilogue::GatedLatentDecoder
                     ? v.getLatentDim().value_or(dv)
                     : dv;
    types[Values] = tensor({dyn, dyn, v.getNumValueHeads(), vw});
  } else if (form == KvForm::Tied) {
    types[Rows] = tensor({dyn, dyn, hkv, v.getTie().getRow()});
  } else {
    types[Rows] = tensor({dyn, dyn, hkv, *v.getLatentDim()});
  }
  if (v.hasSharedRopeKey())
    types[Rope] = tensor({dyn, dyn, v.getRopeDim()});
  if (latent && !absorbed)
    types[UpK] = tensor({hq, *v.getLatentDim(), v.getNopeDim()});
  if (latent)
    types[UpV] = tensor({hq, *v.getLatentDim(), dv});
  if (spec.seqLens)
    types[Lens] =
        mlir::RankedTensorType::get({dyn}, mlir::IntegerType::get(ctx, 32));
  if (epi == ValueEpilogue::GatedLatentDecoder) {
    types[Gate] = tensor({dyn, tq, out_h * dv});
    types[Decoder] = tensor({out_h, v.getLatentDim().value_or(dv), dv});
  }
  if (epi == ValueEpilogue::KeyReusePost) {
    int64_t row = v.getTie() ? v.getTie().getRow() : v.getQkHeadDim();
    types[Alpha] = tensor({row});
    types[Transform] = tensor({row, row});
  }
  mlir::Type result = tensor({dyn, tq, out_h, dv});

  llvm::SmallVector<mlir::Type> args;
  for (mlir::Type t : types)
    if (t)
      args.push_back(t);
  mlir::OpBuilder b(ctx);
  mlir::Location loc = mlir::FileLineColLoc::get(ctx, "spec", 1, 1);
  mlir::OwningOpRef<mlir::ModuleOp> module = mlir::ModuleOp::create(loc);
  b.setInsertionPointToEnd(module->getBody());
  auto func = mlir::func::FuncOp::create(
      b, loc, spec.function, b.getFunctionType(args, {result}));
  mlir::Block *body = func.addEntryBlock();
  b.setInsertionPointToEnd(body);
  mlir::Value operands[NumSlots] = {};
  unsigned next = 0;
  for (int i = 0; i < NumSlots; ++i)
    if (types[i])
      operands[i] = body->getArgument(next++);
  auto op = mlir::attn::AttentionOp::create(
      b, loc, result, v, operands[Query], operands[Keys], operands[Values],
      operands[Rows], operands[Rope], operands[UpK], operands[UpV],
      operands[Lens], operands[Gate], operands[Decoder], operands[Alpha],
      operands[Transform], *mask, absorbed);
  mlir::func::ReturnOp::create(b, loc, op.getResult());
  if (mlir::failed(mlir::verify(*module)))
    return out;
  llvm::raw_string_ostream os(out.text);
  module->print(os);
  out.ok = !s.failed();
  return out;
}

} // namespace attn
