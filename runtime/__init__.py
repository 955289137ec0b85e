"""After the IR: the TOSA reference model and Vela."""

from runtime import reference, vela
from runtime.reference import *  # noqa: F403 -- the public names are reference.__all__
from runtime.vela import *  # noqa: F403 -- and vela.__all__

__all__ = [*reference.__all__, *vela.__all__]
