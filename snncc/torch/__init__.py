"""The reference semantics of snncc models in differentiable PyTorch, and the portable trainer.

Everything a model means is defined here once (neurons, resets, delays, surrogates, the
spike-id lists with their capacity, losses, optimizers); the generated programs are
checked against it.
"""

from .init import connectivity_mask, initial_weights
from .loss import correct, per_sample_loss
from .network import SNN, ForwardResult, SpikeOverflowError, build_model, decode
from .optim import make_optimizer
from .step import StepResult, reference_step, train_step
from .surrogate import spike, surrogate_derivative

__all__ = [
    "SNN", "ForwardResult", "SpikeOverflowError", "StepResult", "build_model", "connectivity_mask", "correct",
    "decode", "initial_weights", "make_optimizer", "per_sample_loss", "reference_step", "spike",
    "surrogate_derivative", "train_step",
]
