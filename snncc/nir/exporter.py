"""A model and its weights (initial, or a checkpoint's) as a NIR graph (`snncc export-nir`).

Populations and projections become NIR nodes in snnTorch's convention:
LIF(tau = dt/(1 - beta), r = tau/dt, v_leak = 0, v_threshold, v_reset = 0), CubaLIF with
w_in = tau_syn/dt, LI, IF(r = 1); projections become Affine (bias) or Linear with weight
[target, source], and a Delay node (delay x dt seconds) where a delay is not the
implicit one of a recurrent projection.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np

from ..errors import UserError
from .graph import SNNTORCH_DT, NIRError


def export_dt(ir, dt: float | None = None) -> float:
    """The step the time constants are written with: dt, else the spec's, else snnTorch's."""
    return dt or ir.settings.dt or SNNTORCH_DT


def model_weights(ir, checkpoint: str | None) -> dict[str, np.ndarray]:
    """The weights to export ('weight.<p>' [in, out], 'bias.<p>'): the model's initial ones,
    or those of a checkpoint written by snncc train (a file or its run directory)."""
    from ..torch import build_model
    from ..torch.memory import export_bytes, memory_problem

    # before build_model allocates the weights
    if (message := memory_problem(export_bytes(ir, bool(checkpoint)), f"exporting model '{ir.name}'")) is not None:
        raise UserError(message)
    own = {k: v.detach().numpy() for k, v in build_model(ir).weights().items()}
    if not checkpoint:
        return own
    weights = _checkpoint_weights(Path(checkpoint), ir.name)
    if set(weights) != set(own) or any(weights[k].shape != own[k].shape for k in own):
        raise UserError(f"{checkpoint}: the checkpoint's weights do not match model '{ir.name}' (the model changed?)")
    return weights


def _checkpoint_weights(path: Path, name: str) -> dict[str, np.ndarray]:
    import torch

    from ..torch.trainer import CHECKPOINT_FORMAT

    if path.is_dir():
        path = path / "checkpoint.bin"
    if not path.is_file():
        raise UserError(f"{path}: no such checkpoint")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise UserError(f"{path}: cannot read the checkpoint ({type(exc).__name__})") from None
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT or not isinstance(state.get("weights"), dict):
        raise UserError(f"{path}: not a checkpoint written by snncc train")
    if state.get("model") != name:
        raise UserError(f"{path}: the checkpoint belongs to model '{state.get('model')}', not '{name}'")
    weights = {}
    for key, value in state["weights"].items():
        # weights_only admits any tensor-free structure too: strings, lists, integer tensors
        if not isinstance(value, torch.Tensor) or not value.is_floating_point():
            raise UserError(f"{path}: checkpoint entry '{key}' is not a floating-point tensor "
                            "(not a checkpoint written by snncc train)")
        if not bool(torch.isfinite(value).all()):
            raise UserError(f"{path}: checkpoint weight '{key}' holds NaN or infinite values")
        weights[key] = value.detach().to(torch.float32).numpy()
    return weights


def export_graph(ir, weights: dict[str, np.ndarray], dt: float | None = None):
    """A NIRGraph of a model's IR with the given weights ('weight.<p>' [in, out], 'bias.<p>').

    Returns (graph, notes)."""
    import nir

    dt = export_dt(ir, dt)
    _check_dt(dt)
    notes: list[str] = []
    nodes: dict = {}
    edges: list[tuple[str, str]] = []
    inp = next(p for p in ir.populations if p.kind == "input")
    nodes[inp.id] = nir.Input(input_type={"input": np.array([inp.size])})
    for p in ir.populations:
        if p.kind == "input":
            continue
        nodes[p.id] = _neuron_node(p, dt)
        if p.spikes and p.reset != "zero":
            notes.append(f"population '{p.id}' resets by '{p.reset}'; NIR's neurons reset to v_reset = 0, "
                         "which readers such as snnTorch's import_from_nir run as snncc's 'zero' "
                         f"(snncc import-nir --reset {p.id}=snncc:{p.reset} restores it)")
        elif p.spikes and (p.model == "cuba_lif" or any(q.source == q.target == p.id for q in ir.projections)):
            notes.append(f"population '{p.id}' resets by 'zero'; snncc import-nir --reset zero reads a CubaLIF, or "
                         "a LIF with a self-loop, as snnTorch's Synaptic or RLeaky, whose 'zero' is snncc's "
                         f"'zero_updated': --reset {p.id}=snncc:zero restores it")
    for proj in ir.projections:
        _add_projection(proj, ir, weights, dt, nodes, edges)
    # the Output node's name must not be a population's or a projection's ("output" often is)
    out_id = next(name for name in ("output", *(f"output_{i}" for i in range(len(nodes) + 1))) if name not in nodes)
    nodes[out_id] = nir.Output(output_type={"output": np.array([ir.population(ir.settings.readout.population).size])})
    edges.append((ir.settings.readout.population, out_id))
    _check_no_nan(nodes, dt)
    graph = nir.NIRGraph(nodes=nodes, edges=edges)
    try:
        graph.infer_types()
    except Exception:  # type inference is advisory; readers do not need it
        pass
    return graph, notes


def _check_dt(dt: float) -> None:
    # the time constants are written as float32: a dt outside its normal range makes them 0 or inf, r NaN
    f32 = np.finfo(np.float32)
    if not (math.isfinite(dt) and float(f32.tiny) <= dt <= float(f32.max)):
        raise NIRError(f"dt = {dt:g} s cannot be written as NIR's float32 time constants "
                       f"(it must lie in [{float(f32.tiny):g}, {float(f32.max):g}] s)")


def _vec(value, size: int) -> np.ndarray:
    return np.broadcast_to(np.asarray(value, dtype=np.float64), (size,)).astype(np.float32)


def _tau(decay, size: int, dt: float) -> np.ndarray:
    d = _vec(decay, size).astype(np.float64)
    with np.errstate(divide="ignore"):
        return (dt / (1.0 - d)).astype(np.float32)


def _neuron_node(p, dt: float):
    """The NIR node of a neuron population, in snnTorch's convention."""
    import nir

    n = p.size
    zeros = np.zeros(n, dtype=np.float32)
    if p.model in ("lif", "li"):
        tau = _tau(p.beta, n, dt)
        r = (tau / np.float32(dt)).astype(np.float32)
        if p.model == "lif":
            return nir.LIF(tau=tau, r=r, v_leak=zeros, v_threshold=_vec(p.threshold, n), v_reset=zeros)
        return nir.LI(tau=tau, r=r, v_leak=zeros)
    if p.model == "cuba_lif":
        tau_mem, tau_syn = _tau(p.beta, n, dt), _tau(p.alpha, n, dt)
        return nir.CubaLIF(tau_syn=tau_syn, tau_mem=tau_mem, r=(tau_mem / np.float32(dt)).astype(np.float32),
                           v_leak=zeros, v_threshold=_vec(p.threshold, n), v_reset=zeros,
                           w_in=(tau_syn / np.float32(dt)).astype(np.float32))
    return nir.IF(r=np.ones(n, dtype=np.float32), v_threshold=_vec(p.threshold, n), v_reset=zeros)  # if


def _add_projection(proj, ir, weights: dict[str, np.ndarray], dt: float, nodes: dict,
                    edges: list[tuple[str, str]]) -> None:
    """A projection's Affine or Linear node, after a Delay node where its delay is explicit."""
    import nir

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


def _check_no_nan(nodes: dict, dt: float) -> None:
    for name, node in nodes.items():
        for attr, value in vars(node).items():
            if isinstance(value, np.ndarray) and value.dtype.kind == "f" and np.isnan(value).any():
                raise NIRError(f"node '{name}': {attr} would hold NaN (weights or parameters of the model are NaN, "
                               f"or dt = {dt:g} s is out of range for them)")


def write_export(graph, out: str | Path) -> None:
    """Write a NIRGraph to out atomically (nir.write to a temporary file, then rename)."""
    import tempfile

    import nir

    from ..fsutil import write_errors

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
