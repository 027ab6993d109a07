"""A spiking layer with streams, Repeat and three compute sets, against numpy.

Checks values (sparse row sums, leaky integration, spike lists), identical
results for 1, 2, 3 and 4 threads, and the runtime's report: memory per tile per
tensor and exchange bytes per compute set, computed independently here.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

NUM_IN, NUM_OUT, TILES, STEPS, CAP = 40, 24, 4, 12, 10
DECAY, THRESHOLD = np.float32(0.875), np.float32(1.25)


def make_inputs(seed: int):
    rng = np.random.default_rng(seed)
    w = rng.normal(0.0, 0.6, size=(NUM_IN, NUM_OUT)).astype(np.float32)
    counts = rng.integers(0, CAP + 1, size=STEPS).astype(np.uint32)
    ids = np.zeros((STEPS, CAP), dtype=np.uint32)
    for t in range(STEPS):
        ids[t, : counts[t]] = rng.choice(NUM_IN, size=counts[t], replace=False)
        ids[t, counts[t] :] = rng.integers(0, 2**31, size=CAP - counts[t])  # garbage past count
    return w, ids, counts


def reference(w, ids, counts):
    """Float32 arithmetic in the codelets' order."""
    per = NUM_OUT // TILES
    v = np.zeros(NUM_OUT, np.float32)
    spikes, lists = [], []
    for t in range(STEPS):
        x = np.zeros(NUM_OUT, np.float32)
        for k in range(counts[t]):
            x = x + w[ids[t, k]]
        u = DECAY * v + x
        s = u > THRESHOLD
        v = np.where(s, u - THRESHOLD, u).astype(np.float32)
        spikes.append(s.astype(np.float32))
        lists.append([np.flatnonzero(s[i * per : (i + 1) * per]) + i * per for i in range(TILES)])
    return np.array(spikes), v, lists


def run(run_program, codelets, tmp_path, seed, threads, report=None, env=None):
    w, ids, counts = make_inputs(seed)
    inp = tmp_path / f"in{seed}.bin"
    with open(inp, "wb") as f:
        np.array([NUM_IN, NUM_OUT, TILES, STEPS, CAP], np.uint32).tofile(f)
        np.array([DECAY, THRESHOLD], np.float32).tofile(f)
        w.tofile(f)
        ids.tofile(f)
        counts.tofile(f)
    out = tmp_path / f"out{seed}-{threads}-{len(env or ())}.bin"
    env = {**(env or {}), **({"SNNCC_RUNTIME_REPORT": str(report)} if report else {})}
    r = run_program("snn_program", inp, out, codelets, threads=threads, env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    raw = out.read_bytes()
    n1, n2 = STEPS * NUM_OUT, NUM_OUT
    spikes = np.frombuffer(raw, np.float32, n1, 0).reshape(STEPS, NUM_OUT)
    v = np.frombuffer(raw, np.float32, n2, 4 * n1)
    out_ids = np.frombuffer(raw, np.uint32, n1, 4 * (n1 + n2)).reshape(STEPS, NUM_OUT)
    out_counts = np.frombuffer(raw, np.uint32, STEPS * TILES, 4 * (2 * n1 + n2)).reshape(STEPS, TILES)
    return (w, ids, counts), spikes, v, out_ids, out_counts, raw


@pytest.mark.parametrize("seed", [1, 2])
def test_values_match_numpy(run_program, codelets, tmp_path, seed):
    inputs, spikes, v, out_ids, out_counts, _ = run(run_program, codelets, tmp_path, seed, threads=2)
    ref_spikes, ref_v, ref_lists = reference(*inputs)
    assert ref_spikes.sum() > 5, "the test must produce spikes"
    np.testing.assert_array_equal(spikes, ref_spikes)
    np.testing.assert_allclose(v, ref_v, rtol=1e-6, atol=1e-6)
    per = NUM_OUT // TILES
    for t in range(STEPS):
        for tile in range(TILES):
            n = out_counts[t, tile]
            assert list(out_ids[t, tile * per : tile * per + n]) == list(ref_lists[t][tile])


@pytest.mark.parametrize("min_bytes", [None, "0"])
def test_identical_for_any_thread_count(run_program, codelets, tmp_path, min_bytes):
    # min_bytes "0": every compute set with two or more tiles runs on the pool,
    # however small (by default small ones run on the calling thread).
    env = {"SNNCC_PARALLEL_MIN_BYTES": min_bytes} if min_bytes else None
    outputs = [run(run_program, codelets, tmp_path, 3, threads=n, env=env)[-1] for n in (1, 2, 3, 4)]
    assert outputs[0] == outputs[1] == outputs[2] == outputs[3]


def test_report_memory_and_exchange(run_program, codelets, tmp_path):
    report_path = tmp_path / "report.json"
    run(run_program, codelets, tmp_path, 4, threads=2, report=report_path)
    rep = json.loads(report_path.read_text())
    per = NUM_OUT // TILES
    # Memory: what each tile holds, from the program's mapping.
    expected = {}
    for tile in range(TILES):
        tensors = {"weights": NUM_IN * per * 4, "x": per * 4, "v": per * 4, "spikes": per * 4,
                   "outIds": per * 4, "outCounts": 4}
        if tile == 0:
            tensors.update({"inIds": CAP * 4, "inCount": 4, "zero": 4})
        # SparseRowSum: ids, count, weights (4 each), out SPAN 8, numOut 4;
        # LeakyIntegrate: v SPAN 8, x, spikes, decay, threshold 4 each;
        # CollectSpikes: spikes SPAN 8, ids, count, offset 4 each.
        vertex_state = 24 + 24 + 20
        expected[tile] = (tensors, vertex_state)
    assert rep["numTiles"] == TILES and rep["bytesPerTile"] == 624 * 1024
    assert [t["tile"] for t in rep["tiles"]] == list(range(TILES))
    for t in rep["tiles"]:
        tensors, vs = expected[t["tile"]]
        assert t["tensorBytes"] == tensors
        assert t["vertexStateBytes"] == vs
        # Receive buffers: tiles 1..3's SparseRowSum reads the input list and count of tile 0.
        receive = (CAP + 1) * 4 if t["tile"] else 0
        assert (t["receiveBytes"], t["receiveComputeSet"]) == (receive, "synapses" if receive else "")
        assert t["totalBytes"] == sum(tensors.values()) + vs + receive
    assert rep["maxTileBytes"] == max(t["totalBytes"] for t in rep["tiles"])
    # Exchange: tiles 1..3 read the input list and its count from tile 0.
    cs = {c["name"]: c for c in rep["computeSets"]}
    assert cs["synapses"]["exchangeBytes"] == (TILES - 1) * (CAP + 1) * 4
    assert cs["neurons"]["exchangeBytes"] == 0 and cs["collect"]["exchangeBytes"] == 0
    assert all(c["executions"] == STEPS for c in cs.values())
    assert cs["synapses"]["numVertices"] == TILES and cs["synapses"]["numTiles"] == TILES
    # The zero constant on tile 0 is copied into v on every tile.
    assert rep["copyExchangeBytes"] == (NUM_OUT - per) * 4
    assert rep["streamBytesToDevice"] == STEPS * (CAP + 1) * 4
    assert rep["streamBytesToHost"] == STEPS * (2 * NUM_OUT + TILES) * 4
