// RUN: tosa-ir-opt %s --verify TOSA-1.0+INT+cf -p legalize-unsigned-io | filecheck %s
// RUN: tosa-ir-opt %s --verify TOSA-1.0+INT+cf -p legalize-unsigned-io | filecheck %s --check-prefix=SIGNLESS

// A ui8 input passed straight into a cond_if, and the cond_if's ui8 result returned:
// the form torch.cond with uint8 IO takes when the quantizer puts the uint8 Q/DQ pairs
// inside the branches. A branch's block arguments are not graph IO: the boundary is
// the outer function. So the input gets its input_unsigned unit RESCALE in front of the
// cond_if (located at it), the result its output_unsigned one in front of the return;
// inside, the then-branch's RESCALEs drop their flags for the zero point moved by -128
// (128 -> 0: exact, u - 128 == (u - 128) - 0), and the else-branch's reverse just moves
// signless int8.

// SIGNLESS-NOT: ui8
// SIGNLESS-NOT: input_unsigned = true, output_unsigned = true

// CHECK-LABEL: func.func @main(%arg0: tensor<i1> {tosa.tensor_name = "pred"} {{.*}}, %arg1: tensor<1x4xi8> {tosa.tensor_name = "x"} {{.*}}) -> (tensor<1x4xi8> {tosa.tensor_name = "out_unsigned"})
// CHECK:         %[[X:.*]] = tosa.rescale %arg1, {{.*}} {input_unsigned = true, output_unsigned = false, {{.*}} tosa.tensor_name = "x_signed"} : {{.*}} -> tensor<1x4xi8> loc("cond"("model.py":9:0))
// CHECK-NEXT:    %[[R:.*]] = tosa.cond_if %arg0 (%[[A:.*]] = %[[X]]) : tensor<i1> (tensor<1x4xi8>) -> tensor<1x4xi8> {
// CHECK-NEXT:    ^bb0(%[[A]]: tensor<1x4xi8>
// CHECK:           %[[IZP:.*]] = "tosa.const"() <{values = dense<0> : tensor<1xi8>}> {tosa.tensor_name = "then_in_zp_signed"}
// CHECK-NEXT:      tosa.rescale %[[A]], %{{.*}}, %{{.*}}, %[[IZP]], %{{.*}} {input_unsigned = false, output_unsigned = false, {{.*}} tosa.tensor_name = "then_in"} {{.*}} loc("aten_relu"("model.py":5:0))
// CHECK:           %[[OZP:.*]] = "tosa.const"() <{values = dense<0> : tensor<1xi8>}> {tosa.tensor_name = "then_out_zp_signed"}
// CHECK-NEXT:      %[[U:.*]] = tosa.rescale %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %[[OZP]] {input_unsigned = false, output_unsigned = false, {{.*}} tosa.tensor_name = "then_out"} {{.*}} -> tensor<1x4xi8>
// CHECK-NEXT:      tosa.yield %[[U]] : tensor<1x4xi8>
// CHECK:         } else {
// CHECK:           tosa.reverse %{{.*}} {axis = 1 : i32, tosa.tensor_name = "flip"} : (tensor<1x4xi8>) -> tensor<1x4xi8>
// CHECK:         } loc("cond"("model.py":9:0))
// CHECK:         %[[OUT:.*]] = tosa.rescale %[[R]], {{.*}} {input_unsigned = false, output_unsigned = true, {{.*}} tosa.tensor_name = "out_unsigned"} : {{.*}} -> tensor<1x4xi8> loc("cond"("model.py":9:0))
// CHECK-NEXT:    return %[[OUT]] : tensor<1x4xi8>
func.func @main(%p: tensor<i1> {tosa.tensor_name = "pred"}, %arg0: tensor<1x4xui8> {tosa.tensor_name = "x"}) -> (tensor<1x4xui8> {tosa.tensor_name = "out"}) {
  %r = tosa.cond_if %p (%a = %arg0) : tensor<i1> (tensor<1x4xui8>) -> tensor<1x4xui8> {
  ^bb0(%a: tensor<1x4xui8>):
    %m = "tosa.const"() <{values = dense<1073741824> : tensor<1xi32>}> : () -> tensor<1xi32>
    %s = "tosa.const"() <{values = dense<30> : tensor<1xi8>}> : () -> tensor<1xi8>
    %izp = "tosa.const"() <{values = dense<128> : tensor<1xui8>}> {tosa.tensor_name = "then_in_zp"} : () -> tensor<1xui8>
    %zp = "tosa.const"() <{values = dense<0> : tensor<1xi8>}> : () -> tensor<1xi8>
    %ozp = "tosa.const"() <{values = dense<128> : tensor<1xui8>}> {tosa.tensor_name = "then_out_zp"} : () -> tensor<1xui8>
    %q = tosa.rescale %a, %m, %s, %izp, %zp {input_unsigned = true, output_unsigned = false, per_channel = false, rounding_mode = SINGLE_ROUND, scale32 = true, tosa.tensor_name = "then_in"} : (tensor<1x4xui8>, tensor<1xi32>, tensor<1xi8>, tensor<1xui8>, tensor<1xi8>) -> tensor<1x4xi8> loc("aten_relu"("model.py":5:0))
    %c = tosa.clamp %q {max_val = 127 : i8, min_val = 0 : i8} : (tensor<1x4xi8>) -> tensor<1x4xi8>
    %u = tosa.rescale %c, %m, %s, %zp, %ozp {input_unsigned = false, output_unsigned = true, per_channel = false, rounding_mode = SINGLE_ROUND, scale32 = true, tosa.tensor_name = "then_out"} : (tensor<1x4xi8>, tensor<1xi32>, tensor<1xi8>, tensor<1xi8>, tensor<1xui8>) -> tensor<1x4xui8> loc("aten_relu"("model.py":5:0))
    tosa.yield %u : tensor<1x4xui8>
  } else {
  ^bb0(%a: tensor<1x4xui8>):
    %rev = tosa.reverse %a {axis = 1 : i32, tosa.tensor_name = "flip"} : (tensor<1x4xui8>) -> tensor<1x4xui8> loc("aten_flip"("model.py":7:0))
    tosa.yield %rev : tensor<1x4xui8>
  } loc("cond"("model.py":9:0))
  return %r : tensor<1x4xui8>
}
