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
- A neuron node whose parameters are all one value (a module's scalar defaults) takes its
  size from the Affine/Linear nodes around it.
- The node feeding the Output is the readout population.
- What a NIR file does not say comes from options: dt, discretisation, reset, timesteps.
  --reset takes the exporter's mechanism names, mapped per module kind: snnTorch's 'zero'
  is snncc's 'zero' in Leaky (a LIF node) and 'zero_updated' in RLeaky (a LIF with a
  self-loop through Affine/Linear nodes), Synaptic and RSynaptic (CubaLIF).
- Errors an option fixes name it; where the neuron parameters carry the other exporter's
  signature (snnTorch's r = tau/1e-4 s, Norse's r = 1), they name --convention too.
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


class _OptionError(NIRError):
    """An error that an import option fixes (dt, the convention): the message names the option,
    and import_graph adds --convention where the file looks like the other exporter's."""


#: --reset values: the exporter's mechanism names (snnTorch's reset_mechanism), mapped per
#: module kind, and snncc's own spec names; `snncc:NAME` is a spec name taken as it is.
RESET_MECHANISMS = ("subtract", "zero", "none", "zero_updated")
SPEC_RESETS = ("subtract", "zero", "zero_updated", "none")


def check_reset_mechanism(value: str, where: str) -> str:
    """value if --reset accepts it as a mechanism, else a one-line NIRError naming `where`."""
    if value in RESET_MECHANISMS or (value.startswith("snncc:") and value[6:] in SPEC_RESETS):
        return value
    raise NIRError(f"{where}: unknown reset mechanism {value!r} (choose from {', '.join(RESET_MECHANISMS)}, "
                   f"or snncc:{'|'.join(SPEC_RESETS)} for snncc's spec name as it is)")


@dataclass(frozen=True)
class ImportOptions:
    dt: float | None = None  # None: the convention's default
    discretisation: str = "euler"
    reset: str | None = None  # None: the convention's default; a mechanism (see RESET_MECHANISMS)
    name: str = "imported"
    timesteps: int = 100
    convention: str = "snntorch"  # or "norse"
    #: (population, mechanism) pairs of --reset POP=MECH; POP is a NIR node name or a population id
    reset_overrides: tuple[tuple[str, str], ...] = ()

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
    resets: list[str] = field(default_factory=list)  # the reset each spiking population got, and why


def import_graph(graph, opt: ImportOptions) -> Imported:
    """The spec document and arrays of a NIR graph (see the module docstring)."""
    flat = flat_graph(graph)
    looks_like = _exporter_signature(flat)
    try:
        imported = _import_flat(flat, opt)
    except _OptionError as exc:  # an error an option fixes: name the convention too where it looks wrong
        hint = _convention_hint(looks_like, opt)
        raise NIRError(f"{exc}; {hint}" if hint else str(exc)) from None
    hint = _convention_hint(looks_like, opt)
    if hint:
        imported.notes.insert(0, f"WARNING: {hint}")
    return imported


def _import_flat(flat: FlatGraph, opt: ImportOptions) -> Imported:
    _check_population_size(flat.input, "Input", flat.input_size)
    neurons = {n: _neuron(n, flat.nodes[n], opt) for n in sorted(flat.nodes) if flat.is_neuron(n)}
    paths, readout = _projection_paths(flat, neurons)
    notes: list[str] = list(flat.notes)
    _scalar_sizes(flat, neurons, paths, notes)
    order = _population_order(flat.input, neurons, paths)
    ids = _Identifiers()
    pid = {flat.input: ids.take(flat.input, "in_")}
    for n in order:
        pid[n] = ids.take(n, "pop_")
    resets, reset_lines = _resets(flat, neurons, paths, pid, opt)
    arrays: dict[str, np.ndarray] = {}
    populations = [{"kind": "input", "id": pid[flat.input], "size": flat.input_size}]
    for n in order:
        populations.append(_population(neurons[n], pid[n], resets.get(n), arrays))
    sizes = {flat.input: flat.input_size, **{n: neurons[n].size for n in order}}
    projections = [_projection(path, sizes, neurons[path.target].factor, pid, ids, opt.step, arrays, notes)
                   for path in sorted(paths, key=lambda p: (order.index(p.target), p.source != flat.input, p.via))]
    if sizes[readout] < 2:
        raise NIRError(f"the readout '{readout}' has {sizes[readout]} neuron; "
                       "snncc trains classifiers with at least 2 classes")
    decoding = "membrane_sum" if neurons[readout].model == "li" else "spike_count"
    document = _document(opt, populations, projections, {"population": pid[readout], "decoding": decoding},
                         num_inputs=flat.input_size, num_classes=sizes[readout])
    return Imported(document, arrays, notes, reset_lines)


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
    scalar: bool = False  # every parameter one value: the size comes from the weights around it


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
            fix = ("pass a smaller --dt (Norse's to_nir(dt=D) needs --dt D^2) or --discretisation exact"
                   if self.opt.convention == "norse" else "pass a smaller --dt or --discretisation exact")
            raise _OptionError(
                f"node '{self.name}' ({self.kind}): dt = {dt:g} s exceeds {what} = {tau.min():g} s, so Euler's "
                f"1 - dt/{what} is negative; {fix}")
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
    return _Neuron(p.name, p.kind, max(len(tau), len(r), len(theta)), "lif", beta=beta, threshold=theta, factor=factor,
                   scalar=_all_scalar(tau, r, theta))


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
                   factor=mem_factor * syn_factor, scalar=_all_scalar(tau_mem, tau_syn, r, theta, w_in))


def _if(p: _NeuronNode) -> _Neuron:
    p.check_rest(leak=False, reset=True)
    r, theta = p.vector("r"), p.vector("v_threshold")
    return _Neuron(p.name, p.kind, max(len(r), len(theta)), "if", threshold=theta, factor=r,
                   scalar=_all_scalar(r, theta))


def _li(p: _NeuronNode) -> _Neuron:
    p.check_rest(leak=True, reset=False)
    tau, r = p.vector("tau"), p.vector("r")
    beta = p.decay(tau, "tau")
    factor = p.input_factor(r, tau, beta)
    return _Neuron(p.name, p.kind, max(len(tau), len(r)), "li", beta=beta, factor=factor, scalar=_all_scalar(tau, r))


def _all_scalar(*params: np.ndarray) -> bool:
    """Whether every parameter is one value (a 0-d or shape-[1] array, as Norse writes a module's
    default scalar parameters)."""
    return all(v.size == 1 for v in params)


def _neuron(name: str, node, opt: ImportOptions) -> _Neuron:
    for cls, convert in zip(neuron_classes(), (_lif, _cuba_lif, _if, _li)):
        if isinstance(node, cls):
            return convert(_NeuronNode(name, node, opt))
    raise NIRError(f"node '{name}' has the unsupported type {type(node).__name__}")  # flat_graph admits none


def _population(nr: _Neuron, pop_id: str, reset: str | None, arrays: dict[str, np.ndarray]) -> dict:
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


def _scalar_sizes(flat: FlatGraph, neurons: dict[str, _Neuron], paths: list[_Path], notes: list[str]) -> None:
    """The size of each neuron node whose parameters are all one value (Norse's default
    LIFBoxCell() writes tau, r, v_threshold ... as scalars): the output size of the
    Affine/Linear nodes that feed it, else the input size of those it feeds, else the size
    of a population feeding it without a weight. Its parameters are broadcast to that size."""
    todo = sorted(n for n, nr in neurons.items() if nr.scalar)
    known = {flat.input: flat.input_size, **{n: nr.size for n, nr in neurons.items() if not nr.scalar}}
    why: dict[str, str] = {}

    def node(name: str) -> str:
        return f"node '{name}' ({flat.kind(name)})"

    changed = True
    while changed:
        changed = False
        for n in todo:
            if n in known:
                continue
            said: dict[int, str] = {}
            for path in paths:
                m = path.route.weight
                if path.target == n and m is not None:
                    said.setdefault(int(m.shape[0]), f"the output size of {node(path.via[-1])} that feeds it")
                elif path.target == n and path.source in known:
                    said.setdefault(known[path.source],
                                    f"the size of {node(path.source)} that feeds it without a weight")
            if not said:  # only the weights it feeds tell
                for path in paths:
                    if path.source == n and path.route.weight is not None:
                        first = next(v for v in path.via if flat.kind(v) != "Delay")  # the first linear map
                        said.setdefault(int(path.route.weight.shape[1]), f"the input size of {node(first)} it feeds")
            if len(said) > 1:
                (a, why_a), (b, why_b) = sorted(said.items())[:2]
                raise NIRError(f"{node(n)} has one value per parameter, and the nodes around it disagree on its "
                               f"neuron count: {a} ({why_a}) and {b} ({why_b})")
            if said:
                ((known[n], why[n]),) = said.items()
                changed = True
    for n in todo:
        if n not in known:
            raise NIRError(f"{node(n)} has one value per parameter and no Affine or Linear node next to it, "
                           "so its neuron count is unknown; give its parameters one value per neuron")
        neurons[n].size = known[n]
        if known[n] != 1:
            notes.append(f"{node(n)} has one value per parameter (a module's scalar defaults): "
                         f"{known[n]} neurons, {why[n]}")


# --------------------------------------------------------------------------- resets


def _module_kind(flat: FlatGraph, n: str, paths: list[_Path]) -> str:
    """The snnTorch module a neuron node comes from: a LIF (CubaLIF) with a self-loop through
    Affine/Linear nodes is RLeaky's (RSynaptic's) subgraph, flat or nested."""
    import nir

    node = flat.nodes[n]
    loop = any(p.source == n and p.target == n and p.via
               and all(isinstance(flat.nodes[v], (nir.Affine, nir.Linear)) for v in p.via) for p in paths)
    if isinstance(node, nir.LIF):
        return "RLeaky" if loop else "Leaky"
    if isinstance(node, nir.CubaLIF):
        return "RSynaptic" if loop else "Synaptic"
    return type(node).__name__  # IF, LI


def _spec_reset(kind: str, mechanism: str, convention: str) -> tuple[str, str]:
    """snncc's reset for an exporter's mechanism name in a module kind, and why."""
    if mechanism.startswith("snncc:"):
        return mechanism[6:], "snncc's spec name, taken as it is"
    if mechanism == "zero_updated":
        return "zero_updated", "snncc's name: the whole updated membrane is zeroed"
    if mechanism == "subtract":
        return "subtract", "the threshold is subtracted, alike in every module kind"
    if mechanism == "none":
        return "none", "no reset"
    if convention == "norse":
        return "zero", "Norse's cells reset to v_reset in the step they spike, which is snncc's 'zero'"
    if kind in ("RLeaky", "Synaptic", "RSynaptic"):
        return "zero_updated", (f"snnTorch's {kind}(reset_mechanism='zero') zeroes the whole updated membrane, "
                                "input included: snncc's 'zero_updated'")
    if kind == "Leaky":
        return "zero", ("snnTorch's Leaky(reset_mechanism='zero') zeroes the previous membrane and keeps the new "
                        "input: snncc's 'zero'")
    return "zero", "NIR's reset to v_reset = 0 (snnTorch exports no IF): snncc's 'zero'"


def _resets(flat: FlatGraph, neurons: dict[str, _Neuron], paths: list[_Path], pid: dict[str, str],
            opt: ImportOptions) -> tuple[dict[str, str], list[str]]:
    """The spec reset of every spiking neuron node (from --reset and its POP=MECH overrides,
    mapped per module kind) and a line for each saying why."""
    spiking = [n for n in pid if n in neurons and neurons[n].model != "li"]
    by_name = {**{n: n for n in spiking}, **{pid[n]: n for n in spiking}}
    overrides: dict[str, tuple[str, str]] = {}  # node -> (mechanism, the option that gave it)
    for pop, mechanism in opt.reset_overrides:
        if pop not in by_name:
            if any(pop in (n, pid.get(n)) for n in neurons if neurons[n].model == "li"):
                raise NIRError(f"--reset {pop}={mechanism}: '{pop}' is a leaky integrator (LI), which has no reset")
            known = ", ".join(_named(n, pid) for n in spiking)
            raise NIRError(f"--reset {pop}={mechanism}: no spiking population '{pop}' (known: {known or 'none'})")
        overrides[by_name[pop]] = (mechanism, f"--reset {pop}={mechanism}")
    default = (opt.reset_mode, f"--reset {opt.reset}" if opt.reset is not None else f"default {opt.reset_mode}")
    resets, lines = {}, []
    for n in spiking:
        mechanism, source = overrides.get(n, default)
        kind = _module_kind(flat, n, paths) if opt.convention == "snntorch" else flat.kind(n)
        spec, why = _spec_reset(kind, mechanism, opt.convention)
        resets[n] = spec
        module = f"{flat.kind(n)}, snnTorch's {kind}" if kind != flat.kind(n) else kind
        lines.append(f"{_named(n, pid)}, {module}: {spec} ({source}: {why})")
    return resets, lines


def _named(n: str, pid: dict[str, str]) -> str:
    """A population as messages name it: its id, and its NIR node where the names differ."""
    return pid[n] if pid[n] == n else f"{pid[n]} (NIR node {n})"


def _reset_summary(opt: ImportOptions) -> str:
    return ", ".join([opt.reset_mode, *(f"{pop}={m}" for pop, m in opt.reset_overrides)])


# --------------------------------------------------------------------------- conventions


def _exporter_signature(flat: FlatGraph) -> str | None:
    """Which exporter's parameters the neuron nodes carry: 'snntorch' (r = tau/1e-4 and, in
    CubaLIF, w_in = tau_syn/1e-4, as export_to_nir writes), 'norse' (r = 1 and w_in = 1, as
    to_nir writes), or None when the file does not tell."""
    import nir

    def vec(node, attr):
        v = getattr(node, attr, None)
        try:
            return None if v is None else np.asarray(v, dtype=np.float64).reshape(-1)
        except (TypeError, ValueError):
            return None

    def close(a, b) -> bool:
        if a is None or b is None:
            return False
        try:
            return bool(np.allclose(a, b, rtol=1e-4, atol=0.0, equal_nan=False))
        except ValueError:  # shapes that do not broadcast
            return False

    leaky = [flat.nodes[n] for n in sorted(flat.nodes) if isinstance(flat.nodes[n], (nir.LIF, nir.CubaLIF, nir.LI))]
    if not leaky:
        return None
    snn = norse = True
    for node in leaky:
        tau = vec(node, "tau_mem" if isinstance(node, nir.CubaLIF) else "tau")
        r = vec(node, "r")
        with np.errstate(all="ignore"):
            snn &= tau is not None and close(r, tau / SNNTORCH_DT)
            norse &= close(r, 1.0)
            if isinstance(node, nir.CubaLIF):
                tau_syn, w_in = vec(node, "tau_syn"), vec(node, "w_in")
                snn &= tau_syn is not None and close(w_in, tau_syn / SNNTORCH_DT)
                norse &= close(w_in, 1.0)
    if snn:
        return "snntorch"
    return "norse" if norse else None


def _convention_hint(looks_like: str | None, opt: ImportOptions) -> str | None:
    if looks_like == "norse" and opt.convention == "snntorch":
        return ("the file looks like one from Norse's to_nir (r = 1 in every neuron node; snnTorch's export "
                "writes r = tau/dt): pass --convention norse")
    if looks_like == "snntorch" and opt.convention == "norse":
        return ("the file looks like one from snnTorch's export_to_nir (r = tau/1e-4 s in every neuron node; "
                "Norse's to_nir writes r = 1): leave out --convention norse (snnTorch's is the default)")
    return None


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
        elif flat.succ[n]:  # an LI readout (Norse's LIBoxCell): the Output follows it directly
            readouts.append(n)
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
        raise _OptionError(f"the delay of {delay_s:g} s into '{target}' is not a whole number of steps of "
                           f"dt = {dt:g} s; pass a --dt that divides it")
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
                        f"{opt.discretisation}, reset {_reset_summary(opt)}). The data block is synthetic: "
                        "replace it."),
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
    reset_src = ("--reset" if opt.reset is not None else (
        "default: Norse's LIF cells reset to v_reset in the step they spike, which is snncc's 'zero'"
        if opt.convention == "norse" else
        "default: snnTorch's modules subtract the threshold by default; its NIR export writes v_reset = 0 for "
        "every reset mechanism, so the file cannot tell: pass --reset zero for modules built with "
        "reset_mechanism='zero', --reset POP=MECH for one population"))
    if opt.reset_overrides:
        reset_src += "; " + ", ".join(f"--reset {pop}={m}" for pop, m in opt.reset_overrides)
    if opt.convention == "snntorch":
        reset_src += "; snnTorch's mechanism names, mapped per module kind"
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
            fix = ("; pass a larger --timesteps" if (first.pointer or "").endswith("/delay")
                   and "timesteps" in first.message else "")
            raise NIRError(f"{source}: the imported model would not be valid, nothing written: "
                           f"{first.pointer or '/'}: {first.message}{more}{fix}") from None


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
