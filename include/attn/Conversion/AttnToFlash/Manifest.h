//===- Manifest.h - describe the fused kernels of one op --------*- C++ -*-===//
//
// The `attn.manifest` attribute that attn-to-flash leaves on each generated
// gpu.module, and its JSON rendering written next to the binaries. It is the
// contract with the runtime (which has no MLIR): kernel names, argument
// order, shapes and dtypes, launch geometry and workspace sizes.
//
//===----------------------------------------------------------------------===//
#ifndef ATTN_CONVERSION_ATTNTOFLASH_MANIFEST_H
#define ATTN_CONVERSION_ATTNTOFLASH_MANIFEST_H

#include "attn/Conversion/AttnToFlash/FlashPlan.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "llvm/Support/JSON.h"

namespace mlir::attn {
/// The manifest entry of one attention op lowered to module `moduleName`.
DictionaryAttr buildManifestEntry(AttentionOp op, const FlashPlan &plan,
                                  StringRef moduleName, StringRef function);

/// The manifest entry of one attn.cache_update lowered to `moduleName`.
DictionaryAttr buildCacheUpdateManifest(CacheUpdateOp op, int64_t rowElements,
                                        StringRef moduleName,
                                        StringRef function);

/// Converts an attribute tree (dictionaries, arrays, strings, integers,
/// floats, booleans) to JSON.
llvm::json::Value attributeToJSON(Attribute attr);
} // namespace mlir::attn

#endif // ATTN_CONVERSION_ATTNTOFLASH_MANIFEST_H
