"""The reference network: an nn.Module built from the IR.

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

import networkx as nx
import torch
from torch import nn

from ..ir import ModelGraph, Population
from .init import connectivity_mask, initial_weights
from .sequence import neuron, project, round_half
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
    pop: Population, raw: torch.Tensor, mem: torch.Tensor | None, theta=None
) -> tuple[torch.Tensor | None, torch.Tensor | None, torch.Tensor]:
    """(keep, grad_mask, overflow) of spikes raw [..., N] (0/1, detached), one list per
    sample and timestep along the last axis (a timestep [B, N] or a sequence [T, B, N]).

    keep: the emitted spikes (None when nothing can be dropped); grad_mask: membership of
    the spike-id list (None for a dense backward); overflow [...]: dropped spikes. theta:
    the threshold as a float or a per-neuron tensor [N] (default pop.threshold). Overflow
    with 'error' is raised by `raise_overflow`, after the forward pass.
    """
    theta = pop.threshold if theta is None else theta
    if pop.capacity >= pop.size and (pop.gradient_threshold is None or mem is None):
        return None, None, raw.new_zeros(raw.shape[:-1], dtype=torch.int64)  # a list that holds everything
    counts = raw.sum(dim=-1)
    overflow = (counts - pop.capacity).clamp(min=0).to(torch.int64)
    keep = None
    if pop.capacity < pop.size:
        keep = raw * (torch.cumsum(raw, dim=-1) <= pop.capacity)
    grad_mask = None
    if pop.gradient_threshold is not None and mem is not None:
        kept = raw if keep is None else keep
        room = pop.capacity - kept.sum(dim=-1, keepdim=True)
        candidates = ((mem >= pop.gradient_threshold * theta) & (raw == 0)).to(raw.dtype)
        grad_mask = kept + candidates * (torch.cumsum(candidates, dim=-1) <= room)
    return keep, grad_mask, overflow


def raise_overflow(pops: list[Population], overflow: dict[str, torch.Tensor]) -> None:
    """SpikeOverflowError for the first overflow [T, B] of a population with overflow
    'error': the input population's first, then the earliest timestep, then pops' order
    (the order in which a timestep updates them), then the lowest sample."""
    first = None
    for rank, pop in enumerate(pops):
        if pop.overflow != "error" or pop.id not in overflow:
            continue
        hits = torch.nonzero(overflow[pop.id])
        if hits.shape[0] == 0:
            continue
        t, b = (int(v) for v in hits[0])
        key = (pop.kind != "input", t, rank)
        if first is None or key < first[0]:
            first = (key, pop, t, b)
    if first is not None:
        _, pop, t, b = first
        count = int(overflow[pop.id][t, b]) + pop.capacity
        raise SpikeOverflowError(pop.id, t, b, count, pop.capacity)


def schedule(ir: ModelGraph) -> list[tuple[tuple[Population, ...], bool]]:
    """The neuron populations as groups in dependency order: (members, recurrent).

    A group is a strongly connected component of the projection graph. One that is not
    recurrent (a single population without a projection onto itself) has every input
    for all timesteps before it updates, so it is computed one sequence at a time; the
    members of a recurrent group update timestep by timestep. Members and ties between
    groups follow the IR's schedule order (ModelGraph.stages).
    """
    order = [pid for stage in ir.stages for pid in stage]
    position = {pid: i for i, pid in enumerate(order)}
    graph = nx.DiGraph()
    graph.add_nodes_from(order)
    graph.add_edges_from((p.source, p.target) for p in ir.projections if p.source in position)
    condensed = nx.condensation(graph)
    members = {c: sorted(condensed.nodes[c]["members"], key=position.__getitem__) for c in condensed}
    groups = []
    for c in nx.lexicographical_topological_sort(condensed, key=lambda c: position[members[c][0]]):
        ids = members[c]
        recurrent = len(ids) > 1 or graph.has_edge(ids[0], ids[0])
        groups.append((tuple(ir.population(pid) for pid in ids), recurrent))
    return groups


class SNN(nn.Module):
    """The reference network of a ModelGraph.

    Parameters: weight.<projection> [source size, target size] and bias.<projection>
    [target size]; sparse projections multiply their weight by a fixed mask (buffer
    mask.<projection>), so masked weights get zero gradient and stay zero.
    forward(inputs [T, B, input size]) -> ForwardResult.

    Populations outside recurrent loops are computed a whole sequence at a time
    (snncc.torch.sequence); those in a loop timestep by timestep (_update), with the
    currents from outside the loop computed a sequence at a time as well. multi_step
    False updates every population timestep by timestep with plain tensor ops and
    autograd (for tracers such as PopTorch, which do not run a custom backward).
    """

    def __init__(self, ir: ModelGraph, multi_step: bool = True):
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
        self._order = [ir.population(pid) for stage in ir.stages for pid in stage]
        self.multi_step = multi_step
        self._groups = schedule(ir) if multi_step else [(tuple(self._order), True)]
        # precision float16 (docs/training.md): weights and biases used as their float16 copies,
        # membranes and synaptic currents stored as float16; sums, gradients and the optimizer float32
        self.half = ir.settings.precision == "float16"
        self._store = round_half if self.half else (lambda x: x)
        self._incoming = {pop.id: ir.incoming(pop.id) for pop in self._order}

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

    def _used_weight(self, pid: str) -> torch.Tensor:
        """The weights the network computes with: effective_weight, or its float16 copy."""
        return self._store(self.effective_weight(pid))

    def _used_bias(self, pid: str) -> torch.Tensor:
        return self._store(self.bias[pid])

    # -- forward --------------------------------------------------------------------

    def forward(self, inputs: torch.Tensor) -> ForwardResult:
        ir = self.ir
        steps = inputs.shape[0]
        if steps != ir.settings.timesteps:
            raise ValueError(f"inputs have {steps} timesteps, the model {ir.settings.timesteps}")
        inp = ir.population(self.input_id)
        x = inputs.to(torch.float32)
        keep, _, ovf = capacity_lists(inp, x, None)  # every timestep's input list at once
        spikes: dict[str, torch.Tensor] = {self.input_id: x if keep is None else keep}
        overflow: dict[str, torch.Tensor] = {self.input_id: ovf}
        mem: dict[str, torch.Tensor] = {}
        syn: dict[str, torch.Tensor] = {}
        grad_masks: dict[str, torch.Tensor] = {}
        records = spikes, mem, syn, overflow, grad_masks
        for members, recurrent in self._groups:
            if recurrent:
                self._loop(members, x, records)
            else:
                pop = members[0]
                current = None
                for proj in self._incoming[pop.id]:
                    c = self._projection_current(proj, spikes)
                    current = c if current is None else current + c
                if current is None:
                    current = x.new_zeros((steps, x.shape[1], pop.size))
                self._update_sequence(pop, current, records)
        raise_overflow([inp, *self._order], overflow)

        in_order = lambda xs, pops: {p.id: xs[p.id] for p in pops if p.id in xs}  # noqa: E731
        result = ForwardResult(in_order(spikes, [inp, *self._order]), in_order(mem, self._order),
                               in_order(syn, self._order), in_order(overflow, [inp, *self._order]),
                               in_order(grad_masks, self._order), scores=x.new_zeros(0))
        result.scores = decode(result, self.readout)
        return result

    def _projection_current(self, proj, spikes: dict[str, torch.Tensor]) -> torch.Tensor:
        """The current [T, B, target] of a projection whose source's spikes are known for every timestep."""
        if not self.multi_step:
            c = spikes[proj.source] @ self._used_weight(proj.id)
            if proj.delay:
                c = torch.cat([c.new_zeros((proj.delay,) + c.shape[1:]), c])[: c.shape[0]]
            return c + self._used_bias(proj.id) if proj.bias else c
        return project(spikes[proj.source], self._used_weight(proj.id), proj.delay,
                       self._used_bias(proj.id) if proj.bias else None)

    def _param(self, pop, name):
        """beta and alpha (clamped to [0, 1]) or threshold: a float, or a per-neuron tensor [N]."""
        value = self._neuron_params[pop.id].get(name)
        return getattr(self, value) if isinstance(value, str) else value

    def _update_sequence(self, pop, current, records) -> None:
        """A whole sequence of a population from its current [T, B, N] (the semantics of _update)."""
        spikes, mem_rec, syn_rec, overflow, grad_masks = records
        if pop.model == "cuba_lif":
            current = neuron(current, self._param(pop, "alpha"), None, "none", half=self.half)[0]
            syn_rec[pop.id] = current
        theta = self._param(pop, "threshold")
        if not pop.spikes:
            mem_rec[pop.id] = neuron(current, self._param(pop, "beta"), theta, "none", half=self.half)[0]
            return
        lists = None
        if pop.capacity < pop.size or pop.gradient_threshold is not None:
            lists = lambda raw, mem: capacity_lists(pop, raw, mem, theta)  # noqa: E731
        mem, s, ovf, grad_mask = neuron(current, self._param(pop, "beta"), theta, pop.reset, self.surrogate, lists,
                                        self.half)
        mem_rec[pop.id], spikes[pop.id], overflow[pop.id] = mem, s, ovf
        if pop.gradient_threshold is not None:
            grad_masks[pop.id] = grad_mask

    def _loop(self, members, x, records) -> None:
        """The populations of a recurrent group, timestep by timestep."""
        spikes = records[0]
        steps, batch = x.shape[0], x.shape[1]
        inside = {pop.id for pop in members}
        # currents from outside the group, a sequence at a time, as per-step views
        outside = {proj.id: self._projection_current(proj, spikes).unbind(0)
                   for pop in members for proj in self._incoming[pop.id] if proj.source not in inside}
        step_rec = tuple({pop.id: [] for pop in members} for _ in range(5))
        state = {pop.id: {"mem": x.new_zeros((batch, pop.size)), "syn": x.new_zeros((batch, pop.size))}
                 for pop in members}
        for t in range(steps):
            for pop in members:
                current = None
                for proj in self._incoming[pop.id]:
                    if proj.id in outside:
                        c = outside[proj.id][t]
                    else:
                        c = None
                        if t >= proj.delay:
                            c = step_rec[0][proj.source][t - proj.delay] @ self._used_weight(proj.id)
                        if proj.bias:
                            c = self._used_bias(proj.id) if c is None else c + self._used_bias(proj.id)
                    if c is not None:
                        current = c if current is None else current + c
                if current is None:
                    current = x.new_zeros((batch, pop.size))
                self._update(pop, state[pop.id], current, step_rec)
        for rec, out in zip(step_rec, records):
            out.update({pid: torch.stack(v) for pid, v in rec.items() if v})

    def _update(self, pop, st, current, step_rec) -> None:
        spikes, mem_rec, syn_rec, overflow, grad_masks = step_rec
        beta = self._param(pop, "beta")
        prev = st["mem"]
        if pop.model == "cuba_lif":
            alpha = self._param(pop, "alpha")
            st["syn"] = self._store(alpha * st["syn"] + current)
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
        mem = self._store(mem)
        st["mem"] = mem
        mem_rec[pop.id].append(mem)
        if not pop.spikes:
            return
        theta = self._param(pop, "threshold")
        x = mem - theta
        if pop.capacity >= pop.size and pop.gradient_threshold is None:
            keep, grad_mask, ovf = None, None, mem.new_zeros(mem.shape[0], dtype=torch.int64)
        else:
            keep, grad_mask, ovf = capacity_lists(pop, (x > 0).to(mem.dtype).detach(), mem.detach(), theta)
        spikes[pop.id].append(spike(x, self.surrogate, keep, grad_mask))
        overflow[pop.id].append(ovf)
        if grad_mask is not None:
            grad_masks[pop.id].append(grad_mask)


def decode(result: ForwardResult, readout) -> torch.Tensor:
    """Class scores [B, classes] of the readout population: spike_count sum_t S[t],
    membrane_sum sum_t U[t], membrane_max max_t U[t]."""
    pid = readout.population
    if readout.decoding == "spike_count":
        return result.spikes[pid].sum(dim=0)
    if readout.decoding == "membrane_sum":
        return result.mem[pid].sum(dim=0)
    return result.mem[pid].max(dim=0).values


def build_model(ir: ModelGraph, multi_step: bool = True) -> SNN:
    """The reference nn.Module of a model, with its initial weights from the training seed
    (multi_step: see SNN)."""
    return SNN(ir, multi_step)
