// RUN: tosa-ir-opt %s -p legalize-unsigned-io | filecheck %s
// RUN: tosa-ir-opt %s -p legalize-unsigned-io | filecheck %s --check-prefix=SIGNLESS

// A ui8 graph input read by an input_unsigned RESCALE: the argument becomes i8, the flag
// stays, and the ui8 zero point keeps its byte (200 = 0xC8, read signed: -56).

// SIGNLESS-NOT: ui8

// CHECK-LABEL: func.func @main(%arg0: tensor<1x4xi8> {{.*}}) -> tensor<1x4xi8>
// CHECK:         %[[IZP:.*]] = "tosa.const"() <{values = dense<-56> : tensor<1xi8>}>
// CHECK:         tosa.rescale %arg0, %{{.*}}, %{{.*}}, %[[IZP]], %{{.*}} {input_unsigned = true, output_unsigned = false,
// CHECK-SAME:      (tensor<1x4xi8>, tensor<1xi32>, tensor<1xi8>, tensor<1xi8>, tensor<1xi8>) -> tensor<1x4xi8>
func.func @main(%arg0: tensor<1x4xui8>) -> tensor<1x4xi8> {
  %m = "tosa.const"() <{values = dense<1073741824> : tensor<1xi32>}> : () -> tensor<1xi32>
  %s = "tosa.const"() <{values = dense<30> : tensor<1xi8>}> : () -> tensor<1xi8>
  %izp = "tosa.const"() <{values = dense<200> : tensor<1xui8>}> : () -> tensor<1xui8>
  %ozp = "tosa.const"() <{values = dense<-3> : tensor<1xi8>}> : () -> tensor<1xi8>
  %r = tosa.rescale %arg0, %m, %s, %izp, %ozp {input_unsigned = true, output_unsigned = false, per_channel = false, rounding_mode = SINGLE_ROUND, scale32 = true} : (tensor<1x4xui8>, tensor<1xi32>, tensor<1xi8>, tensor<1xui8>, tensor<1xi8>) -> tensor<1x4xi8>
  return %r : tensor<1x4xi8>
}
