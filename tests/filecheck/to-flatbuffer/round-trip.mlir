// RUN: tosa-ir-opt %s -o %t.tosa
// RUN: tosa-ir-opt %t.tosa | filecheck %s
// RUN: tosa-ir-opt %t.tosa -o %t.again.tosa
// RUN: tosa-ir-opt %t.again.tosa | filecheck %s

// The last stage is the bytes: written, read back and written again, the graph keeps its
// ops, constants, tensor names and locations (the FX node and the user's line).

// CHECK-LABEL: func.func @main
// CHECK-SAME:    (%arg0: tensor<1x4xi8> {tosa.tensor_name = "x"}
// CHECK-SAME:    -> (tensor<1x4xi8> {tosa.tensor_name = "y"})
// CHECK:         %[[ZP:.*]] = "tosa.const"() <{values = dense<-128> : tensor<1xi8>}> {tosa.tensor_name = "zp"}
// CHECK-NEXT:    %[[R:.*]] = tosa.reverse %arg0 {axis = 1 : i32, tosa.tensor_name = "rev"} : {{.*}} loc("aten_flip"("model.py":12:0))
// CHECK-NEXT:    %[[N:.*]] = tosa.negate %[[R]], %[[ZP]], %[[ZP]] {tosa.tensor_name = "y"} : {{.*}} loc("aten_neg"("model.py":13:0))
// CHECK-NEXT:    return %[[N]]
func.func @main(%arg0: tensor<1x4xi8> {tosa.tensor_name = "x"}) -> (tensor<1x4xi8> {tosa.tensor_name = "y"}) {
  %zp = "tosa.const"() <{values = dense<-128> : tensor<1xi8>}> {tosa.tensor_name = "zp"} : () -> tensor<1xi8>
  %r = tosa.reverse %arg0 {axis = 1 : i32, tosa.tensor_name = "rev"} : (tensor<1x4xi8>) -> tensor<1x4xi8> loc("aten_flip"("model.py":12:0))
  %n = tosa.negate %r, %zp, %zp {tosa.tensor_name = "y"} : (tensor<1x4xi8>, tensor<1xi8>, tensor<1xi8>) -> tensor<1x4xi8> loc("aten_neg"("model.py":13:0))
  return %n : tensor<1x4xi8>
}
