// RUN: attn-opt %s --attn-memref-copy-to-linalg | FileCheck %s

// A copy into a strided subview becomes linalg.copy, which lowers to loops
// instead of a call into MLIR's runner utilities.
// CHECK-LABEL: func.func @copy
// CHECK-NOT: memref.copy
// CHECK: linalg.copy ins(%{{.+}} : memref<4x8xf32>) outs(%{{.+}} : memref<4x8xf32, strided<[16, 1]>>)
func.func @copy(%src: memref<4x8xf32>, %dst: memref<4x16xf32>) {
  %view = memref.subview %dst[0, 0] [4, 8] [1, 1] : memref<4x16xf32> to memref<4x8xf32, strided<[16, 1]>>
  memref.copy %src, %view : memref<4x8xf32> to memref<4x8xf32, strided<[16, 1]>>
  return
}
