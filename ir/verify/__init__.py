"""Verifiers beyond op structure: signless int8 inside, uint8 only at IO, TOSA 1.0 rules."""
