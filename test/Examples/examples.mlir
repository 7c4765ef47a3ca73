// Every bundled example parses, verifies and round-trips, in the custom form
// and through the generic form, to the same text.
//
// RUN: attn-opt %examples/mha.mlir -o %t.mha.1 && attn-opt %t.mha.1 -o %t.mha.2 && diff %t.mha.1 %t.mha.2
// RUN: attn-opt %examples/mha.mlir --mlir-print-op-generic | attn-opt -o %t.mha.3 && diff %t.mha.1 %t.mha.3
// RUN: attn-opt %examples/mqa.mlir -o %t.mqa.1 && attn-opt %t.mqa.1 -o %t.mqa.2 && diff %t.mqa.1 %t.mqa.2
// RUN: attn-opt %examples/mqa.mlir --mlir-print-op-generic | attn-opt -o %t.mqa.3 && diff %t.mqa.1 %t.mqa.3
// RUN: attn-opt %examples/gqa.mlir -o %t.gqa.1 && attn-opt %t.gqa.1 -o %t.gqa.2 && diff %t.gqa.1 %t.gqa.2
// RUN: attn-opt %examples/gqa.mlir --mlir-print-op-generic | attn-opt -o %t.gqa.3 && diff %t.gqa.1 %t.gqa.3
// RUN: attn-opt %examples/gta.mlir -o %t.gta.1 && attn-opt %t.gta.1 -o %t.gta.2 && diff %t.gta.1 %t.gta.2
// RUN: attn-opt %examples/gta.mlir --mlir-print-op-generic | attn-opt -o %t.gta.3 && diff %t.gta.1 %t.gta.3
// RUN: attn-opt %examples/mla.mlir -o %t.mla.1 && attn-opt %t.mla.1 -o %t.mla.2 && diff %t.mla.1 %t.mla.2
// RUN: attn-opt %examples/mla.mlir --mlir-print-op-generic | attn-opt -o %t.mla.3 && diff %t.mla.1 %t.mla.3
// RUN: attn-opt %examples/gla.mlir -o %t.gla.1 && attn-opt %t.gla.1 -o %t.gla.2 && diff %t.gla.1 %t.gla.2
// RUN: attn-opt %examples/gla.mlir --mlir-print-op-generic | attn-opt -o %t.gla.3 && diff %t.gla.1 %t.gla.3
// RUN: attn-opt %examples/mfa.mlir -o %t.mfa.1 && attn-opt %t.mfa.1 -o %t.mfa.2 && diff %t.mfa.1 %t.mfa.2
// RUN: attn-opt %examples/mfa.mlir --mlir-print-op-generic | attn-opt -o %t.mfa.3 && diff %t.mfa.1 %t.mfa.3
// RUN: attn-opt %examples/mfa_kr.mlir -o %t.mfa_kr.1 && attn-opt %t.mfa_kr.1 -o %t.mfa_kr.2 && diff %t.mfa_kr.1 %t.mfa_kr.2
// RUN: attn-opt %examples/mfa_kr.mlir --mlir-print-op-generic | attn-opt -o %t.mfa_kr.3 && diff %t.mfa_kr.1 %t.mfa_kr.3
// RUN: attn-opt %examples/gta_sun.mlir -o %t.gta_sun.1 && attn-opt %t.gta_sun.1 -o %t.gta_sun.2 && diff %t.gta_sun.1 %t.gta_sun.2
// RUN: attn-opt %examples/gta_sun.mlir --mlir-print-op-generic | attn-opt -o %t.gta_sun.3 && diff %t.gta_sun.1 %t.gta_sun.3
// RUN: attn-opt %examples/mtla.mlir -o %t.mtla.1 && attn-opt %t.mtla.1 -o %t.mtla.2 && diff %t.mtla.1 %t.mtla.2
// RUN: attn-opt %examples/mtla.mlir --mlir-print-op-generic | attn-opt -o %t.mtla.3 && diff %t.mtla.1 %t.mtla.3
//
// Each example declares its variant and its prefill and decode functions.
// RUN: cat %t.*.1 | FileCheck %s
// CHECK-DAG: func.func @mha_prefill
// CHECK-DAG: func.func @mha_decode
// CHECK-DAG: func.func @mqa_prefill
// CHECK-DAG: func.func @mqa_decode
// CHECK-DAG: func.func @gqa_prefill
// CHECK-DAG: func.func @gqa_decode
// CHECK-DAG: func.func @gta_prefill
// CHECK-DAG: func.func @gta_decode
// CHECK-DAG: func.func @mla_prefill
// CHECK-DAG: func.func @mla_decode
// CHECK-DAG: func.func @gla_prefill
// CHECK-DAG: func.func @gla_decode
// CHECK-DAG: func.func @mfa_prefill
// CHECK-DAG: func.func @mfa_decode
// CHECK-DAG: func.func @mfa_kr_prefill
// CHECK-DAG: func.func @mfa_kr_decode
// CHECK-DAG: func.func @gta_sun_prefill
// CHECK-DAG: func.func @gta_sun_decode
// CHECK-DAG: func.func @mtla_prefill
// CHECK-DAG: func.func @mtla_decode
