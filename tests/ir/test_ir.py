"""The graph IR and its passes, against hand-computed values."""

from __future__ import annotations

from pathlib import Path

import json

import networkx as nx
import pytest

from snncc.cli import main
from snncc.ir import DEFAULT_PASSES, IRError, build_graph, run_passes, spec_to_ir, verify
from snncc.spec import load_spec, parse_spec

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("*.json"))


def spec_from(doc: dict):
    return parse_spec(json.dumps(doc))


def chain(sizes, delays=None, **extra) -> dict:
    """A feed-forward stack on synthetic data: sizes[0] inputs, then LIF layers."""
    delays = delays or [0] * (len(sizes) - 1)
    pops = [{"kind": "input", "id": "l0", "size": sizes[0]}]
    pops += [{"kind": "neuron", "id": f"l{i}", "size": n, "neuron": {"model": "lif", "beta": 0.9}}
             for i, n in enumerate(sizes[1:], 1)]
    projs = [{"id": f"p{i}", "source": f"l{i - 1}", "target": f"l{i}", "delay": d}
             for i, d in enumerate(delays, 1)]
    doc = {"name": "chain", "timesteps": 10, "populations": pops, "projections": projs,
           "readout": {"population": f"l{len(sizes) - 1}"},
           "data": {"kind": "synthetic", "num_classes": sizes[-1]}}
    doc.update(extra)
    return doc


def test_shd_counts():
    ir = spec_to_ir(load_spec(ROOT / "examples" / "shd_mlp.json"))
    assert sum(p.size for p in ir.populations) == 3660
    weights = {p.id: ir.shapes(p).weight for p in ir.projections}
    assert weights == {"in_to_h1": (700, 1470), "h1_to_h2": (1470, 1470), "h2_to_out": (1470, 20)}
    assert sum(ir.shapes(p).stored_weights for p in ir.projections) == 700 * 1470 + 1470 * 1470 + 1470 * 20


def test_inspect_reports_shd_counts(capsys):
    assert main(["inspect", str(ROOT / "examples" / "shd_mlp.json")]) == 0
    out = capsys.readouterr().out
    assert "neurons: 3,660 (700 input, 2,960 simulated)" in out
    assert f"weights: {700 * 1470 + 1470 * 1470 + 1470 * 20:,} (700x1470 + 1470x1470 + 1470x20)" in out
    assert "biases: 0" in out


def test_schedule_zero_delay_chain_is_one_stage_per_layer():
    ir = spec_to_ir(spec_from(chain([8, 6, 5, 4])))
    assert ir.stages == [["l1"], ["l2"], ["l3"]]
    assert ir.stage("l0") == -1


def test_schedule_delay_one_chain_is_one_stage():
    ir = spec_to_ir(spec_from(chain([8, 6, 5, 4], delays=[1, 1, 1])))
    assert ir.stages == [["l1", "l2", "l3"]]


def test_schedule_mixed_delays():
    # l1 -> l2 delayed, l2 -> l3 immediate: l1 and l2 together, l3 after l2
    ir = spec_to_ir(spec_from(chain([8, 6, 5, 4], delays=[0, 1, 0])))
    assert ir.stages == [["l1", "l2"], ["l3"]]


def test_pipelined_example_is_one_stage():
    ir = spec_to_ir(load_spec(ROOT / "examples" / "pipelined.json"))
    assert len(ir.stages) == 1 and len(ir.stages[0]) == 5


def test_recurrent_projection_defaults_to_delay_one():
    doc = chain([8, 6, 4])
    doc["projections"].append({"id": "back", "source": "l2", "target": "l1"})
    doc["projections"].append({"id": "self", "source": "l1", "target": "l1"})
    ir = spec_to_ir(spec_from(doc))
    by_id = {p.id: p for p in ir.projections}
    assert (by_id["back"].delay, by_id["back"].recurrent) == (1, True)
    assert (by_id["self"].delay, by_id["self"].recurrent) == (1, True)
    # the forward edges of the cycle stay zero-delay feed-forward projections
    assert (by_id["p1"].delay, by_id["p1"].recurrent) == (0, False)
    assert (by_id["p2"].delay, by_id["p2"].recurrent) == (0, False)
    assert ir.stages == [["l1"], ["l2"]]


def test_population_parameters_resolved():
    doc = chain([8, 4], dt=0.001, discretisation="exact")
    doc["populations"][1]["neuron"] = {"model": "cuba_lif", "tau_mem": 0.02, "alpha": 0.5, "threshold": 2.0}
    pop = spec_to_ir(spec_from(doc)).population("l1")
    assert pop.beta == pytest.approx(0.951229424500714)  # exp(-1/20)
    assert pop.alpha == 0.5 and pop.threshold == 2.0 and pop.state_vars == ("isyn", "mem")
    doc["discretisation"] = "euler"
    assert spec_to_ir(spec_from(doc)).population("l1").beta == pytest.approx(0.95)


def test_capacity_rounding():
    doc = chain([700, 1470, 20])
    doc["populations"][1]["sparsity"] = {"max_activity": 0.01}
    doc["populations"][0]["sparsity"] = {"max_spikes": 48}
    ir = spec_to_ir(spec_from(doc))
    assert ir.population("l1").capacity == 15  # ceil(14.7)
    assert ir.population("l0").capacity == 48
    assert ir.population("l2").capacity == 20  # no sparsity: dense


def test_sparse_projection_shapes():
    doc = chain([64, 30, 10])
    doc["data"] = {"kind": "digits"}
    doc["projections"][0]["connectivity"] = {"kind": "sparse", "fan_in": 7, "seed": 3}
    doc["projections"][1]["connectivity"] = {"kind": "sparse", "probability": 0.5}
    ir = spec_to_ir(spec_from(doc))
    p1, p2 = ir.projections
    assert ir.shapes(p1).stored_weights == 7 * 30
    assert ir.shapes(p2).stored_weights == 150  # 0.5 x 30 x 10 expected
    assert p1.mask_seed == 3 and p1.fan_in == 7


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.name for e in EXAMPLES])
def test_passes_keep_the_ir_valid_and_are_pure(example):
    base = build_graph(load_spec(example))
    before = nx.to_dict_of_dicts(base.graph)
    seen = []
    ir = run_passes(base, DEFAULT_PASSES, callback=lambda p, _: seen.append(p.name), check=True)
    assert seen == ["shapes", "schedule"]
    assert nx.to_dict_of_dicts(base.graph) == before  # the input graph was not modified
    assert "stage" not in base.graph.nodes[base.populations[0].id]
    verify(ir)


def test_verify_catches_a_broken_schedule():
    ir = spec_to_ir(spec_from(chain([8, 6, 4])))
    ir.graph.nodes["l2"]["stage"] = 0  # l2 waits for l1 within the timestep: it cannot share its stage
    with pytest.raises(IRError, match="p2"):
        verify(ir)


def test_ir_is_deterministic():
    spec = load_spec(ROOT / "examples" / "recurrent.json")
    a, b = spec_to_ir(spec), spec_to_ir(spec)
    assert a.populations == b.populations and a.projections == b.projections and a.stages == b.stages


def test_graphml_and_dot_export(tmp_path, capsys):
    gml, dot = tmp_path / "g.graphml", tmp_path / "g.dot"
    assert main(["inspect", str(ROOT / "examples" / "recurrent.json"), "--graphml", str(gml), "--dot", str(dot)]) == 0
    graph = nx.read_graphml(gml, force_multigraph=True)
    assert sorted(graph.nodes) == ["hidden", "output", "pixels"]
    assert graph.nodes["hidden"]["size"] == 128
    edge = [d for _, _, k, d in graph.edges(keys=True, data=True) if k == "hidden_recurrent"]
    assert edge and edge[0]["delay"] == 1 and edge[0]["recurrent"] is True
    text = dot.read_text()
    assert text.startswith('digraph "recurrent"') and "hidden -> hidden" in text and "dashed" in text
