// RUN: tosa-ir-opt %s --verify TOSA-1.0+INT+cf -p legalize-unsigned-io | filecheck %s
// RUN: tosa-ir-opt %s --verify TOSA-1.0+INT+cf -p legalize-unsigned-io | filecheck %s --check-prefix=SIGNLESS

// Nested cond_ifs that only move a ui8 input (reverse it or pass it through) and return
// it (the predicate is passed in too: a region is isolated from above): one boundary
// RESCALE outside the outer cond_if, one in front of the return; every region argument
// and result on the way, at both depths, signless int8.

// SIGNLESS-NOT: ui8

// CHECK-LABEL: func.func @main(
// CHECK:         %[[X:.*]] = tosa.rescale %arg1, {{.*}} {input_unsigned = true, {{.*}} tosa.tensor_name = "x_signed"} : {{.*}} loc("outer_cond"("model.py":9:0))
// CHECK-NEXT:    %[[R:.*]] = tosa.cond_if %arg0 (%[[Q:.*]] = %arg0, %[[A:.*]] = %[[X]]) : tensor<i1> (tensor<i1>, tensor<1x4xi8>) -> tensor<1x4xi8> {
// CHECK-NEXT:    ^bb0(%[[Q]]: tensor<i1> {{.*}}, %[[A]]: tensor<1x4xi8>
// CHECK-NEXT:      tosa.cond_if %[[Q]] (%[[B:.*]] = %[[A]]) : tensor<i1> (tensor<1x4xi8>) -> tensor<1x4xi8> {
// CHECK-NEXT:      ^bb0(%[[B]]: tensor<1x4xi8>
// CHECK-NEXT:        tosa.reverse %[[B]] {axis = 1 : i32, tosa.tensor_name = "flip"} : (tensor<1x4xi8>) -> tensor<1x4xi8>
// CHECK:         %[[OUT:.*]] = tosa.rescale %[[R]], {{.*}} {input_unsigned = false, output_unsigned = true, {{.*}} tosa.tensor_name = "out_unsigned"}
// CHECK-NEXT:    return %[[OUT]] : tensor<1x4xi8>
func.func @main(%p: tensor<i1> {tosa.tensor_name = "pred"}, %arg0: tensor<1x4xui8> {tosa.tensor_name = "x"}) -> (tensor<1x4xui8> {tosa.tensor_name = "out"}) {
  %r = tosa.cond_if %p (%q = %p, %a = %arg0) : tensor<i1> (tensor<i1>, tensor<1x4xui8>) -> tensor<1x4xui8> {
  ^bb0(%q: tensor<i1>, %a: tensor<1x4xui8>):
    %inner = tosa.cond_if %q (%b = %a) : tensor<i1> (tensor<1x4xui8>) -> tensor<1x4xui8> {
    ^bb0(%b: tensor<1x4xui8>):
      %rev = tosa.reverse %b {axis = 1 : i32, tosa.tensor_name = "flip"} : (tensor<1x4xui8>) -> tensor<1x4xui8> loc("aten_flip"("model.py":4:0))
      tosa.yield %rev : tensor<1x4xui8>
    } else {
    ^bb0(%b: tensor<1x4xui8>):
      tosa.yield %b : tensor<1x4xui8>
    } loc("inner_cond"("model.py":6:0))
    tosa.yield %inner : tensor<1x4xui8>
  } else {
  ^bb0(%q: tensor<i1>, %a: tensor<1x4xui8>):
    tosa.yield %a : tensor<1x4xui8>
  } loc("outer_cond"("model.py":9:0))
  return %r : tensor<1x4xui8>
}
