// RUN: attn-opt %s -split-input-file --pass-pipeline='builtin.module(gpu.module(llvm.func(attn-tensor-map-params)))' -verify-diagnostics | FileCheck %s

// The kernel's last two arguments become 128-byte parameters, 64-byte
// aligned, in the parameter space; the first is untouched and the marker
// is gone.
// CHECK-LABEL: llvm.func @two_maps(
// CHECK-SAME: %{{.*}}: !llvm.ptr,
// CHECK-SAME: %{{.*}}: !llvm.ptr {llvm.align = 64 : i64, llvm.byval = !llvm.array<128 x i8>, nvvm.grid_constant},
// CHECK-SAME: %{{.*}}: !llvm.ptr {llvm.align = 64 : i64, llvm.byval = !llvm.array<128 x i8>, nvvm.grid_constant})
// CHECK-NOT: attn.tensor_map_args
gpu.module @m {
  llvm.func @two_maps(%a: !llvm.ptr, %m0: !llvm.ptr, %m1: !llvm.ptr)
      attributes {nvvm.kernel, attn.tensor_map_args = 2 : i64} {
    llvm.return
  }
}

// -----

// Without the marker nothing changes.
// CHECK-LABEL: llvm.func @no_maps(
// CHECK-SAME: %{{.*}}: !llvm.ptr)
// CHECK-NOT: grid_constant
gpu.module @m {
  llvm.func @no_maps(%a: !llvm.ptr) attributes {nvvm.kernel} {
    llvm.return
  }
}

// -----

gpu.module @m {
  // expected-error @below {{'attn.tensor_map_args' = 3 but the kernel has 1 arguments}}
  llvm.func @too_many(%a: !llvm.ptr)
      attributes {nvvm.kernel, attn.tensor_map_args = 3 : i64} {
    llvm.return
  }
}

// -----

gpu.module @m {
  // expected-error @below {{tensor map argument 0 is 'i64', expected !llvm.ptr}}
  llvm.func @not_a_pointer(%a: i64)
      attributes {nvvm.kernel, attn.tensor_map_args = 1 : i64} {
    llvm.return
  }
}

// -----

gpu.module @m {
  // expected-error @below {{'attn.tensor_map_args' on a function that is not an NVVM kernel}}
  llvm.func @not_a_kernel(%a: !llvm.ptr) attributes {attn.tensor_map_args = 1 : i64} {
    llvm.return
  }
}
