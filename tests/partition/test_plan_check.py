"""check_plan: sound plans pass, and every planted fault is reported with the population and the index."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from partition_helpers import example_ir
from snncc.partition.memory import CATEGORIES
from snncc.partition import make_plan
from snncc.partition.check import check_plan
from snncc.partition.plan import TileMemory


@pytest.fixture(scope="module")
def digits():
    ir = example_ir("digits")
    return ir, make_plan(ir)


def _placed(plan, pid, **change):
    return dataclasses.replace(plan, placements=tuple(
        dataclasses.replace(p, **change) if p.population == pid else p for p in plan.placements))


def _reported(problems, *words) -> bool:
    return any(all(w in m for w in words) for m in problems)


def test_the_example_plan_is_sound(digits):
    assert check_plan(*digits) == []


#: (population, field changed, value, words the message must hold)
FAULTS = [
    ("hidden", "num_tiles", 255, ("'hidden'", "255", "neurons_per_tile 1")),
    ("hidden", "neurons_per_tile", 2, ("'hidden'", "neurons_per_tile 2")),
    ("hidden", "remainder", 3, ("'hidden'", "remainder 3")),
    ("hidden", "first_tile", 1300, ("'hidden'", "1300", "outside IPU 0")),
    ("output", "first_tile", -1, ("'output'", "-1", "outside IPU 0")),
    ("output", "ipu", 3, ("'output'", "ipu 3")),
    ("output", "list_tiles", 11, ("'output'", "list_tiles 11")),
    ("output", "list_offset", 10, ("'output'", "list_offset 10")),
    ("output", "samples_per_list_tile", 6, ("'output'", "of 6 samples")),
    ("output", "samples_per_list_tile", 64, ("'output'", "of 64 samples")),
    ("output", "size", 11, ("'output'", "size 11")),
    ("output", "kind", "input", ("'output'", "kind 'input'")),
    ("output", "stage", 0, ("'output'", "stage 0")),
    ("pixels", "list_tiles", 0, ("'pixels'", "list_tiles 0")),
]


@pytest.mark.parametrize("population, field, value, words", FAULTS,
                         ids=[f"{p}.{f}={v}" for p, f, v, _ in FAULTS])
def test_a_bad_placement_is_reported(digits, population, field, value, words):
    ir, plan = digits
    problems = check_plan(ir, _placed(plan, population, **{field: value}))
    assert _reported(problems, *words), problems


def test_a_population_placed_twice_or_not_at_all_is_reported(digits):
    ir, plan = digits
    twice = dataclasses.replace(plan, placements=plan.placements + plan.placements[-1:])
    assert _reported(check_plan(ir, twice), "'output'", "placed 2 times")
    missing = dataclasses.replace(plan, placements=plan.placements[:-1])
    assert _reported(check_plan(ir, missing), "'output'", "not placed")
    stranger = _placed(plan, "output", population="nobody")
    problems = check_plan(ir, stranger)
    assert _reported(problems, "'nobody'", "no such population") and _reported(problems, "'output'", "not placed")


def test_an_ipu_not_listing_its_population_is_reported(digits):
    ir, plan = digits
    ipus = (dataclasses.replace(plan.ipus[0], populations=plan.ipus[0].populations[:-1]),) + plan.ipus[1:]
    assert _reported(check_plan(ir, dataclasses.replace(plan, ipus=ipus)), "'output'", "IPU 0")
    ipus = (dataclasses.replace(plan.ipus[0], last_tile=5),) + plan.ipus[1:]
    assert _reported(check_plan(ir, dataclasses.replace(plan, ipus=ipus)), "IPU 0", "5")


def test_a_byte_table_not_the_memory_model_is_reported(digits):
    ir, plan = digits
    table = plan.tile_memory.bytes.copy()
    table[70, 0] += 4
    bad = dataclasses.replace(plan, tile_memory=TileMemory(table, plan.bytes_per_tile))
    assert _reported(check_plan(ir, bad), "tile 70", "memory model")
    # the receive buffers too (the verifier recounts them from the placements)
    table = plan.tile_memory.bytes.copy()
    table[70, CATEGORIES.index("receive")] -= 4
    bad = dataclasses.replace(plan, tile_memory=TileMemory(table, plan.bytes_per_tile))
    assert _reported(check_plan(ir, bad), "tile 70", "memory model")


def test_a_tile_over_the_target_is_reported(digits):
    ir, plan = digits
    worst = int(plan.tile_memory.totals.argmax())
    small = int(plan.tile_memory.totals.max()) - 1
    problems = check_plan(ir, dataclasses.replace(plan, bytes_per_tile=small))
    assert _reported(problems, f"tile {worst}", f"over the target's {small}"), problems
    assert _reported(problems, f"bytes_per_tile {small}")


def test_every_planted_fault_changes_the_answer(digits):
    # a verifier that cannot fail would pass these; the sound plan has no problem at all
    ir, plan = digits
    assert not check_plan(ir, plan)
    assert all(check_plan(ir, _placed(plan, p, **{f: v})) for p, f, v, _ in FAULTS)
    assert np.array_equal(plan.tile_memory.bytes, make_plan(ir).tile_memory.bytes)
