// RUN: tosa-ir-opt %s -p legalize-unsigned-io | filecheck %s
// RUN: tosa-ir-opt %s -p legalize-unsigned-io | filecheck %s --check-prefix=SIGNLESS

// One input feeding both its boundary RESCALE (into a clamp) and a reshape that is
// returned. When that RESCALE is a unit one (scale 1, zero point moved by -128) the
// reshape reads its result: the boundary is merged, not doubled. %arg1's RESCALE scales
// (multiplier 2^29: one half), so its transpose gets a RESCALE of its own.

// SIGNLESS-NOT: ui8

// CHECK-LABEL: func.func @main(
// CHECK:         %[[B:.*]] = tosa.rescale %arg1, {{.*}} {input_unsigned = true, {{.*}} tosa.tensor_name = "y_signed"} : {{.*}} loc("aten_permute_copy_default"("model.py":12:0))
// CHECK:         %[[U:.*]] = tosa.rescale %arg0, {{.*}} {input_unsigned = true, {{.*}} tosa.tensor_name = "x_rescaled"}
// CHECK-NEXT:    %[[CL:.*]] = tosa.clamp %[[U]]
// CHECK:         %[[R:.*]] = tosa.reshape %[[U]], %{{.*}} {tosa.tensor_name = "view"} : (tensor<1x4xi8>, !tosa.shape<2>) -> tensor<2x2xi8>
// CHECK:         %[[HALF:.*]] = tosa.rescale %arg1, {{.*}} {input_unsigned = true, {{.*}} tosa.tensor_name = "y_rescaled"}
// CHECK:         %[[T:.*]] = tosa.transpose %[[B]] {perms = array<i32: 1, 0>, tosa.tensor_name = "permute"} : (tensor<2x3xi8>) -> tensor<3x2xi8>
// CHECK:         tosa.rescale %[[R]], {{.*}} {input_unsigned = false, output_unsigned = true, {{.*}} tosa.tensor_name = "out1_unsigned"}
// CHECK:         tosa.rescale %[[T]], {{.*}} {input_unsigned = false, output_unsigned = true, {{.*}} tosa.tensor_name = "out2_unsigned"}
// CHECK-NOT:     tosa.tensor_name = "x_signed"
func.func @main(%arg0: tensor<1x4xui8> {tosa.tensor_name = "x"}, %arg1: tensor<2x3xui8> {tosa.tensor_name = "y"}) -> (tensor<1x4xi8> {tosa.tensor_name = "out0"}, tensor<2x2xui8> {tosa.tensor_name = "out1"}, tensor<3x2xui8> {tosa.tensor_name = "out2"}, tensor<2x3xi8> {tosa.tensor_name = "out3"}) {
  %m = "tosa.const"() <{values = dense<1073741824> : tensor<1xi32>}> : () -> tensor<1xi32>
  %half = "tosa.const"() <{values = dense<536870912> : tensor<1xi32>}> : () -> tensor<1xi32>
  %s = "tosa.const"() <{values = dense<30> : tensor<1xi8>}> : () -> tensor<1xi8>
  %uzp = "tosa.const"() <{values = dense<0> : tensor<1xui8>}> : () -> tensor<1xui8>
  %zp = "tosa.const"() <{values = dense<-128> : tensor<1xi8>}> : () -> tensor<1xi8>
  %u = tosa.rescale %arg0, %m, %s, %uzp, %zp {input_unsigned = true, output_unsigned = false, per_channel = false, rounding_mode = SINGLE_ROUND, scale32 = true, tosa.tensor_name = "x_rescaled"} : (tensor<1x4xui8>, tensor<1xi32>, tensor<1xi8>, tensor<1xui8>, tensor<1xi8>) -> tensor<1x4xi8>
  %c = tosa.clamp %u {max_val = 100 : i8, min_val = -100 : i8} : (tensor<1x4xi8>) -> tensor<1x4xi8>
  %shape = tosa.const_shape {values = dense<2> : tensor<2xindex>} : () -> !tosa.shape<2>
  %r = tosa.reshape %arg0, %shape {tosa.tensor_name = "view"} : (tensor<1x4xui8>, !tosa.shape<2>) -> tensor<2x2xui8> loc("aten_view_copy_default"("model.py":11:0))
  %h = tosa.rescale %arg1, %half, %s, %uzp, %zp {input_unsigned = true, output_unsigned = false, per_channel = false, rounding_mode = SINGLE_ROUND, scale32 = true, tosa.tensor_name = "y_rescaled"} : (tensor<2x3xui8>, tensor<1xi32>, tensor<1xi8>, tensor<1xui8>, tensor<1xi8>) -> tensor<2x3xi8>
  %t = tosa.transpose %arg1 {perms = array<i32: 1, 0>, tosa.tensor_name = "permute"} : (tensor<2x3xui8>) -> tensor<3x2xui8> loc("aten_permute_copy_default"("model.py":12:0))
  return %c, %r, %t, %h : tensor<1x4xi8>, tensor<2x2xui8>, tensor<3x2xui8>, tensor<2x3xi8>
}
