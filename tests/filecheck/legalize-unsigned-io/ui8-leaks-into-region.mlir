// RUN: not tosa-ir-opt %s --verify TOSA-1.0+INT+cf -p legalize-unsigned-io 2>&1 | filecheck %s

// A ui8 region argument that reaches arithmetic (a clamp with ui8 bounds in the
// then-branch) is refused like one in the function's own block: the pass places
// nothing and the typed stage's rules list every misuse, in the branch too.

// CHECK:      ui8-leaks-into-region.mlir:[[# @LINE + 6]]: error: [unsigned-input-flag] 'tosa.cond_if': reads unsigned function argument #1
// CHECK:      ui8-leaks-into-region.mlir:[[# @LINE + 5]]: error: [uint8-io-only] 'tosa.cond_if': unsigned block argument #0 (tensor<1x4xui8>) inside a region
// CHECK:      ui8-leaks-into-region.mlir:[[# @LINE + 6]]: error: [uint8-io-only] 'tosa.clamp': produces unsigned tensor<1x4xui8> inside the graph
// CHECK:      ui8-leaks-into-region.mlir: note: pass #1 'legalize-unsigned-io' refused the module
// CHECK-NOT:  func.func
func.func @main(%p: tensor<i1>, %arg0: tensor<1x4xui8>) -> tensor<1x4xui8> {
  %r = tosa.cond_if %p (%a = %arg0) : tensor<i1> (tensor<1x4xui8>) -> tensor<1x4xui8> {
  ^bb0(%a: tensor<1x4xui8>):
    %c = tosa.clamp %a {max_val = 200 : ui8, min_val = 0 : ui8} : (tensor<1x4xui8>) -> tensor<1x4xui8>
    tosa.yield %c : tensor<1x4xui8>
  } else {
  ^bb0(%a: tensor<1x4xui8>):
    tosa.yield %a : tensor<1x4xui8>
  }
  return %r : tensor<1x4xui8>
}
