// The committed dialect reference is the one ODS generates now; run
// scripts/gen-docs.sh after changing an op, attribute or description.
// RUN: diff %attn_obj_root/docs/Dialects/AttnDialect.md %attn_src_root/docs/Dialects/AttnDialect.md
// RUN: diff %attn_obj_root/docs/AttnPasses.md %attn_src_root/docs/AttnPasses.md
// RUN: diff %attn_obj_root/docs/AttnConversionPasses.md %attn_src_root/docs/AttnConversionPasses.md
