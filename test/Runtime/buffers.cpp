// The runtime refuses buffers its kernels cannot take, naming them, before
// launching anything: a buffer not 16-byte aligned (the kernels move up to
// 16 bytes at a time: the narrow kernel stores 8 bf16 outputs at once), a
// null buffer. On attn-run --dry-run's stand-in GPU.
// Two splits of two sequences: the forward and a combine kernel (a grid of
// four blocks is left to the combine, not merged in the grid).
//
// clang-format off
// RUN: rm -rf %t && attn-opt %examples/mqa.mlir --attn-compile="target=sm_90a output=%t formats=isa" -o /dev/null
// RUN: attn-runtime-test %t mqa_decode 2>&1 | FileCheck %s
// CHECK: inputs: [[FIRST:[a-z_]+]] {{.*}}out
// CHECK-NEXT: aligned: ok, 2 launches
// CHECK-NEXT: out + 2 bytes: mqa_decode_attn0: buffer 'out' must be 16-byte aligned; 0 launches
// CHECK-NEXT: out + 4 bytes: mqa_decode_attn0: buffer 'out' must be 16-byte aligned; 0 launches
// CHECK-NEXT: out + 16 bytes: ok, 2 launches
// CHECK-NEXT: first input + 8 bytes: mqa_decode_attn0: buffer '[[FIRST]]' must be 16-byte aligned; 0 launches
// CHECK-NEXT: first input null: mqa_decode_attn0: buffer '[[FIRST]]' is null; 0 launches
// clang-format on

#include "DryRunModule.h"
#include <cstdio>

using namespace attn;

int main(int argc, char **argv) {
  run::DryRunModule dry;
  if (!dry.open(argc, argv))
    return 1;
  run::DryRunDevice &dev = dry.dev;
  rt::KernelModule *m = dry.module;
  // The stand-in's buffers (malloc'd, 16-byte aligned, never read); the
  // one named moves `shift` bytes, or is null for ~0.
  auto runWith = [&](const char *what, const std::string &name, size_t shift) {
    std::vector<void *> buffers;
    for (const rt::TensorSpec &t : m->inputs()) {
      void *p = nullptr;
      dev.alloc(64, p);
      if (t.name == name)
        p = shift == ~size_t(0) ? nullptr : static_cast<char *>(p) + shift;
      buffers.push_back(p);
    }
    dev.launches.clear();
    rt::Status s = m->run(buffers, /*B=*/2, /*Tq=*/1, /*L=*/100, /*splits=*/2);
    if (s)
      std::printf("%s: ok, %zu launches\n", what, dev.launches.size());
    else
      std::printf("%s: %s; %zu launches\n", what, s.message.c_str(),
                  dev.launches.size());
  };
  std::printf("inputs:");
  for (const rt::TensorSpec &t : m->inputs())
    std::printf(" %s", t.name.c_str());
  std::printf("\n");
  runWith("aligned", "", 0);
  runWith("out + 2 bytes", "out", 2);
  runWith("out + 4 bytes", "out", 4);
  runWith("out + 16 bytes", "out", 16);
  runWith("first input + 8 bytes", m->inputs()[0].name, 8);
  runWith("first input null", m->inputs()[0].name, ~size_t(0));
  return 0;
}
