// RUN: tosa-ir-opt %s -p legalize-unsigned-io,canonicalize --print-ir-after-each %t -o %t.tosa
// RUN: filecheck %s --check-prefix=TYPED --input-file %t/00-input.mlir
// RUN: filecheck %s --check-prefix=SIGNLESS --input-file %t/01-legalize-unsigned-io.mlir
// RUN: filecheck %s --check-prefix=CANON --input-file %t/02-canonicalize.mlir
// RUN: tosa-ir-opt %t.tosa | filecheck %s --check-prefix=CANON

// The stages one after another, each dumped into a numbered file: ExecuTorch's uint8 IO
// graph as imported (typed: ui8 at the IO), signless (the flags alone say unsigned), and
// canonical (its repeated zero points merged); the .tosa holds the last stage.

// TYPED-LABEL: func.func @main(%arg0: tensor<1x4xui8>
// TYPED-SAME:    -> tensor<1x4xui8>
// TYPED-COUNT-4: "tosa.const"() <{values = dense<-128> : tensor<1xi8>}>

// SIGNLESS-LABEL: func.func @main(%arg0: tensor<1x4xi8>
// SIGNLESS-NOT:   ui8

// CANON-LABEL: func.func @main(%arg0: tensor<1x4xi8>
// CANON:       "tosa.const"() <{values = dense<-128> : tensor<1xi8>}>
// CANON-NOT:   "tosa.const"() <{values = dense<-128> : tensor<1xi8>}>
// CANON:       return
func.func @main(%arg0: tensor<1x4xui8>) -> tensor<1x4xui8> {
  %m = "tosa.const"() <{values = dense<1073741824> : tensor<1xi32>}> : () -> tensor<1xi32>
  %s = "tosa.const"() <{values = dense<30> : tensor<1xi8>}> : () -> tensor<1xi8>
  %uzp = "tosa.const"() <{values = dense<0> : tensor<1xui8>}> : () -> tensor<1xui8>
  %zp1 = "tosa.const"() <{values = dense<-128> : tensor<1xi8>}> : () -> tensor<1xi8>
  %a = tosa.rescale %arg0, %m, %s, %uzp, %zp1 {input_unsigned = true, output_unsigned = false, per_channel = false, rounding_mode = SINGLE_ROUND, scale32 = true} : (tensor<1x4xui8>, tensor<1xi32>, tensor<1xi8>, tensor<1xui8>, tensor<1xi8>) -> tensor<1x4xi8>
  %zp2 = "tosa.const"() <{values = dense<-128> : tensor<1xi8>}> : () -> tensor<1xi8>
  %zp3 = "tosa.const"() <{values = dense<-128> : tensor<1xi8>}> : () -> tensor<1xi8>
  %n = tosa.negate %a, %zp2, %zp3 : (tensor<1x4xi8>, tensor<1xi8>, tensor<1xi8>) -> tensor<1x4xi8>
  %zp4 = "tosa.const"() <{values = dense<-128> : tensor<1xi8>}> : () -> tensor<1xi8>
  %uzp2 = "tosa.const"() <{values = dense<0> : tensor<1xui8>}> : () -> tensor<1xui8>
  %out = tosa.rescale %n, %m, %s, %zp4, %uzp2 {input_unsigned = false, output_unsigned = true, per_channel = false, rounding_mode = SINGLE_ROUND, scale32 = true} : (tensor<1x4xi8>, tensor<1xi32>, tensor<1xi8>, tensor<1xi8>, tensor<1xui8>) -> tensor<1x4xui8>
  return %out : tensor<1x4xui8>
}
