// RUN: not tosa-ir-opt %s -o %t.tosa 2>&1 | filecheck %s
// RUN: tosa-ir-opt %s -p legalize-unsigned-io -o %t.tosa

// TOSA 1.0 flatbuffers have no uint8: the typed stage is refused with the op and what to
// run first; after legalize-unsigned-io the same module is written.

// CHECK: refuses-typed.mlir:8: error: 'func.func': value of type tensor<1x4xui8> cannot be written to a TOSA 1.0 flatbuffer {{.*}}run legalize-unsigned-io
func.func @main(%arg0: tensor<1x4xui8>) -> tensor<1x4xi8> {
  %m = "tosa.const"() <{values = dense<1073741824> : tensor<1xi32>}> : () -> tensor<1xi32>
  %s = "tosa.const"() <{values = dense<30> : tensor<1xi8>}> : () -> tensor<1xi8>
  %izp = "tosa.const"() <{values = dense<128> : tensor<1xui8>}> : () -> tensor<1xui8>
  %ozp = "tosa.const"() <{values = dense<0> : tensor<1xi8>}> : () -> tensor<1xi8>
  %r = tosa.rescale %arg0, %m, %s, %izp, %ozp {input_unsigned = true, output_unsigned = false, per_channel = false, rounding_mode = SINGLE_ROUND, scale32 = true} : (tensor<1x4xui8>, tensor<1xi32>, tensor<1xi8>, tensor<1xui8>, tensor<1xi8>) -> tensor<1x4xi8>
  return %r : tensor<1x4xi8>
}
