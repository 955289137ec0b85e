// RUN: tosa-ir-opt %s -p canonicalize --verify TOSA-1.0+INT+int16 | filecheck %s

// ExecuTorch writes one zero-point constant per use: constants with equal type and bytes
// in one block merge into the first, which keeps its tensor name; other bytes or another
// type stay (i8 0 and i16 0 are two constants).

// CHECK-LABEL: func.func @zero_points
// CHECK-NEXT:    %[[ZP:.*]] = "tosa.const"() <{values = dense<-128> : tensor<1xi8>}> {tosa.tensor_name = "first_zp"}
// CHECK-NEXT:    %[[ONE:.*]] = "tosa.const"() <{values = dense<-127> : tensor<1xi8>}> {tosa.tensor_name = "other_bytes"}
// CHECK-NEXT:    %[[WIDE:.*]] = "tosa.const"() <{values = dense<0> : tensor<1xi16>}> {tosa.tensor_name = "other_type"}
// CHECK-NEXT:    %[[WIDE0:.*]] = "tosa.const"() <{values = dense<0> : tensor<1xi8>}> {tosa.tensor_name = "zero_i8"}
// CHECK-NEXT:    %{{.*}} = tosa.negate %arg0, %[[ZP]], %[[ZP]] :
// CHECK-NEXT:    %{{.*}} = tosa.negate %arg0, %[[ZP]], %[[ONE]] :
// CHECK-NEXT:    %{{.*}} = tosa.negate %arg1, %[[WIDE]], %[[WIDE]] :
// CHECK-NEXT:    %{{.*}} = tosa.negate %arg0, %[[WIDE0]], %[[WIDE0]] :
// CHECK-NEXT:    return
func.func @zero_points(%arg0: tensor<4xi8>, %arg1: tensor<4xi16>) -> (tensor<4xi8>, tensor<4xi8>, tensor<4xi16>, tensor<4xi8>) {
  %0 = "tosa.const"() <{values = dense<-128> : tensor<1xi8>}> {tosa.tensor_name = "first_zp"} : () -> tensor<1xi8>
  %1 = "tosa.const"() <{values = dense<-128> : tensor<1xi8>}> {tosa.tensor_name = "second_zp"} : () -> tensor<1xi8>
  %2 = "tosa.const"() <{values = dense<-128> : tensor<1xi8>}> {tosa.tensor_name = "third_zp"} : () -> tensor<1xi8>
  %3 = "tosa.const"() <{values = dense<-127> : tensor<1xi8>}> {tosa.tensor_name = "other_bytes"} : () -> tensor<1xi8>
  %4 = "tosa.const"() <{values = dense<0> : tensor<1xi16>}> {tosa.tensor_name = "other_type"} : () -> tensor<1xi16>
  %5 = "tosa.const"() <{values = dense<0> : tensor<1xi8>}> {tosa.tensor_name = "zero_i8"} : () -> tensor<1xi8>
  %6 = tosa.negate %arg0, %0, %1 : (tensor<4xi8>, tensor<1xi8>, tensor<1xi8>) -> tensor<4xi8>
  %7 = tosa.negate %arg0, %2, %3 : (tensor<4xi8>, tensor<1xi8>, tensor<1xi8>) -> tensor<4xi8>
  %8 = tosa.negate %arg1, %4, %4 : (tensor<4xi16>, tensor<1xi16>, tensor<1xi16>) -> tensor<4xi16>
  %9 = tosa.negate %arg0, %5, %5 : (tensor<4xi8>, tensor<1xi8>, tensor<1xi8>) -> tensor<4xi8>
  return %6, %7, %8, %9 : tensor<4xi8>, tensor<4xi8>, tensor<4xi16>, tensor<4xi8>
}

// Shapes merge the same way.

// CHECK-LABEL: func.func @shapes
// CHECK-NEXT:    %[[S:.*]] = tosa.const_shape {{ *}}{values = dense<[2, 3]> : tensor<2xindex>}
// CHECK-NEXT:    %{{.*}} = tosa.reshape %arg0, %[[S]] :
// CHECK-NEXT:    %{{.*}} = tosa.reshape %arg1, %[[S]] :
// CHECK-NEXT:    return
func.func @shapes(%arg0: tensor<6xi8>, %arg1: tensor<6xi8>) -> (tensor<2x3xi8>, tensor<2x3xi8>) {
  %0 = tosa.const_shape {values = dense<[2, 3]> : tensor<2xindex>} : () -> !tosa.shape<2>
  %1 = tosa.const_shape {values = dense<[2, 3]> : tensor<2xindex>} : () -> !tosa.shape<2>
  %2 = tosa.reshape %arg0, %0 : (tensor<6xi8>, !tosa.shape<2>) -> tensor<2x3xi8>
  %3 = tosa.reshape %arg1, %1 : (tensor<6xi8>, !tosa.shape<2>) -> tensor<2x3xi8>
  return %2, %3 : tensor<2x3xi8>, tensor<2x3xi8>
}
