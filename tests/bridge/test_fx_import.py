"""fx_to_ir on the built-in example's real TOSA-level graph: the typed stage, provenance,
tensor names, and the errors bad input gets (node, target, user source line)."""

import inspect
import operator

import pytest
import torch
from xdsl.dialects.builtin import FileLineColLoc, NameLoc
from xdsl.utils.exceptions import VerifyException

import ir
from bridge.fx_import import CONSTANT_DATA_META, FxImportError, display_target, fx_to_ir
from drivers.example import ExampleCNN
from ir.dialects import tosa_ext as tosa
from ir.tensor_names import tensor_names


@pytest.fixture(scope="session")
def example_partition():
    from bridge.partitioner import tosa_level_partitions
    from drivers.example import example_inputs

    (partition,) = tosa_level_partitions(ExampleCNN(), example_inputs(), "TOSA-1.0+INT", True)
    return partition


@pytest.fixture
def graph(example_partition):
    return example_partition.graph_module, example_partition.exported_program


def _forward_lines() -> range:
    lines, first = inspect.getsourcelines(ExampleCNN.forward)
    return range(first, first + len(lines))


def _func(module):
    return next(op for op in module.walk() if op.name == "func.func")


def test_typed_stage_shows_uint8_io(graph):
    module = fx_to_ir(*graph)
    func = _func(module)
    assert [str(t.element_type) for t in func.function_type.inputs] == ["ui8"]
    assert [str(t.element_type) for t in func.function_type.outputs] == ["ui8"]
    unsigned = [t for op in module.walk() for t in op.result_types if "ui8" in str(t)]
    # only the boundary: the output RESCALE's result and the two boundary zero points
    assert len(unsigned) == 3


def test_accepts_an_exported_program_directly(example_partition):
    ep = example_partition.exported_program
    assert ep.graph_module is example_partition.graph_module  # the pipeline works in place
    from_ep = ir.print_module(fx_to_ir(ep))
    assert from_ep == ir.print_module(fx_to_ir(example_partition.graph_module, ep))
    assert from_ep.count("tosa.conv2d") == 2


def test_unused_placeholders_are_dropped(graph):
    gm, ep = graph
    unused = [n.name for n in gm.graph.nodes if n.op == "placeholder" and not n.users]
    assert unused  # the example has quantisation buffers nothing reads
    names = {n for op in fx_to_ir(gm, ep).walk() for n in tensor_names(op)}
    assert not names & set(unused)


def test_ops_carry_node_name_and_user_source_line(graph):
    gm, ep = graph
    module = fx_to_ir(gm, ep)
    node_names = {n.name for n in gm.graph.nodes}
    convs = [op for op in module.walk() if isinstance(op, tosa.ConvOp)]
    assert len(convs) == 3
    for op in convs:
        loc = op.location
        assert isinstance(loc, NameLoc) and loc.desc.data in node_names
        assert isinstance(loc.location, FileLineColLoc)
        assert loc.location.filename.data.endswith("drivers/example.py")
        assert loc.location.line.data in _forward_lines()


def test_tensor_names_are_executorch_names(graph):
    gm, ep = graph
    module = fx_to_ir(gm, ep)
    conv = next(
        n for n in gm.graph.nodes if getattr(n.target, "__name__", "") == "tosa.CONV2D.default"
    )
    named = {n: op for op in module.walk() for n in tensor_names(op)}
    assert isinstance(named[conv.name], tosa.ConvOp)
    assert isinstance(named[f"{conv.name}_input_zp"], tosa.ConstOp)
    assert isinstance(named[f"{conv.name}_weight_zp"], tosa.ConstOp)
    rescale = next(
        n for n in gm.graph.nodes if getattr(n.target, "__name__", "") == "tosa.RESCALE.default"
    )
    assert {f"{rescale.name}_multipliers", f"{rescale.name}_shifts"} <= set(named)
    func = _func(module)
    user_input = next(n for n in gm.graph.nodes if n.name in ep.graph_signature.user_inputs)
    assert func.arg_attrs.data[0].data["tosa.tensor_name"].data == user_input.name


def test_debuginfo_text_is_accepted_by_tosa_opt(graph, tosa_opt):
    text = ir.print_module(fx_to_ir(*graph), debuginfo=True)
    assert 'loc("' in text and "example.py" in text
    reparsed = tosa_opt(text, "--mlir-print-debuginfo").stdout
    assert "example.py" in reparsed


# --------------------------------------------------------------------------- errors


def _first(gm, target_name):
    return next(n for n in gm.graph.nodes if getattr(n.target, "__name__", "") == target_name)


def _import_with_unknown_target(gm, ep):
    """The error of importing the graph with its transpose's target made ``aten.sin``."""
    node = _first(gm, "tosa.TRANSPOSE.default")
    original = node.target
    node.target = torch.ops.aten.sin.default
    try:
        with pytest.raises(FxImportError) as info:
            fx_to_ir(gm, ep)
    finally:
        node.target = original
    return node, info.value


def test_unknown_target_names_node_target_and_source_line(graph):
    gm, ep = graph
    node, err = _import_with_unknown_target(gm, ep)
    assert err.node == node.name and "aten.sin" in err.target
    assert (
        err.source.startswith("drivers/example.py:")
        and int(err.source.split(":")[1]) in _forward_lines()
    )
    assert "no import rule" in str(err) and node.name in str(err)


def test_missing_constant_data_is_an_error_not_a_zero_tensor(graph):
    gm, ep = graph
    weight = next(
        n
        for n in gm.graph.nodes
        if n.op == "placeholder" and n.users and n.name in ep.graph_signature.inputs_to_buffers
    )
    target = ep.graph_signature.inputs_to_buffers[weight.name]
    saved = ep.state_dict.pop(target)
    pinned = weight.meta.pop(CONSTANT_DATA_META)  # what bridge.capture recorded
    try:
        with pytest.raises(FxImportError, match=f"buffer '{target}' has no data") as info:
            fx_to_ir(gm, ep)
    finally:
        ep.state_dict[target] = saved
        weight.meta[CONSTANT_DATA_META] = pinned
    assert info.value.node == weight.name


def test_dtype_without_a_tosa_type_is_an_error(graph):
    gm, ep = graph
    node = _first(gm, "tosa.ADD.default")
    saved = node.meta["val"]
    node.meta["val"] = saved.to(torch.int64)
    try:
        with pytest.raises(FxImportError, match=r"no element type for torch.int64") as info:
            fx_to_ir(gm, ep)
    finally:
        node.meta["val"] = saved
    assert info.value.node == node.name and info.value.target == "tosa.ADD.default"


def test_malformed_node_is_reported_with_the_node(graph):
    gm, ep = graph
    node = _first(gm, "tosa.CONV2D.default")
    saved = node.args
    node.args = saved[:3]
    try:
        with pytest.raises(FxImportError, match="missing") as info:
            fx_to_ir(gm, ep)
    finally:
        node.args = saved
    assert info.value.node == node.name


def test_getitem_of_a_single_value_is_an_error(graph):
    gm, ep = graph
    node = _first(gm, "tosa.ADD.default")
    with gm.graph.inserting_after(node):
        bad = gm.graph.call_function(operator.getitem, (node, 0))
    bad.meta = dict(node.meta)
    try:
        with pytest.raises(FxImportError, match="not a multi-result value"):
            fx_to_ir(gm, ep)
    finally:
        gm.graph.erase_node(bad)


def _refused(gm, ep, node, key, value) -> FxImportError:
    """fx_to_ir with ``node.meta[key]`` replaced (or removed, for None), restored after."""
    saved = node.meta.get(key)
    if value is None:
        node.meta.pop(key)
    else:
        node.meta[key] = value
    try:
        with pytest.raises(FxImportError) as info:
            fx_to_ir(gm, ep)
    finally:
        node.meta[key] = saved
    return info.value


def _names_node_and_line(err: FxImportError, node, target: str | None = None) -> None:
    """One line: the user's file:line first, then the FX node and its target."""
    assert err.node == node.name and err.target == (target or display_target(node))
    assert (
        err.source.startswith("drivers/example.py:")
        and int(err.source.split(":")[1]) in _forward_lines()
    )
    line = str(err)
    assert "\n" not in line and line.startswith(f"{err.source}: error: FX node '{node.name}'")


def test_missing_val_meta_names_node_and_source_line(graph):
    gm, ep = graph
    node = _first(gm, "tosa.CONV2D.default")
    err = _refused(gm, ep, node, "val", None)
    _names_node_and_line(err, node)
    assert "no tensor value in meta['val']" in err.message


def test_int64_tensor_names_node_and_source_line(graph):
    gm, ep = graph
    node = _first(gm, "tosa.ADD.default")
    err = _refused(gm, ep, node, "val", node.meta["val"].to(torch.int64))
    _names_node_and_line(err, node)
    assert "no element type for torch.int64" in err.message


def test_dynamic_dimension_is_refused_not_read_as_its_example_size(graph):
    """``int()`` of a backed SymInt gives the traced size: the importer must not."""
    from torch._subclasses.fake_tensor import FakeTensorMode
    from torch.fx.experimental.symbolic_shapes import DimDynamic, ShapeEnv, StatelessSymbolicContext

    gm, ep = graph
    node = _first(gm, "tosa.ADD.default")
    static = node.meta["val"]
    axis = next(i for i, size in enumerate(static.shape) if size > 1)  # sizes 0/1 stay static
    sizes = [DimDynamic.DYNAMIC if i == axis else DimDynamic.STATIC for i in range(static.dim())]
    dynamic = FakeTensorMode(shape_env=ShapeEnv()).from_tensor(
        torch.zeros(static.shape, dtype=static.dtype),
        symbolic_context=StatelessSymbolicContext(dynamic_sizes=sizes),
    )
    # the trap: int() of it gives the traced size (and, as a guard, pins it from then on)
    assert dynamic.shape[axis].node.hint == static.shape[axis]
    err = _refused(gm, ep, node, "val", dynamic)
    _names_node_and_line(err, node)
    assert f"dimension {axis}" in err.message and "is dynamic" in err.message


def test_unknown_target_is_one_line_with_source_first(graph):
    gm, ep = graph
    node, err = _import_with_unknown_target(gm, ep)
    _names_node_and_line(err, node, "aten.sin.default")


def _import_with_an_add_of_the_wrong_result_type(gm, ep, **options):
    """``fx_to_ir`` with the first ADD's result made i16 (its operands stay i32): every
    rule accepts it, the op's own verification does not."""
    node = _first(gm, "tosa.ADD.default")
    saved = node.meta["val"]
    node.meta["val"] = saved.to(torch.int16)
    try:
        return node, fx_to_ir(gm, ep, **options)
    finally:
        node.meta["val"] = saved


def test_an_op_that_does_not_verify_names_its_node(graph):
    gm, ep = graph
    with pytest.raises(FxImportError, match="imported op does not verify") as info:
        _import_with_an_add_of_the_wrong_result_type(gm, ep)
    node = _first(gm, "tosa.ADD.default")
    assert info.value.node == node.name and info.value.target == "tosa.add"
    assert info.value.source.startswith("drivers/example.py:")


def test_verify_false_leaves_verification_to_the_caller(graph):
    """``verify=False`` (a caller that verifies next) skips only the verification: a
    good graph imports to the same module, a bad one to a module its verifier refuses."""
    gm, ep = graph
    assert ir.print_module(fx_to_ir(gm, ep, verify=False), debuginfo=True) == ir.print_module(
        fx_to_ir(gm, ep), debuginfo=True
    )
    _, module = _import_with_an_add_of_the_wrong_result_type(gm, ep, verify=False)
    with pytest.raises(VerifyException):
        module.verify()


def test_operand_constants_are_one_per_use_or_one_per_value(graph):
    """Zero points, multipliers and shifts: by default one constant per use, as
    ExecuTorch writes them; with ``unique_constants`` one per (type, bytes) in the block,
    read by every op that asked for that value (what canonicalize's merge leaves)."""
    gm, ep = graph
    suffixes = ("_zp", "_multipliers", "_shifts")

    def operand_constants(module):
        found = [
            op
            for op in module.walk()
            if isinstance(op, tosa.ConstOp)
            and any(name.lower().endswith(suffixes) for name in tensor_names(op))
        ]
        return found, [(op.values.type, op.values.data.data) for op in found]

    per_use, per_use_keys = operand_constants(fx_to_ir(gm, ep))
    assert all(len(list(op.results[0].uses)) == 1 for op in per_use)
    assert len(set(per_use_keys)) < len(per_use_keys)
    uniqued = fx_to_ir(gm, ep, unique_constants=True)
    per_value, _ = operand_constants(uniqued)
    assert any(len(list(op.results[0].uses)) > 1 for op in per_value)
    # a boundary RESCALE's constants stay its own (legalize-unsigned-io renames, replaces
    # and erases them by their uses); every other operand constant is one per value
    boundary = [
        op
        for op in uniqued.walk()
        if isinstance(op, tosa.RescaleOp)
        and (op.input_unsigned.value.data or op.output_unsigned.value.data)
    ]
    assert boundary, "the example has uint8 IO: boundary RESCALEs expected"
    own = {id(o.owner) for op in boundary for o in op.operands[1:]}
    assert all(len(list(op.results[0].uses)) == 1 for op in per_value if id(op) in own)
    shared_keys = [(op.values.type, op.values.data.data) for op in per_value if id(op) not in own]
    assert len(set(shared_keys)) == len(shared_keys)
