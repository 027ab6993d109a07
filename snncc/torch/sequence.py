"""Whole-sequence building blocks of the reference network (multi-step form).

A population whose inputs are all known for every timestep before it updates (no
recurrence through it) is computed one sequence at a time, as SpikingJelly's multi-step
nodes are: its input current for all T timesteps as one product per projection, then its
membrane over time in one fused loop. Both are custom autograd functions with a
hand-written backward, so autograd keeps one node per population instead of several per
timestep.

- `project`: S[t - d] @ W for every t at once. Spikes are 0/1 and mostly zero, so on the CPU
  a sparse source sums the weight rows of its spikes (a gather, as the generated program
  does) instead of multiplying zeros; the weight gradient likewise sums gradient rows
  of the timesteps and samples where each source neuron spiked. Which of the two runs
  depends on the measured density (the values differ by float32 summation order only).
- `neuron`: U[t] = beta U[t-1] + I[t] with the population's reset, its spikes and
  spike-id lists, forward, and the surrogate and reverse-time recurrence backward. The
  reset signal is detached (docs/reference/snn.md), so U is linear in I given the reset,
  and dU[t]/dU[t-1] is beta, times (1 - R[t]) for the zero resets. The forward evaluates
  exactly the expressions of the per-timestep update (network.SNN._update), so the
  membranes and spikes are bit-identical to it for the same currents.
"""

from __future__ import annotations

from contextlib import contextmanager

import torch
import torch.nn.functional as F

from .surrogate import surrogate_derivative

#: Densities (non-zero fraction of a source's spikes) up to which a CPU projection sums
#: weight rows (forward) and gradient rows (weight gradient) instead of multiplying dense
#: matrices; measured on [4800, 700|1470] x [*, 1470] products (docs/training.md). "cpu":
#: CPUs whose dense products run without AVX-512 (195 ms for [4800, 1470] x [1470, 1470] on
#: 2 cores); "cpu-avx512": with it (57 ms), where gathers pay only below about 6 and 4.5 %.
#: The choice depends on the CPU, never on timing, so a run's values are the same every time.
#: On other devices the dense products always run: there the gather was not measured to be faster.
GATHER_DENSITY = {"cpu": (0.12, 0.08), "cpu-avx512": (0.06, 0.045)}
#: Every how many rows (timestep and sample) of a source the density is estimated from.
DENSITY_SAMPLE = 16


#: Elements of a [B, N] slice up to which the loops over timesteps run on one thread.
ONE_THREAD_ELEMENTS = 1 << 20


@contextmanager
def one_thread(elements: int):
    """Torch ops on one intra-op thread while the slices are small (ONE_THREAD_ELEMENTS):
    the loops over timesteps run thousands of ops on [B, N] slices, and waking a second
    thread costs more than it saves (mul on [48, 1470] on 2 cores: 15 us on one thread,
    29 us on two, 167 us on two when other processes load the cores, with
    OMP_WAIT_POLICY=PASSIVE as snncc train sets it; on [512, 1470] 95 us and 120 us)."""
    threads = torch.get_num_threads()
    single = threads > 1 and elements <= ONE_THREAD_ELEMENTS
    if single:
        torch.set_num_threads(1)
    try:
        yield
    finally:
        if single:
            torch.set_num_threads(threads)


def _gather_limits(device: torch.device) -> tuple[float, float]:
    if device.type == "cpu" and torch.backends.cpu.get_cpu_capability().startswith("AVX512"):
        return GATHER_DENSITY["cpu-avx512"]
    return GATHER_DENSITY.get(device.type, (0.0, 0.0))


def _row_offsets(ids: torch.Tensor, rows: int) -> torch.Tensor:
    """Start of each row's entries in ids (sorted row ids): embedding_bag's offsets."""
    counts = torch.bincount(ids, minlength=rows)
    return torch.cumsum(counts, 0) - counts


class _Projection(torch.autograd.Function):
    """s [M, in] @ w [in, out] (+ bias [out]), gathering weight rows where s is sparse."""

    @staticmethod
    def forward(ctx, s, w, bias):
        forward_limit, grad_limit = _gather_limits(s.device)
        density = 1.0
        if forward_limit > 0 and s.numel():
            sample = s[::DENSITY_SAMPLE]  # every few (timestep, sample) rows: an estimate is enough to choose
            density = int(torch.count_nonzero(sample)) / sample.numel()
        ctx.nonzeros = None
        if density <= forward_limit or density <= grad_limit:
            rows, cols = s.nonzero().unbind(1)
            values = s[rows, cols]
            values = None if bool((values == 1).all()) else values
            ctx.nonzeros = (rows, cols, values)
        if density <= forward_limit:
            rows, cols, values = ctx.nonzeros
            out = F.embedding_bag(cols, w, _row_offsets(rows, s.shape[0]), mode="sum", per_sample_weights=values)
            if bias is not None:
                out.add_(bias)
        else:
            out = s @ w if bias is None else torch.addmm(bias, s, w)
        if density > grad_limit:
            ctx.nonzeros = None
        ctx.save_for_backward(s, w)
        return out

    @staticmethod
    def backward(ctx, grad):
        s, w = ctx.saved_tensors
        grad_s = grad_w = grad_bias = None
        if ctx.needs_input_grad[2]:
            grad_bias = grad.sum(0)
        if ctx.needs_input_grad[0]:
            grad_s = grad @ w.t()
        if ctx.needs_input_grad[1]:
            if ctx.nonzeros is not None:
                rows, cols, values = ctx.nonzeros
                order = torch.argsort(cols, stable=True)
                grad_w = F.embedding_bag(rows[order], grad.contiguous(), _row_offsets(cols[order], s.shape[1]),
                                         mode="sum", per_sample_weights=None if values is None else values[order])
            else:
                grad_w = s.t() @ grad
        return grad_s, grad_w, grad_bias


def project(spikes: torch.Tensor, weight: torch.Tensor, delay: int, bias: torch.Tensor | None = None) -> torch.Tensor:
    """The input current [T, B, out] of spikes [T, B, in] through weight [in, out] after
    delay timesteps: S[t - d] @ W (+ bias), zero (the bias) for t < d."""
    steps, batch, _ = spikes.shape
    shown = max(steps - delay, 0)
    head = None
    if delay:
        shape = (min(delay, steps), batch, weight.shape[1])
        head = spikes.new_zeros(shape) if bias is None else bias.expand(shape)
    if not shown:
        return head.contiguous()
    source = (spikes[:shown] if delay else spikes).reshape(shown * batch, -1)  # a slice's backward would copy
    current = _Projection.apply(source, weight, bias).view(shown, batch, -1)
    return current if head is None else torch.cat([head, current])


class _RoundHalf(torch.autograd.Function):
    """x rounded to the nearest float16 value (round half to even), kept in x's dtype; the
    gradient passes through unchanged, as mixed-precision training treats the half copy of a
    float32 weight and the half-stored state (docs/training.md, "float16")."""

    @staticmethod
    def forward(ctx, x):
        return x.to(torch.float16).to(x.dtype)

    @staticmethod
    def backward(ctx, grad):
        return grad


def round_half(x: torch.Tensor) -> torch.Tensor:
    return _RoundHalf.apply(x)


def _step(prev, fired, current, beta, theta, reset, out):
    """U[t] into out from U[t-1], R[t] = [U[t-1] - theta > 0] (0/1) and I[t]: the expressions
    of network.SNN._update, in its order (R theta is exact, so subtracting it with alpha
    rounds as U - R theta does)."""
    torch.mul(prev if reset != "zero" else (1 - fired) * prev, beta, out=out)
    out.add_(current)
    if reset == "subtract":  # beta U + I - R theta
        if isinstance(theta, torch.Tensor):
            out.addcmul_(fired, theta, value=-1)
        else:
            out.sub_(fired, alpha=theta)
    elif reset == "zero_updated":  # (1 - R) (beta U + I)
        out.mul_(1 - fired)
    return out  # zero: beta ((1 - R) U) + I; none: beta U + I


class _Neuron(torch.autograd.Function):
    """U [T, B, N] (and spikes, for a spiking population) from I [T, B, N], U[-1] = 0.

    lists(raw [B, N], mem [B, N]) -> (keep, grad_mask, overflow [B]) gives a timestep's
    spike-id lists (network.capacity_lists); None when every spike fits and every neuron
    gets a surrogate gradient. half: U[t] is stored as float16 (rounded once per timestep,
    and everything after reads the stored value; the gradient passes the rounding unchanged).
    Outputs: mem, spikes, overflow [T, B], grad_mask (empty without a gradient threshold);
    the last two carry no gradient.
    """

    @staticmethod
    def forward(ctx, current, beta, theta, reset, surrogate, lists, half):
        ctx.set_materialize_grads(False)
        steps, batch, size = current.shape
        mem = torch.empty_like(current)
        spiking = surrogate is not None
        spikes = torch.empty_like(current) if spiking else current.new_empty(0)
        overflow = current.new_zeros((steps, batch), dtype=torch.int64)
        grad_mask = None
        prev = current.new_zeros((batch, size))
        fired = (prev - theta > 0).to(prev.dtype) if reset != "none" else None
        buffers = (torch.empty_like(prev), torch.empty_like(prev))  # this and the last timestep's raw spikes
        with one_thread(batch * size):
            for t in range(steps):
                m = _step(prev, fired, current[t], beta, theta, reset, mem[t])
                if half:
                    m.copy_(m.to(torch.float16))
                if spiking:
                    raw = torch.gt(m - theta, 0, out=spikes[t] if lists is None else buffers[t % 2])  # [U - theta > 0]
                    if lists is not None:
                        keep, mask, overflow[t] = lists(raw, m)
                        spikes[t] = raw if keep is None else keep
                        if mask is not None:
                            if grad_mask is None:
                                grad_mask = torch.empty_like(current)
                            grad_mask[t] = mask
                    fired = raw  # the reset of the next timestep
                elif reset != "none":
                    fired = (m - theta > 0).to(m.dtype)
                prev = m
        ctx.beta, ctx.theta, ctx.reset, ctx.surrogate = beta, theta, reset, surrogate
        ctx.save_for_backward(mem, grad_mask)
        ctx.mark_non_differentiable(overflow)
        if grad_mask is None:
            return mem, spikes, overflow, current.new_empty(0)
        ctx.mark_non_differentiable(grad_mask)
        return mem, spikes, overflow, grad_mask

    @staticmethod
    def backward(ctx, grad_mem, grad_spikes, _overflow, _grad_mask):
        mem, grad_mask = ctx.saved_tensors
        beta, theta, reset, surrogate = ctx.beta, ctx.theta, ctx.reset, ctx.surrogate
        if grad_spikes is None:
            surrogate = None
        grad_in = torch.empty_like(mem)
        carry = torch.zeros_like(mem[0])  # dL/dU[t] through U[t + 1]
        with one_thread(carry.numel()):
            for t in range(mem.shape[0] - 1, -1, -1):
                g = grad_in[t]  # dL/dU[t]
                if surrogate is not None:
                    torch.mul(grad_spikes[t], surrogate_derivative(surrogate, mem[t] - theta), out=g)
                    if grad_mask is not None:
                        g.mul_(grad_mask[t])
                    g.add_(carry)
                else:
                    g.copy_(carry)
                if grad_mem is not None:
                    g.add_(grad_mem[t])
                if reset in ("zero", "zero_updated"):
                    opened = 1 - ((mem[t - 1] - theta > 0).to(mem.dtype) if t else (-theta > 0) * 1.0)
                if reset == "zero_updated":  # U[t] = (1 - R[t]) Y[t], Y[t] = beta U[t-1] + I[t]
                    g.mul_(opened)
                    torch.mul(g, beta, out=carry)
                elif reset == "zero":  # U[t] = beta ((1 - R[t]) U[t-1]) + I[t]
                    torch.mul(g, beta, out=carry)
                    carry.mul_(opened)
                else:
                    torch.mul(g, beta, out=carry)
        return grad_in, None, None, None, None, None, None


def neuron(current: torch.Tensor, beta, theta, reset: str, surrogate=None, lists=None, half: bool = False):
    """(U, spikes, overflow, grad_mask) over a sequence of a population driven by current
    [T, B, N]: beta and theta are floats or per-neuron tensors [N]; reset 'subtract',
    'zero', 'zero_updated' or 'none'; surrogate None for a population without spikes
    (spikes then empty); lists as in _Neuron; half: the state stored as float16. A synaptic
    current Isyn[t] = alpha Isyn[t-1] + I[t] is neuron(I, alpha, None, 'none')[0]."""
    return _Neuron.apply(current, beta, theta, reset, surrogate, lists, half)
