// RUN: tosa-ir-opt %s -p expose-intermediates --no-verify | filecheck %s

// Every computed tensor becomes a graph output after the function's own results, named
// after its op; constants, shapes, the i48 accumulator (the reference model's binding
// cannot carry INT48) and values already returned are not appended.

// CHECK-LABEL: func.func @main
// CHECK-SAME:    -> (tensor<1x4xi8> {tosa.tensor_name = "out"}, tensor<1x4xi8> {tosa.tensor_name = "neg"}, tensor<4x1xi8> {tosa.tensor_name = "moved"})
// CHECK:         return %{{.*}}, %{{.*}}, %{{.*}} : tensor<1x4xi8>, tensor<1x4xi8>, tensor<4x1xi8>
func.func @main(%x: tensor<1x4xi8>) -> (tensor<1x4xi8> {tosa.tensor_name = "out"}) {
  %zp = "tosa.const"() <{values = dense<0> : tensor<1xi8>}> : () -> tensor<1xi8>
  %shape = tosa.const_shape {values = dense<[4, 1]> : tensor<2xindex>} : () -> !tosa.shape<2>
  %neg = tosa.negate %x, %zp, %zp {tosa.tensor_name = "neg"} : (tensor<1x4xi8>, tensor<1xi8>, tensor<1xi8>) -> tensor<1x4xi8>
  %moved = tosa.reshape %neg, %shape {tosa.tensor_name = "moved"} : (tensor<1x4xi8>, !tosa.shape<2>) -> tensor<4x1xi8>
  %out = tosa.negate %neg, %zp, %zp {tosa.tensor_name = "out"} : (tensor<1x4xi8>, tensor<1xi8>, tensor<1xi8>) -> tensor<1x4xi8>
  return %out : tensor<1x4xi8>
}
