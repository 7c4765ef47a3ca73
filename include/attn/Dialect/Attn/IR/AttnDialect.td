//===- AttnDialect.td - attn dialect definition -----------*- tablegen -*-===//
//
// The `attn` dialect declares attention variants (grouped, tied, latent,
// factorized, shared-score, temporally strided) so that passes can lower,
// absorb and fuse them.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_DIALECT_ATTN_IR_ATTNDIALECT_TD
#define ATTN_DIALECT_ATTN_IR_ATTNDIALECT_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"

def Attn_Dialect : Dialect {
  let name = "attn";
  let cppNamespace = "::mlir::attn";
  let summary = "Declarative attention variants and the layer ops around them";
  let description = [{
    The `attn` dialect describes one attention layer of a transformer in the
    terms of the variant it implements: how many query heads there are, how
    they group onto cached key/value, tied or latent heads, which channels are
    rotary, whether adjacent tokens are merged into one cache slot, and what
    per-head work follows the aggregation.

    The core op, `attn.attention`, computes attention over cache rows for any
    number of query tokens (prefill, or a decode step of one or a few tokens).
    The layer ops around it (`attn.linear`, `attn.norm`, `attn.rope`,
    `attn.merge_weights`, `attn.partial_slots`, `attn.cache_update`) describe
    how the hidden state becomes the query and the cache, so that weight
    absorption and fusion are rewrites of IR. All tensors are row-vector convention: `y = x @ W` with
    `W : [in, out]`.
  }];
  let useDefaultAttributePrinterParser = 1;
  let hasConstantMaterializer = 0;
  let extraClassDeclaration = [{
    void registerAttributes();
  }];
}

class Attn_Op<string mnemonic, list<Trait> traits = []>
    : Op<Attn_Dialect, mnemonic, traits>;

class Attn_Attr<string name, string attrMnemonic, list<Trait> traits = []>
    : AttrDef<Attn_Dialect, name, traits> {
  let mnemonic = attrMnemonic;
}

#endif // ATTN_DIALECT_ATTN_IR_ATTNDIALECT_TD
