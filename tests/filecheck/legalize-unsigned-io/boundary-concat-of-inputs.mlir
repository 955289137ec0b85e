// RUN: tosa-ir-opt %s -p legalize-unsigned-io | filecheck %s
// RUN: tosa-ir-opt %s -p legalize-unsigned-io | filecheck %s --check-prefix=SIGNLESS

// Two ui8 inputs concatenated and returned: no RESCALE of their own (a typed graph
// ExecuTorch 1.5.1 refuses to delegate, "Partition contained internal uint8 tensors").
// The pass places the boundary: one input_unsigned RESCALE per input (scale 1, zero
// point 0 -> -128: the same real values as signless int8), the concat on i8, one
// output_unsigned RESCALE (zero point -128 -> 0) in front of the return. Each is named
// after the IO it serves and located at the op it serves: the concat's FX node and line.

// SIGNLESS-NOT: ui8

// CHECK-LABEL: func.func @main(%arg0: tensor<1x2xi8> {tosa.tensor_name = "a"} {{.*}}, %arg1: tensor<1x3xi8> {tosa.tensor_name = "b"} {{.*}}) -> (tensor<1x5xi8> {tosa.tensor_name = "cat_unsigned"})
// CHECK:         %[[M:.*]] = "tosa.const"() <{values = dense<1073741824> : tensor<1xi32>}> {tosa.tensor_name = "a_signed_multipliers"}
// CHECK-NEXT:    %[[S:.*]] = "tosa.const"() <{values = dense<30> : tensor<1xi8>}> {tosa.tensor_name = "a_signed_shifts"}
// CHECK-NEXT:    %[[IZP:.*]] = "tosa.const"() <{values = dense<0> : tensor<1xi8>}> {tosa.tensor_name = "a_signed_input_zp"}
// CHECK-NEXT:    %[[OZP:.*]] = "tosa.const"() <{values = dense<-128> : tensor<1xi8>}> {tosa.tensor_name = "a_signed_output_zp"}
// CHECK-NEXT:    %[[A:.*]] = tosa.rescale %arg0, %[[M]], %[[S]], %[[IZP]], %[[OZP]] {input_unsigned = true, output_unsigned = false, {{.*}} tosa.tensor_name = "a_signed"} : {{.*}} -> tensor<1x2xi8> loc("aten_cat_default"("model.py":7:0))
// CHECK:         %[[B:.*]] = tosa.rescale %arg1, {{.*}} {input_unsigned = true, output_unsigned = false, {{.*}} tosa.tensor_name = "b_signed"} : {{.*}} -> tensor<1x3xi8> loc("aten_cat_default"("model.py":7:0))
// CHECK-NEXT:    %[[C:.*]] = tosa.concat %[[A]], %[[B]] {axis = 1 : i32, tosa.tensor_name = "cat"} : (tensor<1x2xi8>, tensor<1x3xi8>) -> tensor<1x5xi8>
// CHECK:         "tosa.const"() <{values = dense<-128> : tensor<1xi8>}> {tosa.tensor_name = "cat_unsigned_input_zp"}
// CHECK-NEXT:    "tosa.const"() <{values = dense<0> : tensor<1xi8>}> {tosa.tensor_name = "cat_unsigned_output_zp"}
// CHECK-NEXT:    %[[OUT:.*]] = tosa.rescale %[[C]], {{.*}} {input_unsigned = false, output_unsigned = true, {{.*}} tosa.tensor_name = "cat_unsigned"} : {{.*}} -> tensor<1x5xi8> loc("aten_cat_default"("model.py":7:0))
// CHECK-NEXT:    return %[[OUT]] : tensor<1x5xi8>
func.func @main(%arg0: tensor<1x2xui8> {tosa.tensor_name = "a"}, %arg1: tensor<1x3xui8> {tosa.tensor_name = "b"}) -> (tensor<1x5xui8> {tosa.tensor_name = "cat"}) {
  %c = tosa.concat %arg0, %arg1 {axis = 1 : i32, tosa.tensor_name = "cat"} : (tensor<1x2xui8>, tensor<1x3xui8>) -> tensor<1x5xui8> loc("aten_cat_default"("model.py":7:0))
  return %c : tensor<1x5xui8>
}
