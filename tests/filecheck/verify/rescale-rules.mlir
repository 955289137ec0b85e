// RUN: not tosa-ir-opt %s 2>&1 | filecheck %s
// RUN: not tosa-ir-opt %s --verify TOSA-1.0+INT+int16 2>&1 | filecheck %s

// RESCALE's REQUIREs, which tosa-opt's validation does not check: a shift outside
// [2, 62] and a negative multiplier. Every violation is listed, one line each, with the
// rule id and the line of the op; the exit status is 1 and nothing is printed on stdout.

// CHECK:      rescale-rules.mlir:[[# @LINE + 11]]: error: [rescale-shift] 'tosa.rescale': shift 70 outside [2, 62]
// CHECK-NEXT: rescale-rules.mlir:[[# @LINE + 11]]: error: [rescale-multiplier] 'tosa.rescale': multiplier -5 < 0
// CHECK-NEXT: rescale-rules.mlir: note: the module breaks these rules as it came in, before any pass
// CHECK-NOT:  module
func.func @main(%arg0: tensor<1x4xi32>) -> (tensor<1x4xi8>, tensor<1x4xi8>) {
  %m = "tosa.const"() <{values = dense<1073741824> : tensor<1xi32>}> : () -> tensor<1xi32>
  %neg = "tosa.const"() <{values = dense<-5> : tensor<1xi32>}> : () -> tensor<1xi32>
  %s = "tosa.const"() <{values = dense<30> : tensor<1xi8>}> : () -> tensor<1xi8>
  %s70 = "tosa.const"() <{values = dense<70> : tensor<1xi8>}> : () -> tensor<1xi8>
  %izp = "tosa.const"() <{values = dense<0> : tensor<1xi32>}> : () -> tensor<1xi32>
  %ozp = "tosa.const"() <{values = dense<0> : tensor<1xi8>}> : () -> tensor<1xi8>
  %a = tosa.rescale %arg0, %m, %s70, %izp, %ozp {input_unsigned = false, output_unsigned = false, per_channel = false, rounding_mode = SINGLE_ROUND, scale32 = true} : (tensor<1x4xi32>, tensor<1xi32>, tensor<1xi8>, tensor<1xi32>, tensor<1xi8>) -> tensor<1x4xi8>
  %b = tosa.rescale %arg0, %neg, %s, %izp, %ozp {input_unsigned = false, output_unsigned = false, per_channel = false, rounding_mode = SINGLE_ROUND, scale32 = true} : (tensor<1x4xi32>, tensor<1xi32>, tensor<1xi8>, tensor<1xi32>, tensor<1xi8>) -> tensor<1x4xi8>
  return %a, %b : tensor<1x4xi8>, tensor<1x4xi8>
}
