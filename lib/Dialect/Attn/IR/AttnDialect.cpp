//===- AttnDialect.cpp - attn dialect -------------------------------------===//
#include "attn/Dialect/Attn/IR/AttnDialect.h"
#include "attn/Dialect/Attn/IR/AttnOps.h"
#include "mlir/IR/OpImplementation.h"

using namespace mlir;
using namespace mlir::attn;

#include "attn/Dialect/Attn/IR/AttnDialect.cpp.inc"

namespace {
/// Prints variants as `#variant`, `#variant1`, ... at the top of a module so
/// that ops stay readable; a variant is usually shared by several ops.
struct AttnOpAsmInterface : public OpAsmDialectInterface {
  using OpAsmDialectInterface::OpAsmDialectInterface;
  AliasResult getAlias(Attribute attr, raw_ostream &os) const override {
    if (isa<VariantAttr>(attr)) {
      os << "variant";
      return AliasResult::FinalAlias;
    }
    if (isa<RopeAttr>(attr)) {
      os << "rope";
      return AliasResult::OverridableAlias;
    }
    return AliasResult::NoAlias;
  }
};
} // namespace

void AttnDialect::initialize() {
  registerAttributes();
  addOperations<
#define GET_OP_LIST
#include "attn/Dialect/Attn/IR/AttnOps.cpp.inc"
      >();
  addInterfaces<AttnOpAsmInterface>();
}
