"""The borders: ExecuTorch FX graphs in, TOSA flatbuffers in and out."""
