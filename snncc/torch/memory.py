"""The memory that the reference model needs, estimated from the IR before anything is allocated.

A model of 2^24 x 2^24 neurons passes validation (plan and the host backend refuse it
for the target's tiles), but torch would try to allocate a petabyte of weights and die
with a MemoryError or the OOM killer. The estimates count the float32 tensors that
network.py, init.py and the optimizer hold at once (the factors below); a model they
refuse cannot run here, and one near the limit may still fail later, as before.
"""

from __future__ import annotations

from .. import machine
from ..ir import ModelGraph

FLOAT = 4
#: initial_weights: torch.rand, then (x 2 - 1) x a: two [in, out] float32 tensors at once.
INIT_COPIES = 2
#: Probability masks draw rng.random float64 [in, out], compare to bool, then cast to float32.
PROBABILITY_MASK_BYTES = 8 + 1 + 4
#: Optimizer state per parameter element, in float32 tensors: Adam's two moments, SGD's momentum.
OPTIMIZER_STATES = {"adam": 2, "sgd": 1}
#: Tensors [B, N] per spiking population and timestep held at the peak of a step: the
#: current, membrane, spikes and list mask of the forward (sequence.py), the gathers' index
#: lists (at most 25 % of the elements, two int64 each), and the backward's gradients.
ACTIVATIONS_PER_NEURON = 6
#: [T, B, inputs] tensors of the input: the float copy, the kept spikes and their stack.
ACTIVATIONS_PER_INPUT = 3


def _weights(ir: ModelGraph) -> tuple[int, int, int]:
    """(parameter elements, mask bytes, the largest projection's elements)."""
    params = masks = largest = 0
    for proj in ir.projections:
        n_in, n_out = ir.shapes(proj).weight
        elements = n_in * n_out
        params += elements + (n_out if proj.bias else 0)
        largest = max(largest, elements)
        if proj.connectivity != "dense":
            masks += elements * FLOAT
    return params, masks, largest


def _mask_peak(ir: ModelGraph) -> int:
    peak = 0
    for proj in ir.projections:
        if proj.connectivity != "dense" and proj.probability is not None:
            n_in, n_out = ir.shapes(proj).weight
            peak = max(peak, n_in * n_out * PROBABILITY_MASK_BYTES)
    return peak


def build_bytes(ir: ModelGraph) -> int:
    """Bytes of build_model(ir): the parameters and masks, and the largest initialisation's temporaries."""
    params, masks, largest = _weights(ir)
    return params * FLOAT + masks + max(INIT_COPIES * largest * FLOAT, _mask_peak(ir))


def training_bytes(ir: ModelGraph) -> int:
    """Bytes of training ir with snncc.torch: parameters, gradients, optimizer state, masks,
    and the activations of one batch over T timesteps that the backward pass keeps."""
    s = ir.settings
    params, masks, _ = _weights(ir)
    states = 1 + 1 + OPTIMIZER_STATES.get(s.optimizer.kind, 2)
    neurons = sum(p.size for p in ir.populations if p.kind != "input")
    inputs = sum(p.size for p in ir.populations if p.kind == "input")
    activations = s.timesteps * s.batch_size * FLOAT * (ACTIVATIONS_PER_NEURON * neurons + ACTIVATIONS_PER_INPUT * inputs)
    return max(params * FLOAT * states + masks + activations, build_bytes(ir))


def export_bytes(ir: ModelGraph, checkpoint: bool) -> int:
    """Bytes of export-nir: the built model, a checkpoint's weights, and the NIR graph's float32 copies."""
    params, _, _ = _weights(ir)
    return build_bytes(ir) + params * FLOAT * (1 + (1 if checkpoint else 0))


def device_memory(device: str) -> tuple[int, str]:
    """(bytes, name) of the memory that tensors on device live in."""
    if device.startswith("cuda"):
        import torch

        if torch.cuda.is_available():
            index = torch.device(device).index or 0
            return int(torch.cuda.get_device_properties(index).total_memory), "the GPU has"
    return machine.machine_memory(), "this machine has"


def memory_problem(needed: int, what: str, device: str = "cpu") -> str | None:
    """A one-line message when `what` needs more than the device's memory, else None."""
    have, where = device_memory(device)
    return machine.memory_problem(needed, what, have, where, estimate=True)


def training_problem(ir: ModelGraph, device: str) -> str | None:
    """Why ir cannot train on device for lack of memory (the model is built on the CPU first), else None."""
    what = f"model '{ir.name}'"
    return (memory_problem(training_bytes(ir), f"training {what} with --backend torch (batch "
                           f"{ir.settings.batch_size}, {ir.settings.timesteps} timesteps)", device)
            or memory_problem(build_bytes(ir), f"building {what}", "cpu"))
