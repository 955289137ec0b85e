// RUN: not tosa-ir-opt %s 2>&1 | filecheck %s
// RUN: tosa-ir-opt %s --verify TOSA-1.0+FP | filecheck %s --check-prefix=FP

// The spec string decides what is legal: a float graph under TOSA-1.0+INT names the op,
// the type and the profile it needs; under TOSA-1.0+FP it verifies clean.

// CHECK: profile.mlir:[[# @LINE + 3]]: error: [profile] 'tosa.add': 'fp32' ADD needs PRO-FP; TOSA-1.0+INT does not enable it
// FP:    tosa.add
func.func @main(%arg0: tensor<4xf32>, %arg1: tensor<4xf32>) -> tensor<4xf32> {
  %0 = tosa.add %arg0, %arg1 : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}
