"""Review dumps: Vela's placement and notes as comment lines above the ops they name."""

from __future__ import annotations

import ir
from ir.review import annotate

_TEXT = """
func.func @main(%x: tensor<2x3xi32> {tosa.tensor_name = "x"}) -> tensor<2x3xi32> {
  %0 = tosa.add %x, %x {tosa.tensor_name = "sum"} : (tensor<2x3xi32>, tensor<2x3xi32>) -> tensor<2x3xi32>
  %1 = tosa.abs %0 {tosa.tensor_name = "magnitude"} : (tensor<2x3xi32>) -> tensor<2x3xi32>
  %2 = tosa.abs %1 : (tensor<2x3xi32>) -> tensor<2x3xi32>
  return %2 : tensor<2x3xi32>
}
"""


def test_comments_sit_above_the_named_ops_and_nothing_else_changes():
    module = ir.parse_module(_TEXT)
    text = annotate(
        module,
        {"sum": ("NPU", 12), "x": ("CPU", 1)},
        {"sum": "err max 1 LSB", "magnitude": "exact"},
    )
    lines = text.splitlines()
    add = next(i for i, line in enumerate(lines) if "tosa.add" in line)
    abs_ = next(i for i, line in enumerate(lines) if '"magnitude"' in line and "tosa.abs" in line)
    assert lines[add - 1] == "    // NPU 12 cycles; err max 1 LSB"
    assert lines[abs_ - 1] == "    // exact"
    assert sum(line.lstrip().startswith("//") for line in lines) == 2  # not the signature's "x"
    plain = ir.print_module(module, elide_constants=True, debuginfo=True)
    assert "\n".join(line for line in lines if not line.lstrip().startswith("//")) == plain.rstrip(
        "\n"
    )


def test_fused_op_says_so():
    text = annotate(ir.parse_module(_TEXT), {"magnitude": ("NPU", None)})
    assert "// NPU (fused, no cycles of its own)" in text
