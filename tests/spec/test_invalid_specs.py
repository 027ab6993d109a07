"""One invalid spec per rule: exit 1, and the exact line, column and JSON Pointer of the offending value.

Each case is a small model file with the marker «» placed by hand right before the value
the error must point at; the expected LINE:COL is the marker's position in the text once
the marker is removed, so the oracle is the hand-placed marker, not the code.
"""

from __future__ import annotations

import re

import pytest

from snncc.cli import main

MARK = "«»"

BASE = """{
  "name": "tiny",
  "timesteps": 10,
  "populations": [
    {"kind": "input", "id": "inp", "size": 64},
    {"kind": "neuron", "id": "hid", "size": 32, "neuron": {"model": "lif", "beta": 0.9}},
    {"kind": "neuron", "id": "out", "size": 10, "neuron": {"model": "lif", "beta": 0.9}}
  ],
  "projections": [
    {"id": "p1", "source": "inp", "target": "hid"},
    {"id": "p2", "source": "hid", "target": "out"}
  ],
  "readout": {"population": "out", "decoding": "spike_count"},
  "training": {"batch_size": 16, "epochs": 2},
  "data": {"kind": "digits"}
}
"""


def edit(old: str, new: str, text: str = BASE) -> str:
    assert text.count(old) == 1, f"ambiguous or missing edit anchor {old!r}"
    return text.replace(old, new)


# (case id, document with the marker, expected pointer, a fragment of the message)
CASES = [
    # --- wrong types
    ("timesteps_string", edit('"timesteps": 10', '"timesteps": «»"10"'), "/timesteps", "valid integer"),
    ("timesteps_float", edit('"timesteps": 10', '"timesteps": «»10.5'), "/timesteps", "valid integer"),
    ("size_bool", edit('"id": "hid", "size": 32', '"id": "hid", "size": «»true'), "/populations/1/size", "valid integer"),
    ("beta_string", edit('"id": "hid", "size": 32, "neuron": {"model": "lif", "beta": 0.9}',
                         '"id": "hid", "size": 32, "neuron": {"model": "lif", "beta": «»"0.9"}'),
     "/populations/1/neuron/beta", "valid number"),
    ("projections_object", edit('"projections": [\n    {"id": "p1", "source": "inp", "target": "hid"},\n'
                                '    {"id": "p2", "source": "hid", "target": "out"}\n  ]',
                                '"projections": «»{"p1": "inp -> hid"}'), "/projections", "valid array"),
    ("bias_number", edit('{"id": "p1", "source": "inp", "target": "hid"}',
                         '{"id": "p1", "source": "inp", "target": "hid", "bias": «»1}'),
     "/projections/0/bias", "valid boolean"),
    # --- missing fields and unknown keys
    # a missing field is located at the object that lacks it
    ("missing_name", "«»" + edit('  "name": "tiny",\n', ""), "/name", "missing required field 'name'"),
    ("missing_size", edit('{"kind": "input", "id": "inp", "size": 64}', '«»{"kind": "input", "id": "inp"}'),
     "/populations/0/size", "missing required field 'size'"),
    ("missing_neuron", edit('{"kind": "neuron", "id": "out", "size": 10, "neuron": {"model": "lif", "beta": 0.9}}',
                            '«»{"kind": "neuron", "id": "out", "size": 10}'), "/populations/2/neuron",
     "missing required field 'neuron'"),
    ("unknown_key", edit('"training": {"batch_size": 16', '"training": {«»"batchsize": 16'),
     "/training/batchsize", "unknown field 'batchsize'"),
    ("li_threshold", edit('"id": "out", "size": 10, "neuron": {"model": "lif", "beta": 0.9}',
                          '"id": "out", "size": 10, "neuron": {"model": "li", "beta": 0.9, «»"threshold": 1.0}'),
     "/populations/2/neuron/threshold", "unknown field 'threshold'"),
    ("unknown_model", edit('"id": "hid", "size": 32, "neuron": {"model": "lif"',
                           '"id": "hid", "size": 32, "neuron": {"model": «»"izhikevich"'),
     "/populations/1/neuron/model", "unknown model 'izhikevich'"),
    ("unknown_kind", edit('{"kind": "input", "id": "inp"', '{"kind": «»"sensor", "id": "inp"'),
     "/populations/0/kind", "unknown kind 'sensor'"),
    ("unknown_data_kind", edit('"data": {"kind": "digits"}', '"data": {"kind": «»"mnist"}'),
     "/data/kind", "unknown kind 'mnist'"),
    # --- unsafe ids
    ("id_with_space", edit('"id": "hid", "size"', '"id": «»"hid den", "size"'), "/populations/1/id", "identifier"),
    ("id_path", edit('"id": "p1"', '"id": «»"../../etc/passwd"'), "/projections/0/id", "identifier"),
    ("id_starts_digit", edit('"name": "tiny"', '"name": «»"1tiny"'), "/name", "identifier"),
    ("id_shell", edit('"id": "inp", "size"', '"id": «»"inp;rm -rf", "size"'), "/populations/0/id", "identifier"),
    # --- dangling references
    ("unknown_source", edit('"source": "inp"', '"source": «»"input"'), "/projections/0/source", "unknown population 'input'"),
    ("unknown_target", edit('"target": "out"', '"target": «»"outp"'), "/projections/1/target", "unknown population 'outp'"),
    ("unknown_readout", edit('"readout": {"population": "out"', '"readout": {"population": «»"result"'),
     "/readout/population", "unknown population 'result'"),
    ("target_is_input", edit('"source": "hid", "target": "out"', '"source": "hid", "target": «»"inp"'),
     "/projections/1/target", "input population"),
    ("readout_is_input", edit('"readout": {"population": "out"', '"readout": {"population": «»"inp"'),
     "/readout/population", "input population"),
    ("duplicate_population", edit('{"kind": "neuron", "id": "out"', '{"kind": "neuron", "id": «»"hid"'),
     "/populations/2/id", "duplicate id 'hid'"),
    ("projection_id_clash", edit('"id": "p2"', '"id": «»"hid"'), "/projections/1/id", "duplicate id 'hid'"),
    # --- out-of-range parameters
    ("beta_above_one", edit('"id": "hid", "size": 32, "neuron": {"model": "lif", "beta": 0.9}',
                            '"id": "hid", "size": 32, "neuron": {"model": "lif", "beta": «»1.5}'),
     "/populations/1/neuron/beta", "less than or equal to 1"),
    ("threshold_zero", edit('"id": "hid", "size": 32, "neuron": {"model": "lif", "beta": 0.9}',
                            '"id": "hid", "size": 32, "neuron": {"model": "lif", "beta": 0.9, "threshold": «»0}'),
     "/populations/1/neuron/threshold", "greater than 0"),
    ("timesteps_zero", edit('"timesteps": 10', '"timesteps": «»0'), "/timesteps", "greater than or equal to 1"),
    ("capacity_too_big", edit('{"kind": "input", "id": "inp", "size": 64}',
                              '{"kind": "input", "id": "inp", "size": 64, "sparsity": {"max_spikes": «»65}}'),
     "/populations/0/sparsity/max_spikes", "exceeds the population size 64"),
    ("beta_and_tau", edit('"id": "hid", "size": 32, "neuron": {"model": "lif", "beta": 0.9}',
                          '"id": "hid", "size": 32, "neuron": {"model": "lif", "beta": 0.9, "tau_mem": «»0.01}'),
     "/populations/1/neuron/tau_mem", "not both"),
    ("tau_without_dt", edit('"id": "hid", "size": 32, "neuron": {"model": "lif", "beta": 0.9}',
                            '"id": "hid", "size": 32, "neuron": {"model": "lif", "tau_mem": «»0.01}'),
     "/populations/1/neuron/tau_mem", "needs the model's dt"),
    ("no_beta", edit('"id": "hid", "size": 32, "neuron": {"model": "lif", "beta": 0.9}',
                     '"id": "hid", "size": 32, "neuron": «»{"model": "lif"}'),
     "/populations/1/neuron", "missing beta"),
    ("cuba_without_alpha", edit('"id": "hid", "size": 32, "neuron": {"model": "lif", "beta": 0.9}',
                                '"id": "hid", "size": 32, "neuron": «»{"model": "cuba_lif", "beta": 0.9}'),
     "/populations/1/neuron", "missing alpha"),
    ("negative_lr", edit('"training": {"batch_size": 16', '"training": {"optimizer": {"kind": "adam", "lr": «»-0.1}, "batch_size": 16'),
     "/training/optimizer/lr", "greater than 0"),
    ("gradient_threshold_above_one", edit(
        '"id": "out", "size": 10, "neuron": {"model": "lif", "beta": 0.9}',
        '"id": "out", "size": 10, "neuron": {"model": "lif", "beta": 0.9}, "sparsity": {"gradient_threshold": «»1.2}'),
     "/populations/2/sparsity/gradient_threshold", "less than or equal to 1"),
    # --- delays and cycles
    ("self_loop_zero_delay", edit('{"id": "p2", "source": "hid", "target": "out"}',
                                  '{"id": "p2", "source": "hid", "target": "out"}, {"id": "rec", "source": "hid", "target": "hid", "delay": «»0}'),
     "/projections/2/delay", "needs delay >= 1"),
    ("zero_delay_cycle", edit('{"id": "p2", "source": "hid", "target": "out"}',
                              '{"id": "p2", "source": "hid", "target": "out"}, {"id": "back", "source": "out", "target": "hid", "delay": «»0}'),
     "/projections/2/delay", "cycle with zero delay"),
    ("delay_too_long", edit('{"id": "p2", "source": "hid", "target": "out"}', '{"id": "p2", "source": "hid", "target": "out", "delay": «»10}'),
     "/projections/1/delay", "not below timesteps"),
    # --- data and consistency
    ("digits_wrong_inputs", edit('{"kind": "input", "id": "inp", "size": 64}', '{"kind": "input", "id": "inp", "size": «»63}'),
     "/populations/0/size", "64 inputs"),
    ("digits_wrong_classes", edit('"id": "out", "size": 10', '"id": "out", "size": «»12'),
     "/populations/2/size", "10 classes"),
    ("batch_not_divisible", edit('"data": {"kind": "digits"}', '"data": {"kind": "digits"}, "target": {"replication_factor": 3}').replace(
        '"batch_size": 16', '"batch_size": «»16'), "/training/batch_size", "replication_factor = 3"),
    ("li_spike_count", edit('"id": "out", "size": 10, "neuron": {"model": "lif", "beta": 0.9}',
                            '"id": "out", "size": 10, "neuron": {"model": "li", "beta": 0.9}').replace(
        '"decoding": "spike_count"', '"decoding": «»"spike_count"'), "/readout/decoding", "never spikes"),
    ("unreached_population", edit('{"id": "p2", "source": "hid", "target": "out"}', '{"id": "p2", "source": "hid", "target": "hid", "delay": 1}').replace(
        '{"kind": "neuron", "id": "out"', '{"kind": "neuron", "id": «»"out"'), "/populations/2/id", "receives no projection"),
    ("sparse_both", edit('{"id": "p1", "source": "inp", "target": "hid"}',
                         '{"id": "p1", "source": "inp", "target": "hid", "connectivity": {"kind": "sparse", "fan_in": 4, "probability": «»0.1}}'),
     "/projections/0/connectivity/probability", "not both"),
    ("fan_in_too_big", edit('{"id": "p1", "source": "inp", "target": "hid"}',
                            '{"id": "p1", "source": "inp", "target": "hid", "connectivity": {"kind": "sparse", "fan_in": «»100}}'),
     "/projections/0/connectivity/fan_in", "exceeds the 64 neurons"),
    ("two_inputs", edit('{"kind": "input", "id": "inp", "size": 64},', '{"kind": "input", "id": "inp", "size": 64}, {"kind": «»"input", "id": "inp2", "size": 3},'),
     "/populations/1/kind", "second input population"),
    ("duplicate_key", edit('"timesteps": 10,', '"timesteps": 10, «»"timesteps": 12,'), "/timesteps", "duplicate key 'timesteps'"),
    # --- malformed JSON: the parser's own line and column
    ("trailing_comma", edit('"data": {"kind": "digits"}\n}', '"data": {"kind": "digits"},\n«»}'), "/", "invalid JSON"),
    ("missing_colon", edit('"timesteps": 10', '"timesteps" «»10'), "/", "invalid JSON"),
    ("nan", edit('"training": {"batch_size": 16', '"training": {"optimizer": {"kind": "sgd", "lr": «»NaN}, "batch_size": 16'),
     "/training/optimizer/lr", "nan is not a JSON number"),
    ("infinity", edit('"timesteps": 10', '"timesteps": «»-Infinity'), "/timesteps", "-inf is not a JSON number"),
    ("not_an_object", "«»[1, 2, 3]\n", "/", "must be a JSON object"),
]


def marker_position(text: str) -> tuple[str, int, int]:
    """The text without the marker and the marker's 1-based line and column."""
    index = text.index(MARK)
    before = text[:index]
    line = before.count("\n") + 1
    column = index - (before.rfind("\n") + 1) + 1
    return text.replace(MARK, "", 1), line, column


def run_validate(tmp_path, text: str, capsys) -> tuple[int, list[str], str]:
    path = tmp_path / "model.json"
    path.write_text(text)
    code = main(["validate", str(path)])
    captured = capsys.readouterr()
    return code, captured.err.splitlines(), str(path)


def test_base_is_valid(tmp_path, capsys):
    code, err, _ = run_validate(tmp_path, BASE, capsys)
    assert (code, err) == (0, [])


def test_enough_distinct_cases():
    assert len({c[0] for c in CASES}) == len(CASES) >= 25


@pytest.mark.parametrize("name,text,ptr,fragment", CASES, ids=[c[0] for c in CASES])
def test_invalid_spec_is_located(tmp_path, capsys, name, text, ptr, fragment):
    text, line, column = marker_position(text)
    code, err, path = run_validate(tmp_path, text, capsys)
    assert code == 1
    assert err, "no problem reported"
    pattern = re.compile(r"^(.*):(\d+):(\d+): (\S+): (.+)$")
    parsed = [pattern.match(e) for e in err]
    assert all(parsed), err
    hits = [m for m in parsed if m.group(4) == ptr and fragment in m.group(5)]
    assert hits, f"expected {ptr}: ...{fragment}... in {err}"
    hit = hits[0]
    assert hit.group(1) == path
    assert (int(hit.group(2)), int(hit.group(3))) == (line, column), err


def test_all_problems_reported_at_once(tmp_path, capsys):
    text = edit('"timesteps": 10', '"timesteps": "x"')
    text = edit('"size": 32', '"size": -1', text)
    text = edit('"decoding": "spike_count"', '"decoding": "vote"', text)
    code, err, _ = run_validate(tmp_path, text, capsys)
    assert code == 1
    pointers = sorted(e.split(": ")[1] for e in err)
    assert pointers == ["/populations/1/size", "/readout/decoding", "/timesteps"]


def test_semantic_problems_reported_together(tmp_path, capsys):
    text = edit('"source": "inp"', '"source": "nope"')
    text = edit('"readout": {"population": "out"', '"readout": {"population": "gone"', text)
    code, err, _ = run_validate(tmp_path, text, capsys)
    assert code == 1
    assert {e.split(": ")[1] for e in err} >= {"/projections/0/source", "/readout/population"}


def test_missing_file_and_directory(tmp_path, capsys):
    assert main(["validate", str(tmp_path / "absent.json")]) == 1
    assert main(["validate", str(tmp_path)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err == [f"{tmp_path / 'absent.json'}: no such file", f"{tmp_path}: is a directory, not a model file"]


def test_binary_file(tmp_path, capsys):
    path = tmp_path / "model.json"
    path.write_bytes(b"\xff\xfe\x00garbage")
    assert main(["validate", str(path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"{path}: not UTF-8") and "Traceback" not in err


def test_several_files_one_bad(tmp_path, capsys, root):
    bad = tmp_path / "bad.json"
    bad.write_text(edit('"timesteps": 10', '"timesteps": 0'))
    code = main(["validate", str(root / "examples" / "digits.json"), str(bad)])
    out = capsys.readouterr()
    assert code == 1
    assert "digits.json: valid" in out.out
    assert out.err.startswith(f"{bad}:3:16: /timesteps: ")
