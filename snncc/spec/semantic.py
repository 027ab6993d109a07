"""Checks across fields that a JSON Schema cannot express.

`check_semantics` takes a schema-valid ModelSpec and returns every problem as a
(path, message) pair, the path being the JSON Pointer tokens of the offending value.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from . import resolve
from .jsonloc import Path_
from .models import (
    CubaLIF,
    DigitsData,
    HeidelbergData,
    InputPopulation,
    LI,
    LIF,
    ModelSpec,
    MSECount,
    NeuronPopulation,
    NpzData,
    RandmanData,
    Sparse,
    SyntheticData,
    TonicData,
)
from .datasets import event_set, input_size

Found = Iterator[tuple[Path_, str]]

#: Inputs and classes of scikit-learn's digits data set.
DIGITS_INPUTS, DIGITS_CLASSES = 64, 10


def check_semantics(spec: ModelSpec, base_dir: Path | None = None) -> list[tuple[Path_, str]]:
    """Every cross-field problem of a schema-valid spec, check by check (SpecError orders
    them by their position in the file)."""
    problems: list[tuple[Path_, str]] = []
    for check in (_ids, _neurons, _sparsity, _projections, _cycles, _reachability, _readout, _data, _training,
                  _target):
        problems.extend(check(spec, base_dir))
    return problems


def _population_index(spec: ModelSpec) -> dict[str, int]:
    index: dict[str, int] = {}
    for i, p in enumerate(spec.populations):
        index.setdefault(p.id, i)
    return index


def _ids(spec: ModelSpec, _: Path | None) -> Found:
    seen: dict[str, str] = {}
    for i, p in enumerate(spec.populations):
        if p.id in seen:
            yield ("populations", i, "id"), f"duplicate id '{p.id}' (first used at {seen[p.id]})"
        else:
            seen[p.id] = f"/populations/{i}"
    for i, p in enumerate(spec.projections):
        if p.id in seen:
            yield ("projections", i, "id"), f"duplicate id '{p.id}' (first used at {seen[p.id]})"
        else:
            seen[p.id] = f"/projections/{i}"
    inputs = [i for i, p in enumerate(spec.populations) if isinstance(p, InputPopulation)]
    if not inputs:
        yield ("populations",), "no input population: add one with \"kind\": \"input\" to receive the data"
    for i in inputs[1:]:
        yield ("populations", i, "kind"), (
            f"a second input population: the data source feeds one (the first is '{spec.populations[inputs[0]].id}')"
        )


def _decay_pair(spec: ModelSpec, where: Path_, factor_name: str, factor, tau_name: str, tau) -> Found:
    if factor is not None and tau is not None:
        yield where + (tau_name,), f"give either {factor_name} or {tau_name}, not both"
    elif factor is None and tau is None:
        yield where, f"missing {factor_name} (a decay factor in [0, 1]) or {tau_name} (seconds, with dt)"
    elif tau is not None:
        if spec.dt is None:
            yield where + (tau_name,), f"{tau_name} needs the model's dt (seconds per timestep) at the top level"
        elif spec.discretisation == "euler" and spec.dt > tau:
            yield where + (tau_name,), (
                f"dt = {spec.dt:g} s exceeds {tau_name} = {tau:g} s: Euler's 1 - dt/tau would be negative; "
                "use a smaller dt or \"discretisation\": \"exact\""
            )


def _neurons(spec: ModelSpec, _: Path | None) -> Found:
    for i, p in enumerate(spec.populations):
        if not isinstance(p, NeuronPopulation):
            continue
        where = ("populations", i, "neuron")
        n = p.neuron
        if isinstance(n, (LIF, CubaLIF, LI)):
            yield from _decay_pair(spec, where, "beta", n.beta, "tau_mem", n.tau_mem)
        if isinstance(n, CubaLIF):
            yield from _decay_pair(spec, where, "alpha", n.alpha, "tau_syn", n.tau_syn)


def _sparsity(spec: ModelSpec, _: Path | None) -> Found:
    for i, p in enumerate(spec.populations):
        s = p.sparsity
        where = ("populations", i, "sparsity")
        if s.max_activity is not None and s.max_spikes is not None:
            yield where + ("max_spikes",), "give either max_activity or max_spikes, not both"
        if s.max_spikes is not None and s.max_spikes > p.size:
            yield where + ("max_spikes",), f"capacity {s.max_spikes} exceeds the population size {p.size}"
        if not resolve.spikes(p):
            for field in ("max_activity", "max_spikes", "gradient_threshold"):
                if getattr(s, field) is not None:
                    yield where + (field,), f"a leaky-integrator (li) population emits no spikes: {field} does not apply"
        elif isinstance(p, InputPopulation) and s.gradient_threshold is not None:
            yield where + ("gradient_threshold",), "input populations get no surrogate gradient: remove gradient_threshold"


def _projections(spec: ModelSpec, _: Path | None) -> Found:
    index = _population_index(spec)
    known = ", ".join(sorted(index))
    resolved = resolve.delays(spec)
    recurrent = resolve.recurrent_projections(spec)
    for i, proj in enumerate(spec.projections):
        where = ("projections", i)
        source = spec.populations[index[proj.source]] if proj.source in index else None
        target = spec.populations[index[proj.target]] if proj.target in index else None
        if source is None:
            yield where + ("source",), f"unknown population '{proj.source}' (known: {known})"
        elif not resolve.spikes(source):
            yield where + ("source",), f"'{proj.source}' is a leaky integrator (li) and emits no spikes to project"
        if target is None:
            yield where + ("target",), f"unknown population '{proj.target}' (known: {known})"
        elif isinstance(target, InputPopulation):
            yield where + ("target",), f"'{proj.target}' is an input population and cannot receive a projection"
        conn = proj.connectivity
        if isinstance(conn, Sparse):
            if conn.fan_in is not None and conn.probability is not None:
                yield where + ("connectivity", "probability"), "give either fan_in or probability, not both"
            elif conn.fan_in is None and conn.probability is None:
                yield where + ("connectivity",), "sparse connectivity needs fan_in or probability"
            elif conn.fan_in is not None and source is not None and conn.fan_in > source.size:
                yield where + ("connectivity", "fan_in"), (
                    f"fan_in {conn.fan_in} exceeds the {source.size} neurons of source '{source.id}'"
                )
        delay = resolved[proj.id]
        if delay >= spec.timesteps:
            yield where + ("delay",), (
                f"delay {delay} is not below timesteps = {spec.timesteps}: the target would never see these spikes"
            )
        if proj.id in recurrent and delay == 0 and proj.source == proj.target:
            yield where + ("delay",), "a projection from a population to itself needs delay >= 1"


def _cycles(spec: ModelSpec, _: Path | None) -> Found:
    index = {p.id: i for i, p in enumerate(spec.projections)}
    cycles = resolve.zero_delay_cycles(spec)
    back = resolve.recurrent_projections(spec) if cycles else frozenset()
    for cycle in cycles:
        if len(cycle) == 1 and spec.projections[index[cycle[0]]].source == spec.projections[index[cycle[0]]].target:
            continue  # a zero-delay self-loop is reported by _projections
        recurrent = sorted(pid for pid in cycle if pid in back) or cycle
        i = index[recurrent[0]]
        yield ("projections", i, "delay"), (
            f"projections {', '.join(cycle)} form a cycle with zero delay everywhere, which no "
            "timestep can order; give one of them delay >= 1"
        )


def _reachability(spec: ModelSpec, _: Path | None) -> Found:
    index = _population_index(spec)
    has_input = {p.target for p in spec.projections}
    for i, p in enumerate(spec.populations):
        if isinstance(p, NeuronPopulation) and p.id not in has_input:
            yield ("populations", i, "id"), f"neuron population '{p.id}' receives no projection, so it never gets input"
    inputs = [p.id for p in spec.populations if isinstance(p, InputPopulation)]
    targets: dict[str, list[str]] = {}
    for proj in spec.projections:
        if proj.target in index:
            targets.setdefault(proj.source, []).append(proj.target)
    reached = set(inputs)
    frontier = list(inputs)
    while frontier:
        for target in targets.get(frontier.pop(), ()):
            if target not in reached:
                reached.add(target)
                frontier.append(target)
    ro = spec.readout.population
    dangling = any(p.source not in index or p.target not in index for p in spec.projections)
    if inputs and not dangling and ro in index and isinstance(spec.populations[index[ro]], NeuronPopulation) and ro not in reached:
        yield ("readout", "population"), f"readout population '{ro}' is not reachable from the input population"


def _readout(spec: ModelSpec, _: Path | None) -> Found:
    index = _population_index(spec)
    ro = spec.readout
    if ro.population not in index:
        yield ("readout", "population"), f"unknown population '{ro.population}' (known: {', '.join(sorted(index))})"
        return
    pop = spec.populations[index[ro.population]]
    if isinstance(pop, InputPopulation):
        yield ("readout", "population"), f"'{ro.population}' is an input population; read out a neuron population"
    elif not resolve.spikes(pop) and ro.decoding == "spike_count":
        yield ("readout", "decoding"), (
            f"'{ro.population}' is a leaky integrator (li) and never spikes: use membrane_sum or membrane_max"
        )
    if isinstance(spec.training.loss, MSECount) and ro.decoding != "spike_count":
        yield ("training", "loss", "kind"), "mse_count compares spike counts: it needs the readout decoding spike_count"


def _data(spec: ModelSpec, base_dir: Path | None) -> Found:
    index = _population_index(spec)
    inputs = [(i, p) for i, p in enumerate(spec.populations) if isinstance(p, InputPopulation)]
    readout_i = index.get(spec.readout.population)
    readout = spec.populations[readout_i] if readout_i is not None else None
    data = spec.data
    classes = None
    if isinstance(data, DigitsData):
        classes = DIGITS_CLASSES
        if inputs and inputs[0][1].size != DIGITS_INPUTS:
            yield ("populations", inputs[0][0], "size"), (
                f"the digits data set has {DIGITS_INPUTS} inputs (8x8 pixels), not {inputs[0][1].size}"
            )
    elif isinstance(data, SyntheticData):
        classes = data.num_classes
        test = round(data.num_samples * data.test_fraction)
        if test < 1 or test >= data.num_samples:
            yield ("data", "test_fraction"), f"a test fraction of {data.test_fraction:g} leaves an empty split of {data.num_samples} samples"
    elif isinstance(data, NpzData) and base_dir is not None:
        path = (base_dir / data.path)
        if not path.is_file():
            yield ("data", "path"), f"no such file: {path}"
    elif isinstance(data, RandmanData):
        classes = data.num_classes
        n = data.num_classes * data.samples_per_class
        test = round(n * data.test_fraction)
        if test < 1 or test >= n:
            yield ("data", "test_fraction"), f"a test fraction of {data.test_fraction:g} leaves an empty split of {n} samples"
    elif isinstance(data, (HeidelbergData, TonicData)):
        yield from _event_data(spec, data, inputs)
        classes = event_set(data).classes
    if classes is not None and isinstance(readout, NeuronPopulation) and readout.size != classes:
        yield ("populations", readout_i, "size"), (
            f"readout population '{readout.id}' has {readout.size} neurons but the data has {classes} classes"
        )


def _event_data(spec: ModelSpec, data: HeidelbergData | TonicData, inputs) -> Found:
    name = data.dataset if isinstance(data, TonicData) else data.kind.upper()
    if data.bin_width is not None and data.duration is not None:
        yield ("data", "duration"), "give bin_width or duration, not both (bin_width = duration / timesteps)"
    if data.test_split not in event_set(data).splits:
        yield ("data", "test_split"), f"{name} has no '{data.test_split}' split (it has {', '.join(event_set(data).splits)})"
    size = input_size(data)
    if inputs and inputs[0][1].size != size:
        how = f" after downsample {data.downsample}" if data.downsample > 1 else ""
        yield ("populations", inputs[0][0], "size"), f"{name} has {size} input channels{how}, not {inputs[0][1].size}"


#: Tile clocks the cost model means (GC200 1.33 GHz, Bow 1.85 GHz): its cycle figures are a
#: GHz-class tile's, and a clock far outside makes step times overflow or vanish.
CLOCK_HZ_RANGE = (1e6, 1e11)


def _target(spec: ModelSpec, _: Path | None) -> Found:
    low, high = CLOCK_HZ_RANGE
    clock = spec.target.clock_hz
    if not low <= clock <= high:
        yield ("target", "clock_hz"), (
            f"clock_hz = {clock:g} is not a tile clock: give one between {low:g} and {high:g} Hz "
            "(GC200 1.33e9, Bow 1.85e9)"
        )


def _training(spec: ModelSpec, _: Path | None) -> Found:
    replicas = spec.target.replication_factor
    if spec.training.batch_size % replicas:
        # point at the value the file gives: the batch size may be the default
        given = "batch_size" in spec.training.model_fields_set and "training" in spec.model_fields_set
        yield ("training", "batch_size") if given else ("target", "replication_factor"), (
            f"batch_size {spec.training.batch_size} does not split evenly over replication_factor = {replicas}"
        )
