"""2-D fields, split edges, half, VectorList, loops and copies, against numpy."""

from __future__ import annotations

import numpy as np


def test_features_match_numpy(run_program, codelets, tmp_path):
    rng = np.random.default_rng(7)
    f = lambda *s: rng.normal(size=s).astype(np.float32)  # noqa: E731
    P, Xa, Xb, bias, H, HB, L, M = f(4, 8), f(8), f(8), f(8), f(8), f(8), f(9), f(2, 3)
    K, pred = 5, 0
    inp = tmp_path / "in.bin"
    with open(inp, "wb") as fh:
        for a in (P, Xa, Xb, bias, H, HB, L, M):
            a.tofile(fh)
        np.array([K, pred], np.uint32).tofile(fh)
    r = run_program("features", inp, codelets, threads=2)
    assert r.returncode == 0, r.stdout + r.stderr
    got = {}
    cs = {}
    for line in r.stdout.splitlines():
        name, *vals = line.split()
        if name == "cs":
            cs[vals[0]] = (int(vals[1]), int(vals[2]))
        else:
            got[name] = np.array([float(v) for v in vals])

    # Partials summed in order p = 0..3 (and 3..0 for the indexed connection).
    s = np.zeros(8, np.float32)
    for p in range(4):
        s = s + P[p]
    np.testing.assert_array_equal(got["reduced"].astype(np.float32), s)
    s2 = np.zeros(8, np.float32)
    for p in reversed(range(4)):
        s2 = s2 + P[p]
    np.testing.assert_array_equal(got["reduced2"].astype(np.float32), s2)
    # A vertex over concat(xa[0:4], xb[4:8]): only those elements change.
    ea, eb = Xa.copy(), Xb.copy()
    ea[:4] = ea[:4] * np.float32(2.5) + bias[:4]
    eb[4:] = eb[4:] * np.float32(2.5) + bias[4:]
    np.testing.assert_array_equal(got["xa"].astype(np.float32), ea)
    np.testing.assert_array_equal(got["xb"].astype(np.float32), eb)
    # half: inputs rounded to half, computed in float, rounded once.
    h = H.astype(np.float16).astype(np.float32)
    hb = HB.astype(np.float16).astype(np.float32)
    expect_h = (h * np.float32(0.75) + hb).astype(np.float16)
    assert list(got["h_bits"].astype(np.uint16)) == list(expect_h.view(np.uint16))
    # RepeatWhileTrue: the condition runs K times, the body K - 1 times.
    assert got["acc"][0] == K - 1 and got["counter"][0] == 0
    assert got["chosen"][0] == (11.0 if pred else 22.0)
    w = np.array([1, 2, 3], np.float32)
    sums = np.array([L[0:3].sum(dtype=np.float32), L[3], L[4:9].sum(dtype=np.float32)], np.float32) * w
    np.testing.assert_allclose(got["sums"], sums, rtol=1e-6)
    np.testing.assert_array_equal(got["mt"].astype(np.float32), M.T.reshape(-1))
    # LINEAR: 10 elements over 4 tiles in chunks of 3.
    assert list(got["linear_mapping"].astype(int)) == [0, 0, 3, 1, 3, 6, 2, 6, 9, 3, 9, 10]
    # Exchange: the reduction reads three remote partial rows twice; the
    # rest is tile-local. Loops count executions.
    assert cs["reduce"] == (2 * 3 * 8 * 4, 1)
    assert cs["scale"] == (0, 1) and cs["lists"] == (0, 1)
    assert cs["countdown"] == (0, K) and cs["increment"] == (0, K - 1)
    # Copies: the transposed 2x3 floats go from tile 0 to tile 2; the chosen
    # constant stays on tile 0.
    assert int(got["copyExchangeBytes"][0]) == 6 * 4


def test_codelets_flush_float_subnormals_to_zero(run_program, codelets, tmp_path):
    """A float32 subnormal input reads as zero and a subnormal result is written as zero (x86's
    DAZ and FTZ while codelets run: docs/runtime.md); normal values are untouched."""
    rng = np.random.default_rng(8)
    f = lambda *s: rng.normal(size=s).astype(np.float32)  # noqa: E731
    P, Xb, H, HB, L, M = f(4, 8), f(8), f(8), f(8), f(9), f(2, 3)
    # ScaleAdd computes x 2.5 + bias on xa[0:4]: a subnormal x, and two results below 2^-126
    Xa = np.array([1e-39, -3e-39, 1.5e-38, 1e-30, 0.5, 0, 0, 0], np.float32)
    bias = np.array([0, 0, -3.7e-38, 0, 1, 0, 0, 0], np.float32)
    inp = tmp_path / "in.bin"
    with open(inp, "wb") as fh:
        for a in (P, Xa, Xb, bias, H, HB, L, M):
            a.tofile(fh)
        np.array([3, 0], np.uint32).tofile(fh)
    r = run_program("features", inp, codelets, threads=2)
    assert r.returncode == 0, r.stdout + r.stderr
    xa = next(np.array([float(v) for v in line.split()[1:]], np.float32)
              for line in r.stdout.splitlines() if line.split()[0] == "xa")
    ieee = Xa[:4] * np.float32(2.5) + bias[:4]  # numpy keeps subnormals: what the flush changes
    assert ieee[0] != 0 and ieee[1] != 0 and 0 < abs(ieee[2]) < 2.0**-126
    assert xa[:3].tolist() == [0.0, 0.0, 0.0]
    assert xa[3] == ieee[3] and xa[4] == np.float32(0.5)  # past the vertex's slice: untouched
