"""The multi-step network (whole-sequence projections, fused neuron updates) against an
oracle written here from the semantics in snncc/torch/network.py: a plain autograd loop
over timesteps and populations. Spikes, overflow and spike-id lists equal; membranes to
1e-6; weight gradients to 1e-5 (norm-wise relative), with the projections' row gathers
forced on and off, and the timestep-by-timestep form (multi_step=False)."""

from __future__ import annotations

import pytest
import torch

from snncc.torch import build_model, sequence

T, B = 12, 3
SLOPE = 5.0  # fast_sigmoid


def _stack(records: dict[str, list[torch.Tensor]]) -> dict[str, torch.Tensor]:
    return {k: torch.stack(v) for k, v in records.items() if v}


def oracle(ir, weights: dict[str, torch.Tensor], x: torch.Tensor):
    """(spikes, mem, syn, overflow, grad_mask) per population, timestep by timestep."""
    order = [ir.population(pid) for stage in ir.stages for pid in stage]
    inp = next(p for p in ir.populations if p.kind == "input")
    spikes, mem, syn, overflow, masks = ({p.id: [] for p in [inp, *order]} for _ in range(5))
    state = {p.id: {"mem": torch.zeros(B, p.size), "syn": torch.zeros(B, p.size)} for p in order}
    for t in range(T):
        raw = x[t]
        kept = raw * (torch.cumsum(raw, 1) <= inp.capacity)
        spikes[inp.id].append(kept)
        overflow[inp.id].append((raw.sum(1) - inp.capacity).clamp(min=0).long())
        for pop in order:
            current = torch.zeros(B, pop.size)
            for proj in ir.incoming(pop.id):
                if t >= proj.delay:
                    current = current + spikes[proj.source][t - proj.delay] @ weights[f"weight.{proj.id}"]
                if proj.bias:
                    current = current + weights[f"bias.{proj.id}"]
            st = state[pop.id]
            if pop.model == "cuba_lif":
                st["syn"] = pop.alpha * st["syn"] + current
                current = st["syn"]
                syn[pop.id].append(current)
            prev = st["mem"]
            fired = (prev > pop.threshold).float() if pop.spikes else torch.zeros_like(prev)
            beta = pop.beta
            u = {"subtract": lambda: beta * prev + current - fired * pop.threshold,
                 "zero": lambda: beta * prev * (1 - fired) + current,
                 "zero_updated": lambda: (beta * prev + current) * (1 - fired),
                 "none": lambda: beta * prev + current}[pop.reset if pop.spikes else "none"]()
            st["mem"] = u
            mem[pop.id].append(u)
            if not pop.spikes:
                continue
            v = u - pop.threshold
            raw = (v > 0).float()
            kept = raw * (torch.cumsum(raw, 1) <= pop.capacity)
            listed = torch.ones_like(raw)
            if pop.gradient_threshold is not None:
                room = pop.capacity - kept.sum(1, keepdim=True)
                near = ((u >= pop.gradient_threshold * pop.threshold) & (raw == 0)).float()
                listed = (kept + near * (torch.cumsum(near, 1) <= room)).detach()
                masks[pop.id].append(listed)
            slope = (1.0 / (SLOPE * v.abs() + 1.0) ** 2 * listed).detach()
            spikes[pop.id].append(kept.detach() + slope * (v - v.detach()))  # value kept, gradient slope
            overflow[pop.id].append((raw.sum(1) - pop.capacity).clamp(min=0).long())
    return tuple(_stack(r) for r in (spikes, mem, syn, overflow, masks))


def _n(kind="lif", size=5, **neuron):
    return {"kind": "neuron", "id": None, "size": size, "neuron": {"model": kind, **neuron}}


def _pops(*pops):
    out = []
    for pid, pop in pops:
        out.append({**pop, "id": pid})
    return out


FEED_FORWARD = (
    _pops(("x", {"kind": "input", "size": 8}),
          ("a", _n("lif", 6, beta=0.8, threshold=0.6, reset="subtract")),
          ("b", _n("cuba_lif", 5, beta=0.9, alpha=0.7, threshold=0.5, reset="zero")),
          ("c", _n("lif", 4, beta=0.7, threshold=0.4, reset="zero_updated")),
          ("o", _n("li", 3, beta=0.9))),
    [{"id": "xa", "source": "x", "target": "a", "weight_init": {"scale": 3.0}},
     {"id": "ab", "source": "a", "target": "b", "delay": 2, "weight_init": {"scale": 2.0}},
     {"id": "bc", "source": "b", "target": "c", "bias": False, "weight_init": {"scale": 3.0},
      "connectivity": {"kind": "sparse", "probability": 0.6, "seed": 3}},
     {"id": "xc", "source": "x", "target": "c", "delay": 1, "weight_init": {"scale": 2.0}},
     {"id": "co", "source": "c", "target": "o"}],
)
LISTS = (
    _pops(("x", {"kind": "input", "size": 9, "sparsity": {"max_spikes": 4, "overflow": "drop"}}),
          ("h", {**_n("lif", 10, beta=0.9, threshold=0.5),
                 "sparsity": {"max_spikes": 3, "gradient_threshold": 0.7, "overflow": "drop"}}),
          ("o", _n("if", 4, threshold=0.3, reset="none"))),
    [{"id": "xh", "source": "x", "target": "h", "weight_init": {"scale": 3.0}},
     {"id": "ho", "source": "h", "target": "o", "weight_init": {"scale": 5.0}}],
)
RECURRENT = (
    _pops(("x", {"kind": "input", "size": 7}),
          ("h", _n("lif", 6, beta=0.85, threshold=0.5, reset="zero")),
          ("g", _n("lif", 5, beta=0.8, threshold=0.5)),
          ("o", _n("lif", 3, beta=0.9, threshold=0.3))),
    [{"id": "xh", "source": "x", "target": "h", "weight_init": {"scale": 3.0}},
     {"id": "hg", "source": "h", "target": "g", "weight_init": {"scale": 3.0}},
     {"id": "gh", "source": "g", "target": "h", "delay": 1, "weight_init": {"scale": 2.0}},
     {"id": "go", "source": "g", "target": "o", "weight_init": {"scale": 5.0}},
     {"id": "oo", "source": "o", "target": "o", "delay": 2, "bias": False}],
)
CASES = {"feed_forward": (*FEED_FORWARD, 0), "lists": (*LISTS, 0), "recurrent": (*RECURRENT, 2)}  # (.., seed)


def _grad_err(ours, theirs):
    return float((ours - theirs).abs().max() / theirs.abs().max().clamp(min=1e-12))


@pytest.mark.parametrize("mode", ["gather", "dense", "timestep"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_sequence_matches_timestep_oracle(build_ir, monkeypatch, case, mode):
    """gather, dense: the multi-step network with the projections' row gathers forced on
    and off; timestep: build_model(multi_step=False), every population timestep by timestep."""
    limits = (1.0, 1.0) if mode == "gather" else (0.0, 0.0)
    monkeypatch.setattr(sequence, "GATHER_DENSITY", {"cpu": limits, "cpu-avx512": limits})
    pops, projs, seed = CASES[case]
    ir = build_ir(pops, projs, timesteps=T, readout={"population": pops[-1]["id"], "decoding": "membrane_sum"},
                  surrogate={"kind": "fast_sigmoid", "slope": SLOPE}, seed=seed)
    model = build_model(ir, multi_step=mode != "timestep")
    gen = torch.Generator().manual_seed(7)
    x = (torch.rand(T, B, pops[0]["size"], generator=gen) < 0.5).float()

    r = model(x)
    theirs_w = {k: (model.effective_weight(k[7:]) if k.startswith("weight.") else v).detach().clone().requires_grad_()
                for k, v in model.weights().items()}
    spikes, mem, syn, overflow, masks = oracle(ir, theirs_w, x)

    coeffs = {f"{kind}.{k}": torch.randn(v.shape, generator=gen)
              for kind, rec in (("spikes", spikes), ("mem", mem)) for k, v in rec.items() if k != "x"}
    loss = lambda s, m: sum((s[k] * coeffs[f"spikes.{k}"]).sum() for k in s if k != "x") + sum(  # noqa: E731
        (m[k] * coeffs[f"mem.{k}"]).sum() for k in m)
    loss(r.spikes, r.mem).backward()
    loss(spikes, mem).backward()

    rates = {k: float(v.detach().mean()) for k, v in spikes.items() if k != "x"}
    assert all(0.02 < v < 0.9 for v in rates.values()), rates  # the comparison exercises resets and lists
    for name, ours, ref in (("spikes", r.spikes, spikes), ("overflow", r.overflow, overflow),
                            ("grad_mask", r.grad_mask, masks)):
        assert set(ours) == set(ref), name
        for k in ref:
            assert torch.equal(ours[k].detach(), ref[k].detach()), f"{name}.{k}"
    for name, ours, ref in (("mem", r.mem, mem), ("syn", r.syn, syn)):
        assert set(ours) == set(ref), name
        for k in ref:
            torch.testing.assert_close(ours[k].detach(), ref[k].detach(), rtol=1e-6, atol=1e-6, msg=f"{name}.{k}")
    for name, p in model.weights().items():
        theirs = theirs_w[name].grad
        mask = getattr(model, f"mask_{name[7:]}", None) if name.startswith("weight.") else None
        if mask is not None:
            theirs = theirs * mask
        assert _grad_err(p.grad, theirs) <= 1e-5, name
    if case == "lists":
        assert int(r.overflow["x"].sum()) > 0 and int(r.overflow["h"].sum()) > 0


def test_membranes_bit_identical_to_the_timestep_update(build_ir):
    """The fused update evaluates the per-timestep expressions in their order: for the
    same currents, the same float32 membranes (and so the same spikes) as SNN._update."""
    pops, projs = FEED_FORWARD
    ir = build_ir(pops, projs, timesteps=T, readout={"population": "o", "decoding": "membrane_sum"})
    model = build_model(ir)
    x = (torch.rand(T, B, 8, generator=torch.Generator().manual_seed(2)) < 0.5).float()
    with torch.no_grad():
        r = model(x)
        for pop in [ir.population(p) for p in ("a", "b", "c", "o")]:
            current = sum(model._projection_current(proj, r.spikes) for proj in ir.incoming(pop.id))
            recs = tuple({pop.id: []} for _ in range(5))
            st = {"mem": torch.zeros(B, pop.size), "syn": torch.zeros(B, pop.size)}
            for t in range(T):
                model._update(pop, st, current[t], recs)
            assert torch.equal(torch.stack(recs[1][pop.id]), r.mem[pop.id]), pop.id
            if pop.spikes:
                assert torch.equal(torch.stack(recs[0][pop.id]), r.spikes[pop.id]), pop.id
