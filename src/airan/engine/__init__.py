"""Engine layer: the World (arrays), the state, the compiled slot loop and the Engine driver."""

from airan.engine.engine import REASONS, ConservationError, Engine, Result

__all__ = ["REASONS", "ConservationError", "Engine", "Result"]
