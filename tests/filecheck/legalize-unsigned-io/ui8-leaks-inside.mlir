// RUN: not tosa-ir-opt %s -p legalize-unsigned-io 2>&1 | filecheck %s
// RUN: not tosa-ir-opt %s -p legalize-unsigned-io --no-verify 2>&1 | filecheck %s --check-prefix=PASS

// A ui8 value that reaches arithmetic (here a clamp with ui8 bounds, behind a reverse)
// is refused, not made signless blindly (MLIR's --tosa-convert-integer-type-to-signless
// would just drop the signedness): the pass legalizes data movement only, and when the
// ui8 flow reaches anything else it places nothing and lists every misuse with its rule,
// the op and the line it is on. The verifier in front leaves the typed stage's boundary
// rules to the pass (it places missing boundaries first), so both runs read the same.

// CHECK:      ui8-leaks-inside.mlir:[[# @LINE + 17]]: error: [unsigned-input-flag] 'tosa.reverse': reads unsigned function argument #0
// CHECK-NEXT: ui8-leaks-inside.mlir:[[# @LINE + 16]]: error: [uint8-io-only] 'tosa.reverse': produces unsigned tensor<1x4xui8> inside the graph
// CHECK-NEXT: ui8-leaks-inside.mlir:[[# @LINE + 16]]: error: [uint8-io-only] 'tosa.clamp': produces unsigned tensor<1x4xui8> inside the graph
// CHECK-NEXT: ui8-leaks-inside.mlir:[[# @LINE + 16]]: error: [unsigned-flag-placement] 'tosa.rescale': input_unsigned = true but the input is not a function argument
// CHECK-NEXT: ui8-leaks-inside.mlir: note: pass #1 'legalize-unsigned-io' refused the module
// CHECK-NOT:  func.func

// Without the verifier, the same.
// PASS:      ui8-leaks-inside.mlir:[[# @LINE + 9]]: error: [unsigned-input-flag] 'tosa.reverse'
// PASS:      ui8-leaks-inside.mlir:[[# @LINE + 9]]: error: [uint8-io-only] 'tosa.clamp'
// PASS:      ui8-leaks-inside.mlir: note: pass #1 'legalize-unsigned-io' refused the module
// PASS-NOT:  func.func
func.func @main(%arg0: tensor<1x4xui8>) -> tensor<1x4xi8> {
  %m = "tosa.const"() <{values = dense<1073741824> : tensor<1xi32>}> : () -> tensor<1xi32>
  %s = "tosa.const"() <{values = dense<30> : tensor<1xi8>}> : () -> tensor<1xi8>
  %izp = "tosa.const"() <{values = dense<128> : tensor<1xui8>}> : () -> tensor<1xui8>
  %ozp = "tosa.const"() <{values = dense<0> : tensor<1xi8>}> : () -> tensor<1xi8>
  %leak = tosa.reverse %arg0 {axis = 1 : i32} : (tensor<1x4xui8>) -> tensor<1x4xui8>
  %clamped = tosa.clamp %leak {max_val = 200 : ui8, min_val = 0 : ui8} : (tensor<1x4xui8>) -> tensor<1x4xui8>
  %r = tosa.rescale %clamped, %m, %s, %izp, %ozp {input_unsigned = true, output_unsigned = false, per_channel = false, rounding_mode = SINGLE_ROUND, scale32 = true} : (tensor<1x4xui8>, tensor<1xi32>, tensor<1xi8>, tensor<1xui8>, tensor<1xi8>) -> tensor<1x4xi8>
  return %r : tensor<1x4xi8>
}
