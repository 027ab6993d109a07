"""Receive buffers in the memory check and report, and output poisoning (debug_checks.cpp).

Oracles: receive bytes computed by hand from the program's mapping (docs/runtime.md, Memory
model); Poplar refuses a graph whose tile needs more than its memory; poisoned bits are the
documented patterns (float quiet NaN 0x7fc00000, half NaN 0x7e00, other types bytes 0xa5).
"""

from __future__ import annotations

import json

import pytest

FLOAT = {1: "3f800000", 2: "40000000", 3: "40400000", 4: "40800000", 5: "40a00000", 7: "40e00000"}
HALF = {2: "00004000", 3: "00004200", 4: "00004400", 5: "00004500"}
NAN, HALF_NAN = "7fc00000", "00007e00"


def test_receive_bytes_per_tile_are_the_peak_over_compute_sets(run_program, codelets, tmp_path):
    report = tmp_path / "report.json"
    r = run_program("debug_checks", "receive_report", codelets, env={"SNNCC_RUNTIME_REPORT": str(report)})
    assert r.returncode == 0, r.stderr
    graph_only, engine = json.loads(r.stdout), json.loads(report.read_text())
    tiles = {t["tile"]: t for t in engine["tiles"]}
    # tile 0: "big" receives a (1000 floats on tile 1) = 4000, b is its own; "small" 200 floats of tile 2.
    assert (tiles[0]["receiveBytes"], tiles[0]["receiveComputeSet"]) == (4000, "big")
    # tile 1: "small" receives d (50 floats of tile 0) and writes one float on tile 3.
    assert (tiles[1]["receiveBytes"], tiles[1]["receiveComputeSet"]) == (204, "small")
    assert (tiles[2]["receiveBytes"], tiles[2]["receiveComputeSet"]) == (0, "")
    # b, d, o0, o1 + two SumIn vertices (in SPAN 8 + out 4) + the receive peak.
    assert tiles[0]["totalBytes"] == 40 + 200 + 4 + 4 + 2 * 12 + 4000
    assert tiles[1]["totalBytes"] == 4000 + 12 + 204
    assert engine["maxTileBytes"] == tiles[0]["totalBytes"]
    cs = {c["name"]: c for c in engine["computeSets"]}
    assert (cs["big"]["exchangeBytes"], cs["big"]["maxTileReceiveBytes"]) == (4000, 4000)
    assert (cs["small"]["exchangeBytes"], cs["small"]["maxTileReceiveBytes"]) == (800 + 204, 800)
    assert all(c["executions"] == 1 for c in cs.values())
    # memoryReport(graph), before any Engine, has the same memory and static compute set figures.
    assert graph_only["tiles"] == engine["tiles"]
    assert graph_only["maxTileBytes"] == engine["maxTileBytes"]
    assert [{**c, "executions": 1} for c in graph_only["computeSets"]] == [
        {**c, "nanoseconds": 0, "threads": ""} for c in engine["computeSets"]]
    assert all(c["nanoseconds"] > 0 for c in engine["computeSets"])
    # "big" spans tiles 0 and 1 with 4 KiB of edges: under the 16 KiB for the pool
    assert {c["threads"] for c in engine["computeSets"]} == {"caller"}


def test_remote_read_past_the_tile_memory_is_refused(run_program, codelets):
    r = run_program("debug_checks", "remote_read", codelets)
    assert r.returncode == 0, r.stderr
    line = r.stdout.strip()
    assert line.startswith("caught graph_memory_allocation_error: "), line
    # y 10000 + receive buffer 24000 + out 4 + vertex state 12 over 30000.
    for fragment in ["tile 0 needs 34016 bytes", "30000 bytes per tile", "receive buffers 24000",
                     "compute set 'sum'", "snncc_test::SumIn.in of vertex 0", "receiving 24000 bytes"]:
        assert fragment in line, fragment
    assert "\n" not in line


def test_the_same_read_from_tile_local_data_runs(run_program, codelets):
    r = run_program("debug_checks", "local_read", codelets)
    assert r.returncode == 0 and r.stdout.strip() == "accepted sum=3000", r.stdout + r.stderr


@pytest.mark.parametrize("how", [("debug.allowOutOfMemory", "true"), "SNNCC_ALLOW_OUT_OF_MEMORY"])
def test_out_of_memory_allowed_still_runs(run_program, codelets, how):
    if isinstance(how, tuple):
        r = run_program("debug_checks", "remote_read", codelets, *how)
    else:
        r = run_program("debug_checks", "remote_read", codelets, env={how: "1"})
    assert r.returncode == 0 and r.stdout.strip() == "accepted sum=3000", r.stdout + r.stderr


def test_option_overrides_the_allow_out_of_memory_variable(run_program, codelets):
    r = run_program("debug_checks", "remote_read", codelets, "debug.allowOutOfMemory", "false",
                    env={"SNNCC_ALLOW_OUT_OF_MEMORY": "1"})
    assert r.stdout.startswith("caught graph_memory_allocation_error: "), r.stdout + r.stderr


def poison_run(run_program, codelets, *option, env=None):
    """{tensor: [hex bits per element]} after one execution, or the "caught ..." line."""
    r = run_program("debug_checks", "poison", codelets, *option, env=env)
    assert r.returncode == 0, r.stderr
    if r.stdout.startswith("caught"):
        return r.stdout.strip()
    return {line.split()[0]: line.split()[1:] for line in r.stdout.splitlines()}


NOT_POISONED = {
    "addf": [FLOAT[i] for i in (2, 3, 4, 5)],                 # old value + 1
    "addh": [HALF[i] for i in (2, 3, 4, 5)],
    "addu": ["00000002", "00000003", "00000004", "00000005"],
    "inout": [FLOAT[i] for i in (2, 3, 4, 5)],
    "first": [FLOAT[7], FLOAT[2], FLOAT[3], FLOAT[4]],
}
POISONED = {
    "addf": [NAN] * 4,                                        # NaN + 1
    "addh": [HALF_NAN] * 4,
    "addu": ["a5a5a5a6"] * 4,                                 # 0xa5a5a5a5 + 1
    "inout": NOT_POISONED["inout"],                           # InOut keeps its value
    "first": [FLOAT[7], NAN, NAN, NAN],                       # the rest of a partial write
    # the split edge covers elements 0, 1, 4, 5: its staging buffer is poisoned too
    "staged": [FLOAT[7], NAN, FLOAT[3], FLOAT[4], NAN, NAN],
}


@pytest.mark.parametrize("option, env", [(("snncc.poisonOutputs", "true"), None),
                                         ((), {"SNNCC_POISON_OUTPUTS": "1"})])
def test_poisoned_outputs(run_program, codelets, option, env):
    assert poison_run(run_program, codelets, *option, env=env) == POISONED


@pytest.mark.parametrize("option, env", [((), None), (("snncc.poisonOutputs", "false"), None),
                                         (("snncc.poisonOutputs", "false"), {"SNNCC_POISON_OUTPUTS": "1"}),
                                         ((), {"SNNCC_POISON_OUTPUTS": "0"})])
def test_outputs_not_poisoned(run_program, codelets, option, env):
    got = poison_run(run_program, codelets, *option, env=env)
    assert {k: v for k, v in got.items() if k != "staged"} == NOT_POISONED
    assert got["staged"][2:4] == [FLOAT[3], FLOAT[4]]  # outside the edge: untouched


@pytest.mark.parametrize("option, env, fragment", [
    (("snncc.poisonOutputs", "1"), None, "snncc.poisonOutputs must be true or false, not '1'"),
    ((), {"SNNCC_POISON_OUTPUTS": "true"}, "SNNCC_POISON_OUTPUTS must be 1 or 0, not 'true'"),
    ((), {"SNNCC_ALLOW_OUT_OF_MEMORY": "yes"}, "SNNCC_ALLOW_OUT_OF_MEMORY must be 1 or 0, not 'yes'"),
])
def test_bad_flag_values_are_invalid_options(run_program, codelets, option, env, fragment):
    assert poison_run(run_program, codelets, *option, env=env) == f"caught invalid_option: {fragment}"
