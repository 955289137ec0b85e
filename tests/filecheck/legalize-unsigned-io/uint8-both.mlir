// RUN: tosa-ir-opt %s -p legalize-unsigned-io | filecheck %s
// RUN: tosa-ir-opt %s -p legalize-unsigned-io | filecheck %s --check-prefix=SIGNLESS

// uint8 in and out, ExecuTorch's uint8 IO shape: u8 -> i8 at the input, the graph in
// signless i8 (a clamp and a reverse here), i8 -> u8 at the output. Only the two boundary
// RESCALEs carry a flag; the inner ops do not change.

// SIGNLESS-NOT: ui8

// CHECK-LABEL: func.func @main(%arg0: tensor<1x4xi8> {{.*}}) -> tensor<1x4xi8>
// CHECK:         %[[A:.*]] = tosa.rescale %arg0, {{.*}} {input_unsigned = true, output_unsigned = false,
// CHECK-NEXT:    %[[C:.*]] = tosa.clamp %[[A]] {max_val = 100 : i8, min_val = -100 : i8} : (tensor<1x4xi8>) -> tensor<1x4xi8>
// CHECK-NEXT:    %[[R:.*]] = tosa.reverse %[[C]] {axis = 1 : i32} : (tensor<1x4xi8>) -> tensor<1x4xi8>
// CHECK:         %[[OUT:.*]] = tosa.rescale %[[R]], {{.*}} {input_unsigned = false, output_unsigned = true,
// CHECK-NEXT:    return %[[OUT]] : tensor<1x4xi8>
func.func @main(%arg0: tensor<1x4xui8>) -> tensor<1x4xui8> {
  %m = "tosa.const"() <{values = dense<1073741824> : tensor<1xi32>}> : () -> tensor<1xi32>
  %s = "tosa.const"() <{values = dense<30> : tensor<1xi8>}> : () -> tensor<1xi8>
  %uzp = "tosa.const"() <{values = dense<128> : tensor<1xui8>}> : () -> tensor<1xui8>
  %zp = "tosa.const"() <{values = dense<0> : tensor<1xi8>}> : () -> tensor<1xi8>
  %a = tosa.rescale %arg0, %m, %s, %uzp, %zp {input_unsigned = true, output_unsigned = false, per_channel = false, rounding_mode = SINGLE_ROUND, scale32 = true} : (tensor<1x4xui8>, tensor<1xi32>, tensor<1xi8>, tensor<1xui8>, tensor<1xi8>) -> tensor<1x4xi8>
  %c = tosa.clamp %a {max_val = 100 : i8, min_val = -100 : i8} : (tensor<1x4xi8>) -> tensor<1x4xi8>
  %r = tosa.reverse %c {axis = 1 : i32} : (tensor<1x4xi8>) -> tensor<1x4xi8>
  %uzp2 = "tosa.const"() <{values = dense<128> : tensor<1xui8>}> : () -> tensor<1xui8>
  %out = tosa.rescale %r, %m, %s, %zp, %uzp2 {input_unsigned = false, output_unsigned = true, per_channel = false, rounding_mode = SINGLE_ROUND, scale32 = true} : (tensor<1x4xi8>, tensor<1xi32>, tensor<1xi8>, tensor<1xi8>, tensor<1xui8>) -> tensor<1x4xui8>
  return %out : tensor<1x4xui8>
}
