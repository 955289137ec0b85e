"""After the IR: the TOSA reference model and Vela."""
