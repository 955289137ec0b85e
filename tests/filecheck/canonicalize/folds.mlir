// RUN: tosa-ir-opt %s -p canonicalize | filecheck %s

// Identity transpose and reshape fold into their input, a reshape of a reshape reads the
// source, a RESCALE by exactly 1.0 (2^30 >> 30, equal types and zero points) folds, and
// what no longer has a reader dies. The near misses next to each stay.

// CHECK-LABEL: func.func @folds
// CHECK-SAME:    (%[[X:.*]]: tensor<1x2x3xi8>
// CHECK-DAG:     %[[ZP:.*]] = "tosa.const"() <{values = dense<0> : tensor<1xi8>}>
// CHECK-DAG:     %[[S32:.*]] = tosa.const_shape {{ *}}{values = dense<[3, 2]> : tensor<2xindex>}
// CHECK:         %[[PERM:.*]] = tosa.transpose %[[X]] {perms = array<i32: 0, 2, 1>}
// CHECK-NEXT:    %[[BACK:.*]] = tosa.reshape %[[X]], %[[S32]] :
// CHECK-NEXT:    %[[NEG:.*]] = tosa.negate %[[BACK]], %[[ZP]], %[[ZP]] :
// CHECK-NEXT:    return %[[PERM]], %[[NEG]] :
func.func @folds(%x: tensor<1x2x3xi8>) -> (tensor<1x3x2xi8>, tensor<3x2xi8>) {
  %zp = "tosa.const"() <{values = dense<0> : tensor<1xi8>}> : () -> tensor<1xi8>
  %m = "tosa.const"() <{values = dense<1073741824> : tensor<1xi32>}> : () -> tensor<1xi32>
  %s = "tosa.const"() <{values = dense<30> : tensor<1xi8>}> : () -> tensor<1xi8>
  %s123 = tosa.const_shape {values = dense<[1, 2, 3]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %s6 = tosa.const_shape {values = dense<6> : tensor<1xindex>} : () -> !tosa.shape<1>
  %s32 = tosa.const_shape {values = dense<[3, 2]> : tensor<2xindex>} : () -> !tosa.shape<2>
  %id = tosa.transpose %x {perms = array<i32: 0, 1, 2>} : (tensor<1x2x3xi8>) -> tensor<1x2x3xi8>
  %perm = tosa.transpose %id {perms = array<i32: 0, 2, 1>} : (tensor<1x2x3xi8>) -> tensor<1x3x2xi8>
  %same = tosa.reshape %x, %s123 : (tensor<1x2x3xi8>, !tosa.shape<3>) -> tensor<1x2x3xi8>
  %unit = tosa.rescale %same, %m, %s, %zp, %zp {input_unsigned = false, output_unsigned = false, per_channel = false, rounding_mode = SINGLE_ROUND, scale32 = true} : (tensor<1x2x3xi8>, tensor<1xi32>, tensor<1xi8>, tensor<1xi8>, tensor<1xi8>) -> tensor<1x2x3xi8>
  %flat = tosa.reshape %unit, %s6 : (tensor<1x2x3xi8>, !tosa.shape<1>) -> tensor<6xi8>
  %back = tosa.reshape %flat, %s32 : (tensor<6xi8>, !tosa.shape<2>) -> tensor<3x2xi8>
  %neg = tosa.negate %back, %zp, %zp : (tensor<3x2xi8>, tensor<1xi8>, tensor<1xi8>) -> tensor<3x2xi8>
  return %perm, %neg : tensor<1x3x2xi8>, tensor<3x2xi8>
}

// Half a unit scale (2^29 >> 30) is a real rescale: it stays, with its constants.

// CHECK-LABEL: func.func @near_miss
// CHECK:         tosa.rescale
// CHECK:         return
func.func @near_miss(%x: tensor<4xi8>) -> tensor<4xi8> {
  %zp = "tosa.const"() <{values = dense<0> : tensor<1xi8>}> : () -> tensor<1xi8>
  %m = "tosa.const"() <{values = dense<536870912> : tensor<1xi32>}> : () -> tensor<1xi32>
  %s = "tosa.const"() <{values = dense<30> : tensor<1xi8>}> : () -> tensor<1xi8>
  %half = tosa.rescale %x, %m, %s, %zp, %zp {input_unsigned = false, output_unsigned = false, per_channel = false, rounding_mode = SINGLE_ROUND, scale32 = true} : (tensor<4xi8>, tensor<1xi32>, tensor<1xi8>, tensor<1xi8>, tensor<1xi8>) -> tensor<4xi8>
  %neg = tosa.negate %half, %zp, %zp : (tensor<4xi8>, tensor<1xi8>, tensor<1xi8>) -> tensor<4xi8>
  return %neg : tensor<4xi8>
}
