// RUN: tosa-ir-opt %s -p legalize-unsigned-io | filecheck %s
// RUN: tosa-ir-opt %s -p legalize-unsigned-io -o %t.tosa

// A ui8 input returned as it is (a graph output that is a graph input): the return is
// not a boundary RESCALE, so the pass places both, input then output, and the file is a
// legal TOSA graph (ExecuTorch would not delegate an empty partition at all).

// CHECK-LABEL: func.func @main(%arg0: tensor<4xi8> {tosa.tensor_name = "x"} {{.*}}) -> (tensor<4xi8> {tosa.tensor_name = "x_unsigned"})
// CHECK:         %[[IN:.*]] = tosa.rescale %arg0, {{.*}} {input_unsigned = true, output_unsigned = false, {{.*}} tosa.tensor_name = "x_signed"}
// CHECK:         %[[OUT:.*]] = tosa.rescale %[[IN]], {{.*}} {input_unsigned = false, output_unsigned = true, {{.*}} tosa.tensor_name = "x_unsigned"}
// CHECK-NEXT:    return %[[OUT]] : tensor<4xi8>
func.func @main(%arg0: tensor<4xui8> {tosa.tensor_name = "x"}) -> (tensor<4xui8> {tosa.tensor_name = "x"}) {
  return %arg0 : tensor<4xui8>
}
