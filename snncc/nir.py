"""NIR import and export (the Neuromorphic Intermediate Representation, `pip install nir`).

Import (`import_graph`): a NIR graph becomes a spec document plus an arrays file.

- Nested NIRGraph nodes (snnTorch's RLeaky/RSynaptic subgraphs) are flattened; their
  inner Input/Output nodes are pass-throughs. The top-level Input is the input
  population; the node feeding the Output is the readout population.
- Every path from a spike source (the Input, or a spiking neuron node) through
  Affine, Linear, Scale and Delay nodes to a neuron node is one projection; its linear
  maps are multiplied out into one weight matrix (and bias), its Delay nodes summed into
  a delay in timesteps (delay seconds / dt, which must be whole). A path that closes a
  cycle without a Delay node gets snncc's default for recurrent projections, delay 1
  (the previous step's spikes, as snnTorch's RLeaky and every NIR reader do).
- Neuron nodes become populations with per-neuron parameters. With the step dt:
  beta = 1 - dt/tau (euler) or exp(-dt/tau) (exact); the input factor of the continuous
  equation tau dv/dt = (v_leak - v) + r I, c = r dt/tau (euler) or r (1 - beta) (exact),
  is folded into the incoming weights and biases (per target neuron), so that
  U[t] = beta U[t-1] + I[t] holds exactly. CubaLIF: alpha from tau_syn likewise, its
  input factor w_in dt/tau_syn (euler) or w_in (1 - alpha) (exact) under the snnTorch
  convention, w_in under the Norse convention (Norse's LIFCell adds the input current as
  a jump). IF: beta = 1, c = r. LI: a leaky integrator. v_leak and v_reset must be 0.
- What a NIR file does not say comes from options: dt, discretisation, reset, timesteps.

Export (`export_graph`): populations and projections as NIR nodes, in snnTorch's
convention: LIF(tau = dt/(1 - beta), r = tau/dt, v_leak = 0, v_threshold, v_reset = 0),
CubaLIF with w_in = tau_syn/dt, LI, IF(r = 1); projections as Affine (bias) or Linear
with weight [target, source], a Delay node (delay x dt seconds) where a delay is not
the implicit one of a recurrent projection.
"""

from __future__ import annotations

import io
import json
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import UserError

#: snnTorch's NIR export and import assume this step (seconds).
SNNTORCH_DT = 1e-4
#: Norse 1.1's to_nir(dt=0.001) writes tau = dt / tau_mem_inv, i.e. dt x tau: the step that
#: reproduces Norse's dynamics from such a file is dt^2.
NORSE_DT = 1e-6

NEURON_TYPES = ("LIF", "CubaLIF", "IF", "LI")
SYNAPSE_TYPES = ("Affine", "Linear", "Scale", "Delay")


class NIRError(UserError):
    """A NIR file snncc cannot read or convert: one line for the user."""


@dataclass(frozen=True)
class ImportOptions:
    dt: float | None = None  # None: the convention's default
    discretisation: str = "euler"
    reset: str | None = None  # None: the convention's default
    name: str = "imported"
    timesteps: int = 100
    convention: str = "snntorch"  # or "norse"

    @property
    def step(self) -> float:
        if self.dt is not None:
            return self.dt
        return NORSE_DT if self.convention == "norse" else SNNTORCH_DT

    @property
    def reset_mode(self) -> str:
        if self.reset is not None:
            return self.reset
        return "zero" if self.convention == "norse" else "subtract"


@dataclass
class Imported:
    document: dict
    arrays: dict[str, np.ndarray]
    notes: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- reading


def read_graph(path: str | Path):
    """A NIR file as a NIRGraph; a one-line NIRError when it is not one."""
    import nir

    path = Path(path)
    if not path.is_file():
        raise NIRError(f"{path}: no such file")
    try:
        import h5py

        if not h5py.is_hdf5(path):
            raise NIRError(f"{path}: not a NIR file (not HDF5)")
        graph = nir.read(str(path), type_check=False)  # snncc checks the shapes it uses itself
    except NIRError:
        raise
    except Exception as exc:  # nir raises KeyError, ValueError, TypeError ... on malformed files
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise NIRError(f"{path}: malformed NIR file ({type(exc).__name__}{': ' + detail if detail else ''})") from None
    if type(graph).__name__ != "NIRGraph":
        raise NIRError(f"{path}: the file holds a single {type(graph).__name__} node, not a NIR graph")
    return graph


def _flatten(graph, prefix: str = ""):
    """Nodes and edges of a graph with nested NIRGraphs inlined.

    Returns (nodes {name: node}, edges [(a, b)], passthrough {names}): the Input and
    Output nodes of nested graphs are pass-throughs."""
    nodes, edges, passthrough = {}, [], set()
    ins: dict[str, list[str]] = {}
    outs: dict[str, list[str]] = {}
    for name, node in graph.nodes.items():
        full = prefix + name
        if type(node).__name__ == "NIRGraph":
            sub_nodes, sub_edges, sub_pass = _flatten(node, full + ".")
            nodes.update(sub_nodes)
            edges += sub_edges
            passthrough |= sub_pass
            ins[full] = [full + "." + k for k, v in node.nodes.items() if type(v).__name__ == "Input"]
            outs[full] = [full + "." + k for k, v in node.nodes.items() if type(v).__name__ == "Output"]
            passthrough |= set(ins[full]) | set(outs[full])
        else:
            nodes[full] = node
    for a, b in graph.edges:
        for src in outs.get(prefix + a, [prefix + a]):
            for dst in ins.get(prefix + b, [prefix + b]):
                edges.append((src, dst))
    return nodes, edges, passthrough


def _vector(node, name: str, attr: str) -> np.ndarray:
    value = getattr(node, attr, None)
    if value is None:
        raise NIRError(f"node '{name}' ({type(node).__name__}): missing parameter '{attr}'")
    try:
        return np.asarray(value, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        raise NIRError(f"node '{name}' ({type(node).__name__}): parameter '{attr}' is not numeric") from None


def _identifier(name: str, used: set[str], prefix: str) -> str:
    base = re.sub(r"[^A-Za-z0-9_]", "_", name)
    if not re.match(r"[A-Za-z_]", base):
        base = f"{prefix}{base}"
    base = base[:56] or prefix
    ident, i = base, 2
    while ident in used:
        ident, i = f"{base}_{i}", i + 1
    used.add(ident)
    return ident


# --------------------------------------------------------------------------- import


@dataclass
class _Neuron:
    name: str  # NIR node name
    kind: str
    size: int
    model: str
    beta: np.ndarray | None = None
    alpha: np.ndarray | None = None
    threshold: np.ndarray | None = None
    factor: np.ndarray | None = None  # input factor folded into incoming weights


def _neuron(name: str, node, opt: ImportOptions) -> _Neuron:
    kind = type(node).__name__
    dt = opt.step
    exact = opt.discretisation == "exact"

    def decay(tau: np.ndarray, what: str) -> np.ndarray:
        if (tau <= 0).any() or np.isnan(tau).any():
            raise NIRError(f"node '{name}' ({kind}): {what} must be > 0")
        if exact:
            return np.exp(-dt / tau)
        if (dt > tau).any():
            raise NIRError(
                f"node '{name}' ({kind}): dt = {dt:g} s exceeds {what} = {tau.min():g} s, so Euler's 1 - dt/{what} "
                "is negative; pass a smaller --dt or --discretisation exact")
        return 1.0 - dt / tau

    def ratio(num: np.ndarray, tau: np.ndarray) -> np.ndarray:
        # num * dt / tau; snnTorch writes r = tau/dt, which is inf/inf for beta = 1: take it as 1
        out = np.where(np.isinf(num) & np.isinf(tau), 1.0, num * dt / np.where(np.isinf(tau), 1.0, tau))
        return np.where(np.isinf(tau) & ~np.isinf(num), 0.0, out)

    def no_leak_reset(spiking: bool) -> None:
        if kind != "IF" and not np.allclose(_vector(node, name, "v_leak"), 0.0):
            raise NIRError(f"node '{name}' ({kind}): v_leak must be 0 (snncc's neurons leak towards 0)")
        reset = getattr(node, "v_reset", None)
        if spiking and reset is not None and not np.allclose(np.asarray(reset, dtype=np.float64), 0.0):
            raise NIRError(f"node '{name}' ({kind}): v_reset must be 0 (snncc resets to 0 or subtracts the threshold)")

    if kind == "LIF":
        no_leak_reset(True)
        tau, r = _vector(node, name, "tau"), _vector(node, name, "r")
        beta = decay(tau, "tau")
        factor = r * (1.0 - beta) if exact else ratio(r, tau)
        theta = _vector(node, name, "v_threshold")
        size = max(len(tau), len(r), len(theta))
        return _Neuron(name, kind, size, "lif", beta=beta, threshold=theta, factor=factor)
    if kind == "CubaLIF":
        no_leak_reset(True)
        tau_mem, tau_syn = _vector(node, name, "tau_mem"), _vector(node, name, "tau_syn")
        r, w_in = _vector(node, name, "r"), _vector(node, name, "w_in")
        beta, alpha = decay(tau_mem, "tau_mem"), decay(tau_syn, "tau_syn")
        mem_factor = r * (1.0 - beta) if exact else ratio(r, tau_mem)
        if opt.convention == "norse":
            syn_factor = w_in
        else:
            syn_factor = w_in * (1.0 - alpha) if exact else ratio(w_in, tau_syn)
        theta = _vector(node, name, "v_threshold")
        size = max(len(tau_mem), len(tau_syn), len(r), len(theta), len(w_in))
        return _Neuron(name, kind, size, "cuba_lif", beta=beta, alpha=alpha, threshold=theta,
                       factor=mem_factor * syn_factor)
    if kind == "IF":
        no_leak_reset(True)
        r, theta = _vector(node, name, "r"), _vector(node, name, "v_threshold")
        return _Neuron(name, kind, max(len(r), len(theta)), "if", threshold=theta, factor=r)
    if kind == "LI":
        no_leak_reset(False)
        tau, r = _vector(node, name, "tau"), _vector(node, name, "r")
        beta = decay(tau, "tau")
        factor = r * (1.0 - beta) if exact else ratio(r, tau)
        return _Neuron(name, kind, max(len(tau), len(r)), "li", beta=beta, factor=factor)
    raise NIRError(f"node '{name}' has the unsupported type {kind}")  # not reached


def _unsupported(name: str, node) -> NIRError:
    kind = type(node).__name__
    hint = {
        "CubaLI": "snncc has no current-based leaky integrator yet",
        "Threshold": "a threshold without a membrane has no snncc population",
        "I": "a pure integrator without threshold has no snncc population",
    }.get(kind, "snncc supports Input, Output, Affine, Linear, Scale, Delay, LIF, CubaLIF, IF, LI and "
          "recurrent subgraphs")
    return NIRError(f"node '{name}' has the unsupported type {kind} ({hint})")


def spec_limit(model, field: str) -> int:
    """The upper bound (le) of an integer field of the spec's schema, e.g. a population's size."""
    for rule in model.model_fields[field].metadata:
        if getattr(rule, "le", None) is not None:
            return int(rule.le)
    raise LookupError(f"{model.__name__}.{field} has no upper bound")


def _check_population_size(name: str, kind: str, size: int) -> None:
    from .spec.models import NeuronPopulation

    limit = spec_limit(NeuronPopulation, "size")
    if size > limit:
        raise NIRError(f"node '{name}' ({kind}) has {size:,} neurons; a population has at most {limit:,} (2^24)")


def _check_weight_memory(source: str, target: str, n_in: int, n_out: int) -> None:
    """Before a [n_out, n_in] matrix is made: float64 while folding, float32 in the arrays file,
    float64 again when the import is validated."""
    from .data.npzfile import memory_problem

    message = memory_problem(n_in * n_out * (8 + 4 + 8), f"the weights from '{source}' to '{target}' "
                             f"({n_in:,} x {n_out:,})")
    if message is not None:
        raise NIRError(message)


def import_graph(graph, opt: ImportOptions) -> Imported:
    """The spec document and arrays of a NIR graph (see the module docstring)."""
    nodes, edges, passthrough = _flatten(graph)
    for name, node in nodes.items():
        kind = type(node).__name__
        if name not in passthrough and kind not in NEURON_TYPES + SYNAPSE_TYPES + ("Input", "Output"):
            raise _unsupported(name, node)
    for a, b in edges:
        for end in (a, b):
            if end not in nodes:
                raise NIRError(f"edge ({a}, {b}) names the unknown node '{end}'")
    # collapse the pass-throughs
    succ: dict[str, set[str]] = {n: set() for n in nodes}
    pred: dict[str, set[str]] = {n: set() for n in nodes}
    for a, b in edges:
        succ[a].add(b)
        pred[b].add(a)
    for p in sorted(passthrough):
        for a in pred[p]:
            succ[a].discard(p)
            succ[a] |= succ[p] - {p}
        for b in succ[p]:
            pred[b].discard(p)
            pred[b] |= pred[p] - {p}
        del succ[p], pred[p], nodes[p]
    kinds = {n: type(v).__name__ for n, v in nodes.items()}
    inputs = sorted(n for n, k in kinds.items() if k == "Input")
    outputs = sorted(n for n, k in kinds.items() if k == "Output")
    if len(inputs) != 1:
        raise NIRError(f"the graph has {len(inputs)} Input nodes; snncc needs exactly one (a single input population)")
    if len(outputs) != 1:
        raise NIRError(f"the graph has {len(outputs)} Output nodes; snncc needs exactly one (the readout)")
    input_name, output_name = inputs[0], outputs[0]
    input_type = getattr(nodes[input_name], "input_type", None) or {}
    shapes = [np.asarray(v).reshape(-1) for v in input_type.values()] if isinstance(input_type, dict) else []
    if not shapes or shapes[0].size == 0:
        raise NIRError(f"node '{input_name}' (Input): no input shape")
    input_size = int(np.prod(shapes[0].astype(object)))  # object: no int64 overflow on forged shapes
    _check_population_size(input_name, "Input", input_size)

    neurons = {n: _neuron(n, nodes[n], opt) for n in sorted(nodes) if kinds[n] in NEURON_TYPES}

    # projections: every path source -> synapse nodes -> neuron (or Output)
    dt = opt.step
    paths = []  # (source, target, M [out, in] | None, bias | None, delay_s, names)
    readout = None

    def walk(source: str, node: str, m, bias, delay_s: float, via: tuple[str, ...]):
        for nxt in sorted(succ[node]):
            kind = kinds[nxt]
            if kind in NEURON_TYPES:
                paths.append((source, nxt, m, bias, delay_s, via))
            elif kind == "Output":
                nonlocal readout
                if via:
                    raise NIRError(f"the Output node '{nxt}' is fed through node '{via[-1]}' ({kinds[via[-1]]}); "
                                   "snncc's readout is a neuron population, so the Output must follow a neuron node")
                if source == input_name:
                    raise NIRError(f"the Output node '{nxt}' is fed by the Input directly; it must follow a neuron node")
                readout = source
            elif kind == "Input":
                raise NIRError(f"node '{nxt}' (Input) has an incoming edge")
            else:
                if nxt in via:
                    raise NIRError(f"nodes {', '.join(via)} form a cycle without a neuron node")
                obj = nodes[nxt]
                m2, b2, d2 = m, bias, delay_s
                if kind in ("Affine", "Linear"):
                    w = np.asarray(obj.weight, dtype=np.float64)
                    if w.ndim != 2:
                        raise NIRError(f"node '{nxt}' ({kind}): weight has shape {list(w.shape)}, expected [out, in]")
                    if m2 is not None and w.shape[1] != m2.shape[0]:
                        raise NIRError(f"node '{nxt}' ({kind}): weight has {w.shape[1]} inputs, it receives {m2.shape[0]}")
                    m2 = w if m2 is None else w @ m2
                    b2 = None if b2 is None else w @ b2
                    if kind == "Affine" and getattr(obj, "bias", None) is not None:
                        nb = np.asarray(obj.bias, dtype=np.float64).reshape(-1)
                        b2 = nb if b2 is None else b2 + nb
                elif kind == "Scale":
                    s = np.asarray(obj.scale, dtype=np.float64).reshape(-1)
                    if m2 is None:
                        _check_weight_memory(source, nxt, s.size, s.size)  # np.diag: [n, n]
                    m2 = np.diag(s) if m2 is None else s[:, None] * m2
                    b2 = None if b2 is None else s * b2
                else:  # Delay
                    d = np.asarray(obj.delay, dtype=np.float64).reshape(-1)
                    if d.size and not np.allclose(d, d[0]):
                        raise NIRError(f"node '{nxt}' (Delay): per-neuron delays differ; snncc has one delay per projection")
                    d2 = delay_s + (float(d[0]) if d.size else 0.0)
                walk(source, nxt, m2, b2, d2, via + (nxt,))

    walk(input_name, input_name, None, None, 0.0, ())
    for n in neurons:
        if neurons[n].model != "li":
            walk(n, n, None, None, 0.0, ())
        elif any(kinds[s] != "Output" for s in succ[n]):
            raise NIRError(f"node '{n}' (LI) emits no spikes, so nothing can follow it but the Output")
    if readout is None:
        raise NIRError(f"the Output node '{output_name}' is not fed by a neuron node")

    # ids, in order of distance from the input
    order, seen, frontier = [], {input_name}, [input_name]
    while frontier:
        nxt_frontier = []
        for n in frontier:
            for s, t, *_ in paths:
                if s == n and t not in seen:
                    seen.add(t)
                    order.append(t)
                    nxt_frontier.append(t)
        frontier = nxt_frontier
    order += sorted(n for n in neurons if n not in seen)
    used: set[str] = set()
    pid = {input_name: _identifier(input_name, used, "in_")}
    for n in order:
        pid[n] = _identifier(n, used, "pop_")

    arrays: dict[str, np.ndarray] = {}
    notes: list[str] = []
    reset = opt.reset_mode
    sizes = {input_name: input_size}
    populations = [{"kind": "input", "id": pid[input_name], "size": input_size}]

    def param(pop_id: str, what: str, values: np.ndarray):
        if np.all(values == values[0]):
            return float(values[0])
        arrays[f"{pop_id}.{what}"] = values.astype(np.float32)
        return {"array": f"{pop_id}.{what}"}

    for n in order:
        nr = neurons[n]
        size = nr.size
        _check_population_size(n, nr.kind, size)
        for attr in ("beta", "alpha", "threshold", "factor"):
            v = getattr(nr, attr)
            if v is not None:
                if v.size not in (1, size):
                    raise NIRError(f"node '{n}' ({nr.kind}): parameters of different sizes ({v.size} and {size})")
                if not np.isfinite(v).all() and attr != "factor":  # factor: caught in the weights it scales
                    raise NIRError(f"node '{n}' ({nr.kind}): its {attr} holds NaN or infinite values")
                setattr(nr, attr, np.broadcast_to(v, (size,)).astype(np.float64))
        if nr.threshold is not None and (nr.threshold <= 0).any():
            raise NIRError(f"node '{n}' ({nr.kind}): v_threshold must be > 0")
        sizes[n] = size
        p = pid[n]
        neuron: dict = {"model": nr.model}
        if nr.beta is not None:
            neuron["beta"] = param(p, "beta", nr.beta)
        if nr.alpha is not None:
            neuron["alpha"] = param(p, "alpha", nr.alpha)
        if nr.threshold is not None:
            neuron["threshold"] = param(p, "threshold", nr.threshold)
            neuron["reset"] = reset
        populations.append({"kind": "neuron", "id": p, "size": size, "neuron": neuron,
                            "description": f"NIR node '{n}' ({nr.kind})"})

    projections = []
    for source, target, m, bias, delay_s, via in sorted(paths, key=lambda x: (order.index(x[1]), x[0] != input_name, x[5])):
        n_in, n_out = sizes[source], sizes[target]
        if m is None:
            if n_in != n_out:
                raise NIRError(f"'{source}' ({n_in} neurons) feeds '{target}' ({n_out} neurons) without a weight")
            _check_weight_memory(source, target, n_in, n_out)
            m = np.eye(n_out)
        if m.shape != (n_out, n_in):
            raise NIRError(f"the weights from '{source}' to '{target}' have shape {list(m.shape)}, "
                           f"expected [{n_out}, {n_in}]")
        _check_weight_memory(source, target, n_in, n_out)
        factor = neurons[target].factor
        weight = (m * factor[:, None]).T.astype(np.float32)  # [source, target]
        nodes_named = f" (NIR nodes {' -> '.join(via)})" if via else ""
        if not np.isfinite(weight).all():
            raise NIRError(f"the weights from '{source}' to '{target}'{nodes_named} hold NaN or infinite values "
                           "(or values beyond float32, or a neuron's r or w_in is NaN)")
        name = via[-1] if via else f"{source}_{target}"
        proj_id = _identifier(name, used, "w_")
        arrays[f"{proj_id}.weight"] = weight
        proj: dict = {"id": proj_id, "source": pid[source], "target": pid[target],
                      "initial_weights": {"array": f"{proj_id}.weight"}}
        if bias is not None and not np.isfinite((bias * factor).astype(np.float32)).all():
            raise NIRError(f"the bias into '{target}'{nodes_named} holds NaN or infinite values")
        if bias is not None and np.any(bias != 0):
            arrays[f"{proj_id}.bias"] = (bias * factor).astype(np.float32)
            proj["initial_bias"] = {"array": f"{proj_id}.bias"}
        else:
            proj["bias"] = False
            if bias is not None:
                notes.append(f"projection '{proj_id}': the NIR bias is all zero, imported without a bias")
        steps = delay_s / dt
        if abs(steps - round(steps)) > 1e-6 * max(1.0, abs(steps)) or steps < 0:
            raise NIRError(f"the delay of {delay_s:g} s into '{target}' is not a whole number of steps of dt = {dt:g} s")
        if round(steps):
            proj["delay"] = int(round(steps))
        if via:
            proj["description"] = "NIR nodes " + " -> ".join(via)
        projections.append(proj)

    ro = pid[readout]
    ro_size = sizes[readout]
    if ro_size < 2:
        raise NIRError(f"the readout '{readout}' has {ro_size} neuron; snncc trains classifiers with at least 2 classes")
    decoding = "membrane_sum" if neurons[readout].model == "li" else "spike_count"
    document = {
        "name": opt.name,
        "description": (f"Imported from NIR by snncc import-nir ({opt.convention} convention, dt = {dt:g} s, "
                        f"{opt.discretisation}, reset {reset}). The data block is synthetic: replace it."),
        "timesteps": opt.timesteps,
        "dt": dt,
        "discretisation": opt.discretisation,
        "populations": populations,
        "projections": projections,
        "readout": {"population": ro, "decoding": decoding},
        "data": {"kind": "synthetic", "num_classes": ro_size, "num_samples": 200,
                 "spikes_per_step": max(1.0, round(0.05 * input_size, 3))},
    }
    return Imported(document, arrays, notes)


def assumptions(opt: ImportOptions) -> list[str]:
    """What the import assumed that a NIR file does not say, for the user."""
    dt_src = "--dt" if opt.dt is not None else (
        "default: Norse 1.1's to_nir(dt=1e-3) writes tau = dt x tau, so its dynamics need dt = 1e-3^2"
        if opt.convention == "norse" else "default: snnTorch's NIR export assumes dt = 1e-4 s")
    reset_src = "--reset" if opt.reset is not None else (
        "default: Norse's LIF cells reset to v_reset in the step they spike, which is snncc's 'zero'"
        if opt.convention == "norse" else
        "default: snnTorch's Leaky subtracts the threshold; its NIR export writes v_reset = 0 for every "
        "reset mechanism, so the file cannot tell: pass --reset zero for NIR's reset-to-value")
    return [
        f"dt = {opt.step:g} s ({dt_src})",
        f"discretisation = {opt.discretisation}" + (" (default, as snnTorch's and Norse's exporters)"
                                                     if opt.discretisation == "euler" else ""),
        f"reset = {opt.reset_mode} ({reset_src})",
        f"convention = {opt.convention}",
        f"timesteps = {opt.timesteps} (NIR has none; --timesteps)",
    ]


def validate_import(imported: Imported, out: str | Path, source: str | Path) -> None:
    """Check the imported model as snncc validate would check the files write_import writes,
    before anything is written: the arrays file goes to a temporary directory only. A NIR
    file whose model fails the checks gives a NIRError naming the first problem."""
    import tempfile

    from .fsutil import import_output_paths
    from .spec import SpecError, parse_spec

    model_path, arrays_path = import_output_paths(out)
    document = {**imported.document, "arrays": arrays_path.name}
    with tempfile.TemporaryDirectory(prefix="snncc-import-") as tmp:
        np.savez(Path(tmp) / arrays_path.name, **imported.arrays)
        try:
            parse_spec(json.dumps(document, indent=2), str(model_path), Path(tmp))
        except SpecError as exc:
            first = exc.problems[0]
            more = f" (and {len(exc.problems) - 1} more)" if len(exc.problems) > 1 else ""
            raise NIRError(f"{source}: the imported model would not be valid, nothing written: "
                           f"{first.pointer or '/'}: {first.message}{more}") from None


def write_import(imported: Imported, out: str | Path) -> tuple[Path, Path]:
    """Write the model file and its arrays file beside it (each atomically); returns both paths."""
    from .fsutil import import_output_paths, write_bytes_atomic, write_errors, write_text_atomic
    from .resources import resource_dir

    out, arrays_path = import_output_paths(out)
    doc = dict(imported.document)
    try:
        schema = resource_dir("schemas") / "snncc-model.schema.json"
        rel = os.path.relpath(schema, out.resolve().parent)
        doc = {"$schema": Path(rel).as_posix(), **doc}
    except (FileNotFoundError, ValueError):
        pass
    doc["arrays"] = arrays_path.name
    keys = ["$schema", "name", "description", "timesteps", "dt", "discretisation", "arrays"]
    ordered = {k: doc[k] for k in keys if k in doc}
    ordered.update({k: v for k, v in doc.items() if k not in ordered})
    buf = io.BytesIO()
    np.savez(buf, **imported.arrays)
    with write_errors(arrays_path, ""):
        write_bytes_atomic(arrays_path, buf.getvalue())
    with write_errors(out, ""):
        write_text_atomic(out, json.dumps(ordered, indent=2) + "\n")
    return out, arrays_path


# --------------------------------------------------------------------------- export


def export_graph(ir, weights: dict[str, np.ndarray], dt: float | None = None):
    """A NIRGraph of a model's IR with the given weights ('weight.<p>' [in, out], 'bias.<p>').

    Returns (graph, notes)."""
    import nir

    dt = dt or ir.settings.dt or SNNTORCH_DT
    # the time constants are written as float32: a dt outside its normal range makes them 0 or inf, r NaN
    f32 = np.finfo(np.float32)
    if not (math.isfinite(dt) and float(f32.tiny) <= dt <= float(f32.max)):
        raise NIRError(f"dt = {dt:g} s cannot be written as NIR's float32 time constants "
                       f"(it must lie in [{float(f32.tiny):g}, {float(f32.max):g}] s)")
    notes: list[str] = []
    nodes: dict = {}
    edges: list[tuple[str, str]] = []
    pops = ir.populations
    inp = next(p for p in pops if p.kind == "input")
    nodes[inp.id] = nir.Input(input_type={"input": np.array([inp.size])})

    def vec(value, size):
        return np.broadcast_to(np.asarray(value, dtype=np.float64), (size,)).astype(np.float32)

    def tau_of(decay, size):
        d = vec(decay, size).astype(np.float64)
        with np.errstate(divide="ignore"):
            return (dt / (1.0 - d)).astype(np.float32)

    for p in pops:
        if p.kind == "input":
            continue
        n = p.size
        zeros = np.zeros(n, dtype=np.float32)
        if p.model in ("lif", "li"):
            tau = tau_of(p.beta, n)
            r = (tau / np.float32(dt)).astype(np.float32)
            if p.model == "lif":
                nodes[p.id] = nir.LIF(tau=tau, r=r, v_leak=zeros, v_threshold=vec(p.threshold, n), v_reset=zeros)
            else:
                nodes[p.id] = nir.LI(tau=tau, r=r, v_leak=zeros)
        elif p.model == "cuba_lif":
            tau_mem, tau_syn = tau_of(p.beta, n), tau_of(p.alpha, n)
            nodes[p.id] = nir.CubaLIF(tau_syn=tau_syn, tau_mem=tau_mem, r=(tau_mem / np.float32(dt)).astype(np.float32),
                                      v_leak=zeros, v_threshold=vec(p.threshold, n), v_reset=zeros,
                                      w_in=(tau_syn / np.float32(dt)).astype(np.float32))
        else:  # if
            nodes[p.id] = nir.IF(r=np.ones(n, dtype=np.float32), v_threshold=vec(p.threshold, n), v_reset=zeros)
        if p.spikes and p.reset != "zero":
            notes.append(f"population '{p.id}' resets by '{p.reset}'; NIR's neurons reset to v_reset = 0, "
                         "which readers such as snnTorch's import_from_nir run as snncc's 'zero' "
                         "(snncc import-nir --reset subtract restores it)")
    for proj in ir.projections:
        w = np.asarray(weights[f"weight.{proj.id}"], dtype=np.float32).T  # [out, in]
        if proj.bias:
            nodes[proj.id] = nir.Affine(weight=w, bias=np.asarray(weights[f"bias.{proj.id}"], dtype=np.float32))
        else:
            nodes[proj.id] = nir.Linear(weight=w)
        src = proj.source
        # a recurrent projection's delay 1 is the cycle's implicit one; any other delay is a Delay node
        explicit = 0 if (proj.recurrent and proj.delay == 1) else proj.delay
        if explicit:
            did = f"{proj.id}_delay"
            nodes[did] = nir.Delay(delay=np.full(ir.population(src).size, explicit * dt, dtype=np.float32))
            edges.append((src, did))
            src = did
        edges.append((src, proj.id))
        edges.append((proj.id, proj.target))
    # the Output node's name must not be a population's or a projection's ("output" often is)
    out_id = next(name for name in ("output", *(f"output_{i}" for i in range(len(nodes) + 1))) if name not in nodes)
    nodes[out_id] = nir.Output(output_type={"output": np.array([ir.population(ir.settings.readout.population).size])})
    edges.append((ir.settings.readout.population, out_id))
    for name, node in nodes.items():
        for attr, value in vars(node).items():
            if isinstance(value, np.ndarray) and value.dtype.kind == "f" and np.isnan(value).any():
                raise NIRError(f"node '{name}': {attr} would hold NaN (weights or parameters of the model are NaN, "
                               f"or dt = {dt:g} s is out of range for them)")
    graph = nir.NIRGraph(nodes=nodes, edges=edges)
    try:
        graph.infer_types()
    except Exception:  # type inference is advisory; readers do not need it
        pass
    return graph, notes


def write_export(graph, out: str | Path) -> None:
    """Write a NIRGraph to out atomically (nir.write to a temporary file, then rename)."""
    import tempfile

    import nir

    from .fsutil import write_errors

    out = Path(out)
    with write_errors(out, ""):
        out.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp")
        os.close(fd)
        try:
            nir.write(tmp, graph)
            os.replace(tmp, out)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
