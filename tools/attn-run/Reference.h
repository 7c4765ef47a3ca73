//===- Reference.h - float64 attention for attn-run checks ------*- C++ -*-===//
//
// attn-run checks the GPU against this: the canonical attention of
// variants.md §1.6 in double precision, driven by the manifest's facts
// (views of the cache row, grouping, mask, scale, epilogue), written
// independently of the kernel generator.
//
//===----------------------------------------------------------------------===//
#ifndef ATTN_TOOLS_ATTNRUN_REFERENCE_H
#define ATTN_TOOLS_ATTNRUN_REFERENCE_H

#include "attn/Runtime/Json.h"

#include <map>
#include <string>
#include <vector>

namespace attn::run {
/// Host tensors by manifest name, values already rounded to storage type.
using Tensors = std::map<std::string, std::vector<double>>;

/// out [B, Tq, num_out_heads, out_width] for the module `info` describes.
std::vector<double> referenceAttention(const rt::Json &info, const Tensors &in,
                                       int64_t B, int64_t Tq, int64_t L);
/// The cache after an attn.cache_update (append, weighted_sum or replace
/// into slots of `time_stride` tokens), for B sequences, T new tokens and a
/// capacity of C slots.
std::vector<double> referenceCacheUpdate(const rt::Json &info,
                                         const Tensors &in, int64_t B,
                                         int64_t T, int64_t C);
} // namespace attn::run

#endif // ATTN_TOOLS_ATTNRUN_REFERENCE_H
