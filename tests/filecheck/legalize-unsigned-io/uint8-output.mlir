// RUN: tosa-ir-opt %s -p legalize-unsigned-io | filecheck %s
// RUN: tosa-ir-opt %s -p legalize-unsigned-io | filecheck %s --check-prefix=SIGNLESS

// A ui8 graph output made by an output_unsigned RESCALE: the function result and the
// RESCALE's result become i8, the flag stays, the output zero point keeps its byte.

// SIGNLESS-NOT: ui8

// CHECK-LABEL: func.func @main(%arg0: tensor<1x4xi8> {{.*}}) -> tensor<1x4xi8>
// CHECK:         %[[OZP:.*]] = "tosa.const"() <{values = dense<119> : tensor<1xi8>}>
// CHECK:         %[[R:.*]] = tosa.rescale %arg0, %{{.*}}, %{{.*}}, %{{.*}}, %[[OZP]] {input_unsigned = false, output_unsigned = true,
// CHECK-SAME:      -> tensor<1x4xi8>
// CHECK-NEXT:    return %[[R]] : tensor<1x4xi8>
func.func @main(%arg0: tensor<1x4xi8>) -> tensor<1x4xui8> {
  %m = "tosa.const"() <{values = dense<1073741824> : tensor<1xi32>}> : () -> tensor<1xi32>
  %s = "tosa.const"() <{values = dense<30> : tensor<1xi8>}> : () -> tensor<1xi8>
  %izp = "tosa.const"() <{values = dense<-9> : tensor<1xi8>}> : () -> tensor<1xi8>
  %ozp = "tosa.const"() <{values = dense<119> : tensor<1xui8>}> : () -> tensor<1xui8>
  %r = tosa.rescale %arg0, %m, %s, %izp, %ozp {input_unsigned = false, output_unsigned = true, per_channel = false, rounding_mode = SINGLE_ROUND, scale32 = true} : (tensor<1x4xi8>, tensor<1xi32>, tensor<1xi8>, tensor<1xi8>, tensor<1xui8>) -> tensor<1x4xui8>
  return %r : tensor<1x4xui8>
}
