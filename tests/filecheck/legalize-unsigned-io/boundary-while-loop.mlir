// RUN: tosa-ir-opt %s --verify TOSA-1.0+INT+cf -p legalize-unsigned-io | filecheck %s
// RUN: tosa-ir-opt %s --verify TOSA-1.0+INT+cf -p legalize-unsigned-io | filecheck %s --check-prefix=SIGNLESS

// A ui8 input carried through a while_loop (halved three times, by a RESCALE pair in
// the body that reads and writes the carried value unsigned). The carried value is one
// value in five places — the loop's input, the cond and body arguments, what the body
// yields and the loop's result — so all five turn signless together; the boundary
// RESCALEs go outside the loop (located at it) and the body's RESCALEs drop their flags
// for the zero point moved by -128 (0 -> -128).

// SIGNLESS-NOT: ui8

// CHECK-LABEL: func.func @main(%arg0: tensor<1x4xi8> {tosa.tensor_name = "x"} {{.*}}) -> (tensor<1x4xi8> {tosa.tensor_name = "out_unsigned"})
// CHECK:         %[[X:.*]] = tosa.rescale %arg0, {{.*}} {input_unsigned = true, {{.*}} tosa.tensor_name = "x_signed"} : {{.*}} loc("while_loop"("model.py":8:0))
// CHECK:         %[[L:.*]]:2 = tosa.while_loop (%{{.*}} = %{{.*}}, %{{.*}} = %[[X]]) : (tensor<i32>, tensor<1x4xi8>) -> (tensor<i32>, tensor<1x4xi8>) {
// CHECK:         } do {
// CHECK-NEXT:    ^bb0(%{{.*}}: tensor<i32> {{.*}}, %[[C:.*]]: tensor<1x4xi8>
// CHECK:           %[[IZP:.*]] = "tosa.const"() <{values = dense<-128> : tensor<1xi8>}> {tosa.tensor_name = "halve_in_zp_signed"}
// CHECK-NEXT:      %[[Q:.*]] = tosa.rescale %[[C]], %{{.*}}, %{{.*}}, %[[IZP]], %{{.*}} {input_unsigned = false, output_unsigned = false, {{.*}} tosa.tensor_name = "halve_in"}
// CHECK:           %[[OZP:.*]] = "tosa.const"() <{values = dense<-128> : tensor<1xi8>}> {tosa.tensor_name = "halve_out_zp_signed"}
// CHECK-NEXT:      %[[U:.*]] = tosa.rescale %[[Q]], %{{.*}}, %{{.*}}, %{{.*}}, %[[OZP]] {input_unsigned = false, output_unsigned = false, {{.*}} tosa.tensor_name = "halve_out"} {{.*}} -> tensor<1x4xi8>
// CHECK-NEXT:      tosa.yield %{{.*}}, %[[U]] : tensor<i32>, tensor<1x4xi8>
// CHECK:         } loc("while_loop"("model.py":8:0))
// CHECK:         %[[OUT:.*]] = tosa.rescale %[[L]]#1, {{.*}} {input_unsigned = false, output_unsigned = true, {{.*}} tosa.tensor_name = "out_unsigned"} {{.*}} loc("while_loop"("model.py":8:0))
// CHECK-NEXT:    return %[[OUT]] : tensor<1x4xi8>
func.func @main(%arg0: tensor<1x4xui8> {tosa.tensor_name = "x"}) -> (tensor<1x4xui8> {tosa.tensor_name = "out"}) {
  %zero = "tosa.const"() <{values = dense<0> : tensor<i32>}> : () -> tensor<i32>
  %r:2 = tosa.while_loop (%i = %zero, %x = %arg0) : (tensor<i32>, tensor<1x4xui8>) -> (tensor<i32>, tensor<1x4xui8>) {
    %three = "tosa.const"() <{values = dense<3> : tensor<i32>}> : () -> tensor<i32>
    %go = tosa.greater %three, %i : (tensor<i32>, tensor<i32>) -> tensor<i1>
    tosa.yield %go : tensor<i1>
  } do {
  ^bb0(%i: tensor<i32>, %x: tensor<1x4xui8>):
    %one = "tosa.const"() <{values = dense<1> : tensor<i32>}> : () -> tensor<i32>
    %next = tosa.add %i, %one : (tensor<i32>, tensor<i32>) -> tensor<i32>
    %half = "tosa.const"() <{values = dense<1073741824> : tensor<1xi32>}> : () -> tensor<1xi32>
    %s31 = "tosa.const"() <{values = dense<31> : tensor<1xi8>}> : () -> tensor<1xi8>
    %unit = "tosa.const"() <{values = dense<1073741824> : tensor<1xi32>}> : () -> tensor<1xi32>
    %s30 = "tosa.const"() <{values = dense<30> : tensor<1xi8>}> : () -> tensor<1xi8>
    %uzp = "tosa.const"() <{values = dense<0> : tensor<1xui8>}> {tosa.tensor_name = "halve_in_zp"} : () -> tensor<1xui8>
    %zp = "tosa.const"() <{values = dense<-128> : tensor<1xi8>}> : () -> tensor<1xi8>
    %uzp2 = "tosa.const"() <{values = dense<0> : tensor<1xui8>}> {tosa.tensor_name = "halve_out_zp"} : () -> tensor<1xui8>
    %q = tosa.rescale %x, %half, %s31, %uzp, %zp {input_unsigned = true, output_unsigned = false, per_channel = false, rounding_mode = SINGLE_ROUND, scale32 = true, tosa.tensor_name = "halve_in"} : (tensor<1x4xui8>, tensor<1xi32>, tensor<1xi8>, tensor<1xui8>, tensor<1xi8>) -> tensor<1x4xi8> loc("aten_div"("model.py":6:0))
    %u = tosa.rescale %q, %unit, %s30, %zp, %uzp2 {input_unsigned = false, output_unsigned = true, per_channel = false, rounding_mode = SINGLE_ROUND, scale32 = true, tosa.tensor_name = "halve_out"} : (tensor<1x4xi8>, tensor<1xi32>, tensor<1xi8>, tensor<1xi8>, tensor<1xui8>) -> tensor<1x4xui8> loc("aten_div"("model.py":6:0))
    tosa.yield %next, %u : tensor<i32>, tensor<1x4xui8>
  } loc("while_loop"("model.py":8:0))
  return %r#1 : tensor<1x4xui8>
}
