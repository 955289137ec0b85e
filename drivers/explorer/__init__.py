"""TOSA modules in Google's Model Explorer: an adapter, overlays and ``tosa-ir view``.

- ``graph``: a module (``.mlir`` of any stage, ``.tosa``) as Model Explorer's graph JSON;
- ``overlays``: Vela's placement and cycles, and ``tosa-ir debug``'s per-op error, as
  Model Explorer node data files, keyed by tensor name (so one file fits every stage);
- ``main``: the adapter extension Model Explorer loads (``extensions=["drivers.explorer"]``
  loads ``drivers.explorer.main``);
- ``view``: ``tosa-ir view FILE``.

None of it imports torch, ExecuTorch, ``bridge`` or ``runtime`` (an import-linter
contract): viewing a file needs only the IR and the codec. Model Explorer itself is
imported only by ``main`` and ``view``.
"""
