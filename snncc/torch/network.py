"""The reference network: an nn.Module built from the IR, one timestep at a time.

Semantics (docs/reference/snn.md; snnTorch's where they overlap):

- Input current of a population at t: I[t] = sum over incoming projections of
  S_src[t - d] @ W (+ bias), with S_src[t - d] = 0 for t < d; biases apply from t = 0.
  Populations update in the IR's schedule order (ModelGraph.stages), so a zero-delay
  projection reads its source's spikes of the same timestep.
- Reset signal R[t] = [U[t-1] - theta > 0] from the population's own previous membrane,
  detached. lif/if/cuba_lif, with Isyn[t] = alpha Isyn[t-1] + I[t] standing for I[t] in cuba_lif:
  subtract U[t] = beta U[t-1] + I[t] - R[t] theta; zero U[t] = beta (1 - R[t]) U[t-1] + I[t];
  zero_updated U[t] = (1 - R[t]) (beta U[t-1] + I[t]); none U[t] = beta U[t-1] + I[t].
  li: U[t] = beta U[t-1] + I[t], no spikes. beta and alpha are clamped to [0, 1].
- Spikes S[t] = [U[t] - theta > 0] with the spec's surrogate gradient.
- Spike-id lists (capacity c = Population.capacity per sample and timestep), for every
  spiking population, inputs included. When more than c neurons spike, 'drop' keeps the
  c lowest-index spikes of each sample and timestep and counts the others as overflow;
  'error' raises SpikeOverflowError. Only the kept spikes are emitted (downstream
  projections, the readout and the recorded spikes see them); the population's own reset
  still follows its membrane.
- Sparse backward (a population with gradient_threshold g): the list holds the kept spikes
  first, then, while room is left, the non-spiking neurons with U[t] >= g theta in
  increasing index order. Only neurons in the list get a surrogate gradient. Without g,
  every neuron gets one (dense backward), dropped spikes included.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ..ir import ModelGraph, Population
from .init import connectivity_mask, initial_weights
from .surrogate import spike


class SpikeOverflowError(RuntimeError):
    """More spikes than a population's capacity, with overflow = 'error'."""

    def __init__(self, population: str, timestep: int, sample: int, count: int, capacity: int):
        self.population, self.timestep, self.sample, self.count, self.capacity = (
            population, timestep, sample, count, capacity)
        super().__init__(
            f"population '{population}': {count} spikes at timestep {timestep} of sample {sample} exceed its "
            f"capacity of {capacity} (raise sparsity.max_spikes or max_activity, or set overflow to 'drop')"
        )


@dataclass
class ForwardResult:
    """Everything one forward pass over T timesteps computed, time-major.

    spikes: emitted spikes [T, B, N] per spiking population (inputs included), after the capacity.
    mem: membrane U[t] [T, B, N] per neuron population (after the update, before any later reset).
    syn: synaptic current Isyn[t] [T, B, N] per cuba_lif population.
    overflow: dropped spikes [T, B] (int64) per spiking population.
    grad_mask: the 0/1 mask [T, B, N] of neurons that get a surrogate gradient, per
      population with a gradient threshold (the spike-id list of the sparse backward).
    scores: the decoded readout [B, classes].
    """

    spikes: dict[str, torch.Tensor]
    mem: dict[str, torch.Tensor]
    syn: dict[str, torch.Tensor]
    overflow: dict[str, torch.Tensor]
    grad_mask: dict[str, torch.Tensor]
    scores: torch.Tensor

    def detach(self) -> "ForwardResult":
        d = lambda xs: {k: v.detach() for k, v in xs.items()}  # noqa: E731
        return ForwardResult(d(self.spikes), d(self.mem), d(self.syn), d(self.overflow), d(self.grad_mask),
                             self.scores.detach())


def capacity_lists(
    pop: Population, raw: torch.Tensor, mem: torch.Tensor | None, timestep: int, theta=None
) -> tuple[torch.Tensor | None, torch.Tensor | None, torch.Tensor]:
    """(keep, grad_mask, overflow) of one timestep's spikes raw [B, N] (0/1, detached).

    keep: the emitted spikes (None when nothing can be dropped); grad_mask: membership of
    the spike-id list (None for a dense backward); overflow [B]: dropped spikes. theta: the
    threshold as a float or a per-neuron tensor [N] (default pop.threshold).
    """
    theta = pop.threshold if theta is None else theta
    if pop.capacity >= pop.size and (pop.gradient_threshold is None or mem is None):
        return None, None, raw.new_zeros(raw.shape[0], dtype=torch.int64)  # a list that holds everything
    counts = raw.sum(dim=1)
    overflow = (counts - pop.capacity).clamp(min=0).to(torch.int64)
    keep = None
    if pop.capacity < pop.size:
        keep = raw * (torch.cumsum(raw, dim=1) <= pop.capacity)
        if pop.overflow == "error" and bool((overflow > 0).any()):
            b = int(torch.nonzero(overflow)[0, 0])
            raise SpikeOverflowError(pop.id, timestep, b, int(counts[b]), pop.capacity)
    grad_mask = None
    if pop.gradient_threshold is not None and mem is not None:
        kept = raw if keep is None else keep
        room = pop.capacity - kept.sum(dim=1, keepdim=True)
        candidates = ((mem >= pop.gradient_threshold * theta) & (raw == 0)).to(raw.dtype)
        grad_mask = kept + candidates * (torch.cumsum(candidates, dim=1) <= room)
    return keep, grad_mask, overflow


class SNN(nn.Module):
    """The reference network of a ModelGraph.

    Parameters: weight.<projection> [source size, target size] and bias.<projection>
    [target size]; sparse projections multiply their weight by a fixed mask (buffer
    mask.<projection>), so masked weights get zero gradient and stay zero.
    forward(inputs [T, B, input size]) -> ForwardResult.
    """

    def __init__(self, ir: ModelGraph):
        super().__init__()
        self.ir = ir
        self.surrogate = ir.settings.surrogate
        self.weight = nn.ParameterDict()
        self.bias = nn.ParameterDict()
        init = initial_weights(ir)
        for proj in ir.projections:
            self.weight[proj.id] = nn.Parameter(init[f"weight.{proj.id}"])
            if proj.bias:
                self.bias[proj.id] = nn.Parameter(init[f"bias.{proj.id}"])
            mask = connectivity_mask(proj, *ir.shapes(proj).weight)
            if mask is not None:
                self.register_buffer(f"mask_{proj.id}", torch.from_numpy(mask), persistent=False)
        # per-neuron beta, alpha, threshold (tuples in the IR) as buffers [N]; floats stay floats
        self._neuron_params: dict[str, dict[str, float | str]] = {}
        for pop in ir.populations:
            params = {}
            for name in ("beta", "alpha", "threshold"):
                value = getattr(pop, name)
                if isinstance(value, tuple):
                    t = torch.tensor(value, dtype=torch.float32)
                    if name != "threshold":
                        t = t.clamp(0.0, 1.0)
                    self.register_buffer(f"{name}_{pop.id}", t, persistent=False)
                    params[name] = f"{name}_{pop.id}"
                elif value is not None:
                    params[name] = min(max(value, 0.0), 1.0) if name != "threshold" else value
            self._neuron_params[pop.id] = params
        self.input_id = next(p.id for p in ir.populations if p.kind == "input")
        self.readout = ir.settings.readout

    # -- weights by name ----------------------------------------------------------

    def weights(self) -> dict[str, torch.Tensor]:
        """Every trainable tensor by name ('weight.<projection>' [in, out], 'bias.<projection>')."""
        return {name: p for name, p in self.named_parameters()}

    @torch.no_grad()
    def set_weights(self, values: dict[str, torch.Tensor]) -> None:
        """Copy values into the named tensors (every name, matching shapes)."""
        own = self.weights()
        if set(values) != set(own):
            raise KeyError(f"weight names differ: expected {sorted(own)}, got {sorted(values)}")
        for name, value in values.items():
            value = torch.as_tensor(value)
            if tuple(value.shape) != tuple(own[name].shape):
                raise ValueError(f"{name}: shape {list(value.shape)}, expected {list(own[name].shape)}")
            own[name].copy_(value)

    def effective_weight(self, pid: str) -> torch.Tensor:
        w = self.weight[pid]
        mask = getattr(self, f"mask_{pid}", None)
        return w if mask is None else w * mask

    # -- forward --------------------------------------------------------------------

    def forward(self, inputs: torch.Tensor) -> ForwardResult:
        ir = self.ir
        steps, batch = inputs.shape[0], inputs.shape[1]
        if steps != ir.settings.timesteps:
            raise ValueError(f"inputs have {steps} timesteps, the model {ir.settings.timesteps}")
        spikes: dict[str, list[torch.Tensor]] = {}
        mem_rec: dict[str, list[torch.Tensor]] = {}
        syn_rec: dict[str, list[torch.Tensor]] = {}
        overflow: dict[str, list[torch.Tensor]] = {}
        grad_masks: dict[str, list[torch.Tensor]] = {}

        # The input population's lists for every timestep at once.
        inp = ir.population(self.input_id)
        x = inputs.to(torch.float32)
        kept_in, ovf_in = [], []
        for t in range(steps):
            keep, _, ovf = capacity_lists(inp, x[t], None, t)
            kept_in.append(x[t] if keep is None else keep)
            ovf_in.append(ovf)
        spikes[self.input_id] = kept_in
        overflow[self.input_id] = ovf_in

        # Currents from the input population do not depend on the network: one matmul each.
        x_kept = torch.stack(kept_in)
        input_currents: dict[str, tuple[torch.Tensor, ...]] = {}
        for proj in ir.projections:
            if proj.source == self.input_id:
                cur = x_kept @ self.effective_weight(proj.id)
                if proj.delay:
                    cur = torch.cat([cur.new_zeros((proj.delay,) + cur.shape[1:]), cur[:-proj.delay]])[:steps]
                input_currents[proj.id] = cur.unbind(0)  # per-step views; indexing would copy in backward

        order = [ir.population(pid) for stage in ir.stages for pid in stage]
        incoming = {pop.id: ir.incoming(pop.id) for pop in order}
        state: dict[str, dict[str, torch.Tensor]] = {}
        for pop in order:
            zeros = x.new_zeros((batch, pop.size))
            state[pop.id] = {"mem": zeros, "syn": zeros}
            mem_rec[pop.id] = []
            if pop.model == "cuba_lif":
                syn_rec[pop.id] = []
            if pop.spikes:
                spikes[pop.id], overflow[pop.id] = [], []
                if pop.gradient_threshold is not None:
                    grad_masks[pop.id] = []

        for t in range(steps):
            for pop in order:
                current = None
                for proj in incoming[pop.id]:
                    if proj.id in input_currents:
                        c = input_currents[proj.id][t]
                    elif t >= proj.delay:
                        c = spikes[proj.source][t - proj.delay] @ self.effective_weight(proj.id)
                    else:
                        c = None
                    if proj.bias:
                        c = self.bias[proj.id] if c is None else c + self.bias[proj.id]
                    if c is not None:
                        current = c if current is None else current + c
                if current is None:
                    current = x.new_zeros((batch, pop.size))
                self._update(pop, state[pop.id], current, t, spikes, mem_rec, syn_rec, overflow, grad_masks)

        stack = lambda xs: {k: torch.stack(v) for k, v in xs.items()}  # noqa: E731
        result = ForwardResult(stack(spikes), stack(mem_rec), stack(syn_rec), stack(overflow), stack(grad_masks),
                               scores=x.new_zeros(0))
        result.scores = decode(result, self.readout)
        return result

    def _param(self, pop, name):
        """beta and alpha (clamped to [0, 1]) or threshold: a float, or a per-neuron tensor [N]."""
        value = self._neuron_params[pop.id].get(name)
        return getattr(self, value) if isinstance(value, str) else value

    def _update(self, pop, st, current, t, spikes, mem_rec, syn_rec, overflow, grad_masks) -> None:
        beta = self._param(pop, "beta")
        prev = st["mem"]
        if pop.model == "cuba_lif":
            alpha = self._param(pop, "alpha")
            st["syn"] = alpha * st["syn"] + current
            current = st["syn"]
            syn_rec[pop.id].append(current)
        if not pop.spikes or pop.reset == "none":
            mem = beta * prev + current
        else:
            theta = self._param(pop, "threshold")
            reset = (prev - theta > 0).to(prev.dtype).detach()
            if pop.reset == "subtract":
                mem = beta * prev + current - reset * theta
            elif pop.reset == "zero":
                mem = beta * ((1 - reset) * prev) + current
            else:  # zero_updated
                mem = (1 - reset) * (beta * prev + current)
        st["mem"] = mem
        mem_rec[pop.id].append(mem)
        if not pop.spikes:
            return
        theta = self._param(pop, "threshold")
        x = mem - theta
        if pop.capacity >= pop.size and pop.gradient_threshold is None:
            keep, grad_mask, ovf = None, None, self._no_overflow(mem.shape[0], mem.device)
        else:
            keep, grad_mask, ovf = capacity_lists(pop, (x > 0).to(mem.dtype).detach(), mem.detach(), t, theta)
        spikes[pop.id].append(spike(x, self.surrogate, keep, grad_mask))
        overflow[pop.id].append(ovf)
        if grad_mask is not None:
            grad_masks[pop.id].append(grad_mask)


    def _no_overflow(self, batch: int, device) -> torch.Tensor:
        cached = getattr(self, "_zeros", None)
        if cached is None or cached.shape[0] != batch or cached.device != device:
            cached = self._zeros = torch.zeros(batch, dtype=torch.int64, device=device)
        return cached


def decode(result: ForwardResult, readout) -> torch.Tensor:
    """Class scores [B, classes] of the readout population: spike_count sum_t S[t],
    membrane_sum sum_t U[t], membrane_max max_t U[t]."""
    pid = readout.population
    if readout.decoding == "spike_count":
        return result.spikes[pid].sum(dim=0)
    if readout.decoding == "membrane_sum":
        return result.mem[pid].sum(dim=0)
    return result.mem[pid].max(dim=0).values


def build_model(ir: ModelGraph) -> SNN:
    """The reference nn.Module of a model, with its initial weights from the training seed."""
    return SNN(ir)
