// RUN: tosa-ir-opt %s -p legalize-unsigned-io | filecheck %s

// A ui8 graph input whose input_unsigned RESCALE has an i8 zero point, as other tools
// write it (MLIR accepts both forms; our typed stage writes ui8). The byte is the same:
// -56 = 0xC8, read as 200 because of the flag; legalize-unsigned-io keeps it.

// CHECK-LABEL: func.func @main(%arg0: tensor<1x4xi8> {{.*}}) -> tensor<1x4xi8>
// CHECK:         %[[IZP:.*]] = "tosa.const"() <{values = dense<-56> : tensor<1xi8>}>
// CHECK:         tosa.rescale %arg0, %{{.*}}, %{{.*}}, %[[IZP]], %{{.*}} {input_unsigned = true, output_unsigned = false,
// CHECK-SAME:      (tensor<1x4xi8>, tensor<1xi32>, tensor<1xi8>, tensor<1xi8>, tensor<1xi8>) -> tensor<1x4xi8>
func.func @main(%arg0: tensor<1x4xui8>) -> tensor<1x4xi8> {
  %m = "tosa.const"() <{values = dense<1073741824> : tensor<1xi32>}> : () -> tensor<1xi32>
  %s = "tosa.const"() <{values = dense<30> : tensor<1xi8>}> : () -> tensor<1xi8>
  %izp = "tosa.const"() <{values = dense<-56> : tensor<1xi8>}> : () -> tensor<1xi8>
  %ozp = "tosa.const"() <{values = dense<-3> : tensor<1xi8>}> : () -> tensor<1xi8>
  %r = tosa.rescale %arg0, %m, %s, %izp, %ozp {input_unsigned = true, output_unsigned = false, per_channel = false, rounding_mode = SINGLE_ROUND, scale32 = true} : (tensor<1x4xui8>, tensor<1xi32>, tensor<1xi8>, tensor<1xi8>, tensor<1xi8>) -> tensor<1x4xi8>
  return %r : tensor<1x4xi8>
}
