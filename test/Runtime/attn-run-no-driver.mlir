// REQUIRES: no-cuda-driver
// A real artifact on a machine without the CUDA driver: a clear message.
// RUN: rm -rf %t && attn-opt %examples/gqa.mlir --attn-compile="target=sm_90a output=%t formats=isa" -o /dev/null
// RUN: not attn-run %t --module gqa_decode 2>&1 | FileCheck %s
// CHECK: attn-run: no CUDA driver: cannot open libcuda.so.1
