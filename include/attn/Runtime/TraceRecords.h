//===- TraceRecords.h - trace-blocks builds' block records ---*- C++ -*-===//
//
// A kernel compiled with trace-blocks writes one record per block into a
// global of its module, `attn_trace_<kernel>`, which the runtime reads back
// and prints after each step. Shared by the compiler (which writes them)
// and the runtime (which reads them); no MLIR here.
//
//===----------------------------------------------------------------------===//
#ifndef ATTN_RUNTIME_TRACERECORDS_H
#define ATTN_RUNTIME_TRACERECORDS_H

#include <cstdint>

namespace attn::trace {

/// A record: the number of stamps, the block's x, y, z and SM, then the
/// stamps (64-bit words).
constexpr int64_t kHeaderWords = 5;
constexpr int64_t kRecordWords = 24;
constexpr int64_t kMaxStamps = kRecordWords - kHeaderWords;
/// Records per kernel: blocks with a larger linear index are not traced.
constexpr int64_t kMaxBlocks = 16384;
/// The global of kernel `name` is kPrefix + name.
constexpr const char *kPrefix = "attn_trace_";

} // namespace attn::trace

#endif // ATTN_RUNTIME_TRACERECORDS_H
