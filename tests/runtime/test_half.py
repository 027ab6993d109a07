"""IeeeHalf's conversions, the bulk helpers and the copy*DeviceHalf host functions, against numpy's float16.

programs/half_convert.cpp is compiled twice: with -march=native (F16C instructions where the CPU
has them, linked with the runtime for the copy functions) and with -mno-f16c (the software path,
header only, so that no inline function compiled with F16C can stand in for it at link time).
"""

from __future__ import annotations

import platform
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from snncc.runtime import runtime_dir
from snncc.runtime.build import runtime_library

PROGRAM = Path(__file__).resolve().parent / "programs" / "half_convert.cpp"
X86 = platform.machine() in ("x86_64", "AMD64")
ALL_HALVES = np.arange(65536, dtype=np.uint32).astype(np.uint16)


def _cpu_has_f16c() -> bool:
    try:
        text = Path("/proc/cpuinfo").read_text(errors="replace")
    except OSError:
        return False
    return any(ln.startswith("flags") and " f16c" in ln for ln in text.splitlines())


def _f32(bits) -> np.ndarray:
    return np.asarray(bits, dtype=np.uint32).view(np.float32)


def _to_half_bits(x: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore", invalid="ignore"):
        return x.astype(np.float16).view(np.uint16)


def _to_float(x: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore", invalid="ignore"):
        return x.astype(np.float32)


def _float_inputs() -> np.ndarray:
    rng = np.random.default_rng(16)
    parts = [rng.integers(0, 2**32, 200_000, dtype=np.uint64).astype(np.uint32).view(np.float32)]
    # Every midpoint between neighbouring positive halves (65520 above the largest finite one),
    # exact in float32, and its float neighbours on both sides.
    v = np.arange(0x7C01, dtype=np.uint32).astype(np.uint16).view(np.float16).astype(np.float64)
    v[-1] = 65536.0  # where the next half would be without infinity
    mid = ((v[:-1] + v[1:]) / 2).astype(np.float32)
    assert np.all(mid.astype(np.float64) == (v[:-1] + v[1:]) / 2)
    parts += [mid, np.nextafter(mid, np.float32(np.inf)), np.nextafter(mid, np.float32(0))]
    # Every half value itself; the half-subnormal range; float subnormals.
    parts.append(v[:-1].astype(np.float32))
    parts.append(rng.uniform(0, 2.0**-14, 50_000).astype(np.float32))
    parts.append(_f32(rng.integers(0, 0x800000, 5_000)))
    # Around the rounding edges: 2^-25 (rounds to 0 or the smallest subnormal), 2^-24, 2^-14,
    # 65504 (largest finite) and 65520 (first value that overflows).
    for edge in (2.0**-25, 2.0**-24, 1.5 * 2.0**-24, 2.0**-14, 65504.0, 65520.0, 65536.0):
        e = np.float32(edge)
        steps = [e]
        for direction in (np.float32(np.inf), np.float32(0)):
            x = e
            for _ in range(4):
                x = np.nextafter(x, direction)
                steps.append(x)
        parts.append(np.array(steps, np.float32))
    parts.append(_f32([0, 0x7F800000, 0x7F800001, 0x7FA00000, 0x7FC00000, 0x7FFFFFFF, 0x7F802000]))
    pos = np.concatenate(parts)
    return np.concatenate([pos, -pos])


# Rounding 1 + 2^-11 + 2^-40 to float gives the tie 1 + 2^-11, which then rounds to even (1.0);
# rounded once it is above the tie and goes up to 1 + 2^-10. Likewise at the smallest
# subnormal (2^-25 + 2^-60) and below the overflow tie (65520 - 2^-30 stays finite).
DOUBLE_TIES = {1 + 2.0**-11 + 2.0**-40: 0x3C01, -(1 + 2.0**-11 + 2.0**-40): 0xBC01,
               2.0**-25 + 2.0**-60: 0x0001, 65520 - 2.0**-30: 0x7BFF}


def _double_inputs(floats: np.ndarray) -> np.ndarray:
    rng = np.random.default_rng(64)
    n = 100_000
    exp = rng.integers(1023 - 30, 1023 + 17, n, dtype=np.uint64)
    bits = (rng.integers(0, 2, n, dtype=np.uint64) << 63) | (exp << 52) | rng.integers(0, 2**52, n, dtype=np.uint64)
    v = np.arange(0x7C01, dtype=np.uint32).astype(np.uint16).view(np.float16).astype(np.float64)
    v[-1] = 65536.0
    mid = (v[:-1] + v[1:]) / 2
    ties = np.concatenate([mid, mid * (1 + 2.0**-40), mid * (1 - 2.0**-40)])
    special = np.array([0.0, np.inf, np.nan, 1e300, 1e-300, 5e-324, 65519.999999, 65520.0, *DOUBLE_TIES])
    pos = np.concatenate([bits.view(np.float64), ties, special])
    with np.errstate(invalid="ignore"):  # signalling NaNs
        return np.concatenate([pos, -pos, floats.astype(np.float64)])


def _compile(args: list[str]) -> None:
    r = subprocess.run(args, capture_output=True, text=True)
    assert r.returncode == 0, " ".join(args) + "\n" + r.stderr


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("half")
    f = _float_inputs()
    d = _double_inputs(f)
    inp = tmp / "in.bin"
    with open(inp, "wb") as fh:
        np.array([f.size], np.uint32).tofile(fh)
        f.tofile(fh)
        np.array([d.size], np.uint32).tofile(fh)
        d.tofile(fh)
    include = str(runtime_dir() / "include")
    common = ["-std=c++17", "-O2", "-march=native", "-ffp-contract=off", str(PROGRAM), "-I", include]
    native, software = tmp / "half_native", tmp / "half_software"
    # The runtime library links MPI where it was found (replicas): mpicxx adds its libraries.
    # -march=native as the library was built, so that inline functions agree.
    builds = [
        [shutil.which("mpicxx") or "g++", *common, "-DHALF_WITH_RUNTIME", str(runtime_library()), "-lpthread",
         "-o", str(native)],
        ["g++", *common, *(["-mno-f16c"] if X86 else []), "-o", str(software)],
    ]
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(_compile, builds))
    out = {}
    for name, exe in (("native", native), ("software", software)):
        path = tmp / f"{name}.out"
        r = subprocess.run([str(exe), str(inp), str(path)], capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stdout + r.stderr
        info = dict(line.split() for line in r.stdout.splitlines())
        raw = path.read_bytes()
        pos = 0

        def take(dtype, n):
            nonlocal pos
            a = np.frombuffer(raw, dtype, n, pos)
            pos += a.nbytes
            return a

        res = {"info": info, "to_float": take(np.float32, 65536), "from_float": take(np.uint16, f.size)}
        if info["runtime"] == "1":
            res.update(dev_to_float=take(np.float32, 65536), float_to_dev=take(np.uint16, f.size),
                       double_to_dev=take(np.uint16, d.size), dev_to_double=take(np.float64, 65536))
        assert pos == len(raw)
        out[name] = res
    return f, d, out


def test_the_two_builds_take_the_two_paths(results):
    _, _, out = results
    assert out["native"]["info"]["runtime"] == "1" and out["software"]["info"]["runtime"] == "0"
    assert out["software"]["info"]["f16c"] == "0"
    if X86 and _cpu_has_f16c():
        assert out["native"]["info"]["f16c"] == "1"


def _same_or_both_nan(got: np.ndarray, want: np.ndarray) -> None:
    nan = np.isnan(want)
    assert np.array_equal(np.isnan(got), nan)
    ibits = {4: np.uint32, 8: np.uint64}[got.dtype.itemsize]
    bad = np.flatnonzero(got[~nan].view(ibits) != want[~nan].view(ibits))  # bits: -0.0 is not 0.0
    assert bad.size == 0, f"{bad.size} differ, first at input {np.flatnonzero(~nan)[bad[0]]}"


@pytest.mark.parametrize("path", ["native", "software"])
def test_every_half_converts_to_float_as_numpy(results, path):
    _, _, out = results
    want = ALL_HALVES.view(np.float16).astype(np.float32)
    got = out[path]["to_float"]
    _same_or_both_nan(got, want)
    # A NaN comes out quiet, with the half's payload in the top mantissa bits.
    nan = np.isnan(want)
    g = got[nan].view(np.uint32)
    assert np.all(g & 0x400000) and np.array_equal((g >> 13) & 0x1FF, ALL_HALVES[nan] & 0x1FF)


def _half_bits_match(got: np.ndarray, x: np.ndarray) -> None:
    want = _to_half_bits(x)
    nan = np.isnan(x)
    bad = np.flatnonzero(got[~nan] != want[~nan])
    if bad.size:
        k = np.flatnonzero(~nan)[bad[0]]
        pytest.fail(f"{bad.size} differ; first {x[k]!r}: got {got[k]:#06x}, numpy {want[k]:#06x}")
    # NaN stays NaN, quiet.
    g = got[nan]
    assert np.all((g & 0x7C00) == 0x7C00) and np.all(g & 0x200)


@pytest.mark.parametrize("path", ["native", "software"])
def test_floats_convert_to_half_as_numpy(results, path):
    f, _, out = results
    _half_bits_match(out[path]["from_float"], f)


def test_both_paths_give_identical_bits_nans_included(results):
    _, _, out = results
    assert np.array_equal(out["native"]["from_float"], out["software"]["from_float"])
    assert np.array_equal(out["native"]["to_float"].view(np.uint32), out["software"]["to_float"].view(np.uint32))


def test_host_copies_to_and_from_device_half(results):
    f, d, out = results
    r = out["native"]
    # Floats: as numpy, and as the element conversion (NaNs included).
    _half_bits_match(r["float_to_dev"], f)
    assert np.array_equal(r["float_to_dev"], r["from_float"])
    assert np.array_equal(r["dev_to_float"].view(np.uint32), r["to_float"].view(np.uint32))
    # Doubles: rounded once, as numpy does; exact back.
    _half_bits_match(r["double_to_dev"], d)
    _same_or_both_nan(r["dev_to_double"], ALL_HALVES.view(np.float16).astype(np.float64))
    assert np.array_equal(r["dev_to_double"].astype(np.float32).view(np.uint32), r["to_float"].view(np.uint32))


def test_doubles_round_once_not_through_float(results):
    _, d, out = results
    got = out["native"]["double_to_dev"]
    index = {float(x): k for k, x in enumerate(d)}
    for x, want in DOUBLE_TIES.items():
        assert got[index[x]] == want, f"{x!r}: {got[index[x]]:#06x}"
    # The inputs hold many cases where rounding through float32 would give another half.
    via_float = _to_half_bits(_to_float(d))
    assert np.count_nonzero((via_float != _to_half_bits(d)) & ~np.isnan(d)) > 10_000


@pytest.mark.parametrize("path", ["native", "software"])
def test_bulk_helpers_equal_the_element_conversions(results, path):
    _, _, out = results
    assert out[path]["info"]["bulk_mismatches"] == "0"
