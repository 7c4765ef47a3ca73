// A trace-blocks build's kernels record each block into a global of their
// module (attn_trace_<kernel>); after each step the runtime prints one line
// per recorded block (the kernel, the block's x, y, z and SM, its stamps),
// as bench/trace_blocks.py reads them, and clears the records. On attn-run
// --dry-run's stand-in GPU, whose globals are host memory: a record is
// written here as a kernel would.
//
// clang-format off
// RUN: rm -rf %t && attn-opt %examples/mqa.mlir --attn-compile="target=sm_90a output=%t formats=isa trace-blocks" -o /dev/null
// RUN: attn-trace-test %t mqa_decode 2>&1 | FileCheck %s
// CHECK: globals: attn_trace_combine attn_trace_combine_rows attn_trace_combine_wide attn_trace_fwd
// CHECK-NEXT: step 1
// CHECK-NEXT: fwd 3 1 0 17 100 250
// CHECK-NEXT: fwd 0 2 1 5 7 8 9
// CHECK-NEXT: step 2
// CHECK-NEXT: done
// clang-format on

#include "DryRunModule.h"
#include "attn/Runtime/TraceRecords.h"
#include <cstdio>

using namespace attn;

int main(int argc, char **argv) {
  run::DryRunModule dry;
  if (!dry.open(argc, argv))
    return 1;
  run::DryRunDevice &dev = dry.dev;
  rt::KernelModule *m = dry.module;
  std::printf("globals:");
  for (const auto &[name, g] : dev.globals)
    std::printf(" %s", name.c_str());
  std::printf("\n");
  auto fwd = dev.globals.find(std::string(trace::kPrefix) + "fwd");
  if (fwd == dev.globals.end())
    return 1;
  // Two blocks' records, out of order; the runtime prints them by block.
  auto *words = static_cast<int64_t *>(fwd->second.first);
  auto record = [&](int64_t block, std::vector<int64_t> fields) {
    std::copy(fields.begin(), fields.end(),
              words + block * trace::kRecordWords);
  };
  record(9, {3, 0, 2, 1, 5, 7, 8, 9});
  record(4, {2, 3, 1, 0, 17, 100, 250});
  std::vector<void *> buffers;
  for (size_t i = 0; i < m->inputs().size(); ++i) {
    void *p = nullptr;
    dev.alloc(64, p);
    buffers.push_back(p);
  }
  // The second step prints nothing: the first cleared the records.
  for (int step = 1; step <= 2; ++step) {
    std::printf("step %d\n", step);
    std::fflush(stdout);
    rt::Status s = m->run(buffers, /*B=*/2, /*Tq=*/1, /*L=*/100, /*splits=*/2);
    if (!s)
      std::printf("%s\n", s.message.c_str());
  }
  std::printf("done\n");
  return 0;
}
