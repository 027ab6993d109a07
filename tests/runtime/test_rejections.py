"""Each faulty graph fails with Poplar's exception type and a message saying where and what."""

from __future__ import annotations

import pytest

CASES = {
    "overlapping_writes": ("graph_cycle_error", ["elements [4:5) of variable 'x'", "compute set 'cs'"]),
    "read_of_written": ("graph_cycle_error", ["ScaleAdd<float>.bias", "variable 'x'"]),
    "unmapped_tensor": ("invalid_tile_mapping", ["Tensor 'x'", "[7:8)"]),
    "unmapped_vertex": ("invalid_tile_mapping", ["vertex 0 (snncc_test::ScaleAdd<float>)"]),
    "out_of_memory": ("graph_memory_allocation_error", ["tile 0 needs 160016 bytes", "160000 bytes per tile"]),
    "unregistered_codelet_file": ("graph_program_compilation_error", ["NotRegistered", "unregistered.cpp"]),
    "missing_codelet_file": ("file_load_error", ["no_such_file.cpp"]),
    "unknown_vertex_type": ("unknown_vertex_type", ["snncc_test::NoSuchVertex"]),
    "unknown_field": ("unknown_field", ["'nope'", "snncc_test::CountDown"]),
    "type_mismatch": ("graph_connection_error", ["CountDown.counter", "unsigned int", "float"]),
    "unconnected_field": ("graph_connection_error", ["CountDown.keepGoing", "not connected"]),
    "unknown_option": ("invalid_option", ["snncc.noSuchOption"]),
    "unconnected_stream": ("stream_connection_error", ["Stream 'in'"]),
    "bad_slice": ("index_error", ["[1, 5)", "{4,2}"]),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_rejected_with_poplar_exception(run_program, codelets, case):
    kind, fragments = CASES[case]
    r = run_program("rejections", case, codelets)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.startswith(f"caught {kind}: "), r.stdout
    for fragment in fragments:
        assert fragment in r.stdout


@pytest.mark.parametrize("case", ["disjoint_writes_ok", "fits_exactly", "allow_out_of_memory"])
def test_valid_neighbours_of_the_rejected_cases_are_accepted(run_program, codelets, case):
    # The checks fire at the boundary, not earlier: a graph one byte or one
    # element away from a rejected one is accepted.
    r = run_program("rejections", case, codelets)
    assert r.returncode == 0 and r.stdout.strip() == "accepted", r.stdout + r.stderr
