"""The drivers: the command-line tools and the built-in example.

They are the only package that sees every other one: ``tosa-ir-opt`` and ``tosa-ir-verify``
need just ``ir`` and the codec (``tosa_flatbuffer``); ``tosa-ir compile``/``debug`` and the
example add ``bridge`` (torch, ExecuTorch) and ``runtime`` (reference model, Vela), imported
where a command needs them so that the text tools start without torch.
"""
