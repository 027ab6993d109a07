"""A NIR graph as a spec document and its arrays (`snncc import-nir`).

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
- The node feeding the Output is the readout population.
- What a NIR file does not say comes from options: dt, discretisation, reset, timesteps.
"""

from __future__ import annotations

import io
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .graph import NORSE_DT, SNNTORCH_DT, FlatGraph, NIRError, flat_graph, neuron_classes


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


def import_graph(graph, opt: ImportOptions) -> Imported:
    """The spec document and arrays of a NIR graph (see the module docstring)."""
    flat = flat_graph(graph)
    _check_population_size(flat.input, "Input", flat.input_size)
    neurons = {n: _neuron(n, flat.nodes[n], opt) for n in sorted(flat.nodes) if flat.is_neuron(n)}
    paths, readout = _projection_paths(flat, neurons)
    order = _population_order(flat.input, neurons, paths)
    ids = _Identifiers()
    pid = {flat.input: ids.take(flat.input, "in_")}
    for n in order:
        pid[n] = ids.take(n, "pop_")
    arrays: dict[str, np.ndarray] = {}
    notes: list[str] = []
    populations = [{"kind": "input", "id": pid[flat.input], "size": flat.input_size}]
    for n in order:
        populations.append(_population(neurons[n], pid[n], opt.reset_mode, arrays))
    sizes = {flat.input: flat.input_size, **{n: neurons[n].size for n in order}}
    projections = [_projection(path, sizes, neurons[path.target].factor, pid, ids, opt.step, arrays, notes)
                   for path in sorted(paths, key=lambda p: (order.index(p.target), p.source != flat.input, p.via))]
    if sizes[readout] < 2:
        raise NIRError(f"the readout '{readout}' has {sizes[readout]} neuron; "
                       "snncc trains classifiers with at least 2 classes")
    decoding = "membrane_sum" if neurons[readout].model == "li" else "spike_count"
    document = _document(opt, populations, projections, {"population": pid[readout], "decoding": decoding},
                         num_inputs=flat.input_size, num_classes=sizes[readout])
    return Imported(document, arrays, notes)


# --------------------------------------------------------------------------- neurons


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


@dataclass(frozen=True)
class _NeuronNode:
    """A NIR neuron node being converted: its parameters read and checked, its time
    constants turned into decays with the import's step."""

    name: str
    node: object
    opt: ImportOptions

    @property
    def kind(self) -> str:
        return type(self.node).__name__

    def vector(self, attr: str) -> np.ndarray:
        value = getattr(self.node, attr, None)
        if value is None:
            raise NIRError(f"node '{self.name}' ({self.kind}): missing parameter '{attr}'")
        try:
            return np.asarray(value, dtype=np.float64).reshape(-1)
        except (TypeError, ValueError):
            raise NIRError(f"node '{self.name}' ({self.kind}): parameter '{attr}' is not numeric") from None

    def decay(self, tau: np.ndarray, what: str) -> np.ndarray:
        dt = self.opt.step
        if (tau <= 0).any() or np.isnan(tau).any():
            raise NIRError(f"node '{self.name}' ({self.kind}): {what} must be > 0")
        if self.exact:
            return np.exp(-dt / tau)
        if (dt > tau).any():
            raise NIRError(
                f"node '{self.name}' ({self.kind}): dt = {dt:g} s exceeds {what} = {tau.min():g} s, so Euler's "
                f"1 - dt/{what} is negative; pass a smaller --dt or --discretisation exact")
        return 1.0 - dt / tau

    @property
    def exact(self) -> bool:
        return self.opt.discretisation == "exact"

    def input_factor(self, gain: np.ndarray, tau: np.ndarray, decay: np.ndarray) -> np.ndarray:
        """The factor of gain x input in one step of tau dv/dt = -v + gain I."""
        return gain * (1.0 - decay) if self.exact else self.ratio(gain, tau)

    def ratio(self, num: np.ndarray, tau: np.ndarray) -> np.ndarray:
        # num * dt / tau; snnTorch writes r = tau/dt, which is inf/inf for beta = 1: take it as 1
        dt = self.opt.step
        out = np.where(np.isinf(num) & np.isinf(tau), 1.0, num * dt / np.where(np.isinf(tau), 1.0, tau))
        return np.where(np.isinf(tau) & ~np.isinf(num), 0.0, out)

    def check_rest(self, leak: bool, reset: bool) -> None:
        """snncc's neurons leak towards 0 and reset to 0 (or subtract the threshold)."""
        if leak and not np.allclose(self.vector("v_leak"), 0.0):
            raise NIRError(f"node '{self.name}' ({self.kind}): v_leak must be 0 (snncc's neurons leak towards 0)")
        v_reset = getattr(self.node, "v_reset", None)
        if reset and v_reset is not None and not np.allclose(np.asarray(v_reset, dtype=np.float64), 0.0):
            raise NIRError(f"node '{self.name}' ({self.kind}): v_reset must be 0 "
                           "(snncc resets to 0 or subtracts the threshold)")


def _lif(p: _NeuronNode) -> _Neuron:
    p.check_rest(leak=True, reset=True)
    tau, r = p.vector("tau"), p.vector("r")
    beta = p.decay(tau, "tau")
    factor = p.input_factor(r, tau, beta)
    theta = p.vector("v_threshold")
    return _Neuron(p.name, p.kind, max(len(tau), len(r), len(theta)), "lif", beta=beta, threshold=theta, factor=factor)


def _cuba_lif(p: _NeuronNode) -> _Neuron:
    p.check_rest(leak=True, reset=True)
    tau_mem, tau_syn = p.vector("tau_mem"), p.vector("tau_syn")
    r, w_in = p.vector("r"), p.vector("w_in")
    beta, alpha = p.decay(tau_mem, "tau_mem"), p.decay(tau_syn, "tau_syn")
    mem_factor = p.input_factor(r, tau_mem, beta)
    syn_factor = w_in if p.opt.convention == "norse" else p.input_factor(w_in, tau_syn, alpha)
    theta = p.vector("v_threshold")
    size = max(len(tau_mem), len(tau_syn), len(r), len(theta), len(w_in))
    return _Neuron(p.name, p.kind, size, "cuba_lif", beta=beta, alpha=alpha, threshold=theta,
                   factor=mem_factor * syn_factor)


def _if(p: _NeuronNode) -> _Neuron:
    p.check_rest(leak=False, reset=True)
    r, theta = p.vector("r"), p.vector("v_threshold")
    return _Neuron(p.name, p.kind, max(len(r), len(theta)), "if", threshold=theta, factor=r)


def _li(p: _NeuronNode) -> _Neuron:
    p.check_rest(leak=True, reset=False)
    tau, r = p.vector("tau"), p.vector("r")
    beta = p.decay(tau, "tau")
    factor = p.input_factor(r, tau, beta)
    return _Neuron(p.name, p.kind, max(len(tau), len(r)), "li", beta=beta, factor=factor)


def _neuron(name: str, node, opt: ImportOptions) -> _Neuron:
    for cls, convert in zip(neuron_classes(), (_lif, _cuba_lif, _if, _li)):
        if isinstance(node, cls):
            return convert(_NeuronNode(name, node, opt))
    raise NIRError(f"node '{name}' has the unsupported type {type(node).__name__}")  # flat_graph admits none


def _population(nr: _Neuron, pop_id: str, reset: str, arrays: dict[str, np.ndarray]) -> dict:
    """The population of a neuron node, its per-neuron parameters (broadcast to its size) added
    to arrays where they differ between neurons."""
    size = nr.size
    _check_population_size(nr.name, nr.kind, size)
    for attr in ("beta", "alpha", "threshold", "factor"):
        v = getattr(nr, attr)
        if v is not None:
            if v.size not in (1, size):
                raise NIRError(f"node '{nr.name}' ({nr.kind}): parameters of different sizes ({v.size} and {size})")
            if not np.isfinite(v).all() and attr != "factor":  # factor: caught in the weights it scales
                raise NIRError(f"node '{nr.name}' ({nr.kind}): its {attr} holds NaN or infinite values")
            setattr(nr, attr, np.broadcast_to(v, (size,)).astype(np.float64))
    if nr.threshold is not None and (nr.threshold <= 0).any():
        raise NIRError(f"node '{nr.name}' ({nr.kind}): v_threshold must be > 0")

    def param(what: str, values: np.ndarray):
        if np.all(values == values[0]):
            return float(values[0])
        arrays[f"{pop_id}.{what}"] = values.astype(np.float32)
        return {"array": f"{pop_id}.{what}"}

    neuron: dict = {"model": nr.model}
    if nr.beta is not None:
        neuron["beta"] = param("beta", nr.beta)
    if nr.alpha is not None:
        neuron["alpha"] = param("alpha", nr.alpha)
    if nr.threshold is not None:
        neuron["threshold"] = param("threshold", nr.threshold)
        neuron["reset"] = reset
    return {"kind": "neuron", "id": pop_id, "size": size, "neuron": neuron,
            "description": f"NIR node '{nr.name}' ({nr.kind})"}


# --------------------------------------------------------------------------- projections


@dataclass(frozen=True)
class _Route:
    """A walk from a spike source through synapse nodes: their linear maps and delays so far."""

    source: str
    weight: np.ndarray | None = None  # [out, in]; None: the identity
    bias: np.ndarray | None = None
    delay_s: float = 0.0
    via: tuple[str, ...] = ()  # the synapse nodes passed


@dataclass(frozen=True)
class _Path:
    """A route that reached a neuron node: one projection."""

    target: str
    route: _Route

    @property
    def source(self) -> str:
        return self.route.source

    @property
    def via(self) -> tuple[str, ...]:
        return self.route.via


def _projection_paths(flat: FlatGraph, neurons: dict[str, _Neuron]) -> tuple[list[_Path], str]:
    """Every path from the Input or a spiking neuron node to a neuron node, and the readout:
    the neuron node that feeds the Output."""
    import nir

    paths: list[_Path] = []
    readouts: list[str] = []
    _walk(flat, _Route(flat.input), flat.input, paths, readouts)
    for n in neurons:
        if neurons[n].model != "li":
            _walk(flat, _Route(n), n, paths, readouts)
        elif not all(isinstance(flat.nodes[s], nir.Output) for s in flat.succ[n]):
            raise NIRError(f"node '{n}' (LI) emits no spikes, so nothing can follow it but the Output")
    if not readouts:
        raise NIRError(f"the Output node '{flat.output}' is not fed by a neuron node")
    return paths, readouts[-1]


def _walk(flat: FlatGraph, route: _Route, at: str, paths: list[_Path], readouts: list[str]) -> None:
    import nir

    for nxt in sorted(flat.succ[at]):
        node = flat.nodes[nxt]
        if flat.is_neuron(nxt):
            paths.append(_Path(nxt, route))
        elif isinstance(node, nir.Output):
            if route.via:
                last = route.via[-1]
                raise NIRError(f"the Output node '{nxt}' is fed through node '{last}' ({flat.kind(last)}); "
                               "snncc's readout is a neuron population, so the Output must follow a neuron node")
            if route.source == flat.input:
                raise NIRError(f"the Output node '{nxt}' is fed by the Input directly; it must follow a neuron node")
            readouts.append(route.source)
        elif isinstance(node, nir.Input):
            raise NIRError(f"node '{nxt}' (Input) has an incoming edge")
        else:
            if nxt in route.via:
                raise NIRError(f"nodes {', '.join(route.via)} form a cycle without a neuron node")
            _walk(flat, _through(nxt, node, route), nxt, paths, readouts)


def _through(name: str, node, route: _Route) -> _Route:
    """The route continued through a synapse node."""
    import nir

    if isinstance(node, (nir.Affine, nir.Linear)):
        return _through_affine(name, node, route)
    if isinstance(node, nir.Scale):
        return _through_scale(name, node, route)
    return _through_delay(name, node, route)  # flat_graph admits no other synapse node


def _through_affine(name: str, node, route: _Route) -> _Route:
    import nir

    kind = type(node).__name__
    m, bias = route.weight, route.bias
    w = np.asarray(node.weight, dtype=np.float64)
    if w.ndim != 2:
        raise NIRError(f"node '{name}' ({kind}): weight has shape {list(w.shape)}, expected [out, in]")
    if m is not None and w.shape[1] != m.shape[0]:
        raise NIRError(f"node '{name}' ({kind}): weight has {w.shape[1]} inputs, it receives {m.shape[0]}")
    m = w if m is None else w @ m
    bias = None if bias is None else w @ bias
    if isinstance(node, nir.Affine) and getattr(node, "bias", None) is not None:
        nb = np.asarray(node.bias, dtype=np.float64).reshape(-1)
        bias = nb if bias is None else bias + nb
    return _Route(route.source, m, bias, route.delay_s, route.via + (name,))


def _through_scale(name: str, node, route: _Route) -> _Route:
    m, bias = route.weight, route.bias
    s = np.asarray(node.scale, dtype=np.float64).reshape(-1)
    if m is None:
        _check_weight_memory(route.source, name, s.size, s.size)  # np.diag: [n, n]
    m = np.diag(s) if m is None else s[:, None] * m
    bias = None if bias is None else s * bias
    return _Route(route.source, m, bias, route.delay_s, route.via + (name,))


def _through_delay(name: str, node, route: _Route) -> _Route:
    d = np.asarray(node.delay, dtype=np.float64).reshape(-1)
    if d.size and not np.allclose(d, d[0]):
        raise NIRError(f"node '{name}' (Delay): per-neuron delays differ; snncc has one delay per projection")
    delay_s = route.delay_s + (float(d[0]) if d.size else 0.0)
    return _Route(route.source, route.weight, route.bias, delay_s, route.via + (name,))


def _population_order(input_name: str, neurons: dict[str, _Neuron], paths: list[_Path]) -> list[str]:
    """The neuron nodes in order of distance from the input (breadth first), then the
    unreached ones by name."""
    order, seen, frontier = [], {input_name}, [input_name]
    while frontier:
        nxt_frontier = []
        for n in frontier:
            for path in paths:
                if path.source == n and path.target not in seen:
                    seen.add(path.target)
                    order.append(path.target)
                    nxt_frontier.append(path.target)
        frontier = nxt_frontier
    return order + sorted(n for n in neurons if n not in seen)


def _projection(path: _Path, sizes: dict[str, int], factor: np.ndarray, pid: dict[str, str], ids: _Identifiers,
                dt: float, arrays: dict[str, np.ndarray], notes: list[str]) -> dict:
    """The projection of a path, its weights (and bias) scaled by the target's input factor
    added to arrays."""
    source, target, via, bias = path.source, path.target, path.via, path.route.bias
    n_in, n_out = sizes[source], sizes[target]
    m = path.route.weight
    if m is None:
        if n_in != n_out:
            raise NIRError(f"'{source}' ({n_in} neurons) feeds '{target}' ({n_out} neurons) without a weight")
        _check_weight_memory(source, target, n_in, n_out)
        m = np.eye(n_out)
    if m.shape != (n_out, n_in):
        raise NIRError(f"the weights from '{source}' to '{target}' have shape {list(m.shape)}, "
                       f"expected [{n_out}, {n_in}]")
    _check_weight_memory(source, target, n_in, n_out)
    weight = (m * factor[:, None]).T.astype(np.float32)  # [source, target]
    nodes_named = f" (NIR nodes {' -> '.join(via)})" if via else ""
    if not np.isfinite(weight).all():
        raise NIRError(f"the weights from '{source}' to '{target}'{nodes_named} hold NaN or infinite values "
                       "(or values beyond float32, or a neuron's r or w_in is NaN)")
    proj_id = ids.take(via[-1] if via else f"{source}_{target}", "w_")
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
    delay_s = path.route.delay_s
    steps = delay_s / dt
    if abs(steps - round(steps)) > 1e-6 * max(1.0, abs(steps)) or steps < 0:
        raise NIRError(f"the delay of {delay_s:g} s into '{target}' is not a whole number of steps of dt = {dt:g} s")
    if round(steps):
        proj["delay"] = int(round(steps))
    if via:
        proj["description"] = "NIR nodes " + " -> ".join(via)
    return proj


# --------------------------------------------------------------------------- the document


def _document(opt: ImportOptions, populations: list[dict], projections: list[dict], readout: dict,
              num_inputs: int, num_classes: int) -> dict:
    from ..fsutil import IMPORTED_DESCRIPTION

    return {
        "name": opt.name,
        "description": (f"{IMPORTED_DESCRIPTION} ({opt.convention} convention, dt = {opt.step:g} s, "
                        f"{opt.discretisation}, reset {opt.reset_mode}). The data block is synthetic: replace it."),
        "timesteps": opt.timesteps,
        "dt": opt.step,
        "discretisation": opt.discretisation,
        "populations": populations,
        "projections": projections,
        "readout": readout,
        "data": {"kind": "synthetic", "num_classes": num_classes, "num_samples": 200,
                 "spikes_per_step": max(1.0, round(0.05 * num_inputs, 3))},
    }


class _Identifiers:
    """Spec ids made from NIR node names, each distinct from those taken before."""

    def __init__(self) -> None:
        self.used: set[str] = set()

    def take(self, name: str, prefix: str) -> str:
        base = re.sub(r"[^A-Za-z0-9_]", "_", name)
        if not re.match(r"[A-Za-z_]", base):
            base = f"{prefix}{base}"
        base = base[:56] or prefix
        ident, i = base, 2
        while ident in self.used:
            ident, i = f"{base}_{i}", i + 1
        self.used.add(ident)
        return ident


def _check_population_size(name: str, kind: str, size: int) -> None:
    from ..spec.models import NeuronPopulation
    from ..spec.schema import spec_limit

    limit = spec_limit(NeuronPopulation, "size")
    if size > limit:
        raise NIRError(f"node '{name}' ({kind}) has {size:,} neurons; a population has at most {limit:,} (2^24)")


def _check_weight_memory(source: str, target: str, n_in: int, n_out: int) -> None:
    """Before a [n_out, n_in] matrix is made: float64 while folding, float32 in the arrays file,
    float64 again when the import is validated."""
    from ..machine import memory_problem

    message = memory_problem(n_in * n_out * (8 + 4 + 8), f"the weights from '{source}' to '{target}' "
                             f"({n_in:,} x {n_out:,})")
    if message is not None:
        raise NIRError(message)


# --------------------------------------------------------------------------- options, checks, files


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

    from ..fsutil import import_output_paths
    from ..spec import SpecError, parse_spec

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
    from ..fsutil import import_output_paths, write_bytes_atomic, write_errors, write_text_atomic
    from ..resources import resource_dir
    from ..spec.schema import SCHEMA_FILE

    out, arrays_path = import_output_paths(out)
    doc = dict(imported.document)
    try:
        schema = resource_dir("schemas") / SCHEMA_FILE
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
