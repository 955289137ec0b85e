// RUN: tosa-ir-opt %s -p legalize-unsigned-io | filecheck %s

// TOSA 1.0 has no i32 -> u8 RESCALE: it is split in two as ExecuTorch's visitor writes
// it, i32 -> i8 with the output zero point moved by -128 (130 -> 2), then i8 -> u8 at
// unit scale (2^30 >> 30) from zero point -128 to 0, which carries output_unsigned.

// CHECK-LABEL: func.func @main
// CHECK:         %[[ZP1:.*]] = "tosa.const"() <{values = dense<2> : tensor<1xi8>}> {tosa.tensor_name = "conv_out_signed_output_zp"}
// CHECK:         %[[SIGNED:.*]] = tosa.rescale %arg0, %{{.*}}, %{{.*}}, %{{.*}}, %[[ZP1]] {input_unsigned = false, output_unsigned = false,
// CHECK-SAME:      tosa.tensor_name = "conv_out_signed"} : (tensor<1x4xi32>, {{.*}}) -> tensor<1x4xi8>
// CHECK:         "tosa.const"() <{values = dense<1073741824> : tensor<1xi32>}>
// CHECK:         "tosa.const"() <{values = dense<30> : tensor<1xi8>}>
// CHECK:         "tosa.const"() <{values = dense<-128> : tensor<1xi8>}>
// CHECK:         "tosa.const"() <{values = dense<0> : tensor<1xi8>}>
// CHECK:         %[[OUT:.*]] = tosa.rescale %[[SIGNED]], {{.*}} {input_unsigned = false, output_unsigned = true,
// CHECK-SAME:      tosa.tensor_name = "conv_out"} : (tensor<1x4xi8>, {{.*}}) -> tensor<1x4xi8>
// CHECK-NEXT:    return %[[OUT]] : tensor<1x4xi8>
func.func @main(%arg0: tensor<1x4xi32>) -> tensor<1x4xui8> {
  %m = "tosa.const"() <{values = dense<1518500250> : tensor<1xi32>}> : () -> tensor<1xi32>
  %s = "tosa.const"() <{values = dense<38> : tensor<1xi8>}> : () -> tensor<1xi8>
  %izp = "tosa.const"() <{values = dense<0> : tensor<1xi32>}> : () -> tensor<1xi32>
  %ozp = "tosa.const"() <{values = dense<130> : tensor<1xui8>}> : () -> tensor<1xui8>
  %r = tosa.rescale %arg0, %m, %s, %izp, %ozp {input_unsigned = false, output_unsigned = true, per_channel = false, rounding_mode = SINGLE_ROUND, scale32 = true, tosa.tensor_name = "conv_out"} : (tensor<1x4xi32>, tensor<1xi32>, tensor<1xi8>, tensor<1xi32>, tensor<1xui8>) -> tensor<1x4xui8>
  return %r : tensor<1x4xui8>
}
