"""Dialects of the IR: ``tosa_ext`` (TOSA 1.0 registered as ``tosa``)."""
