"""The input-gradient kernels of codelets/model.cpp (dotProducts: the dense product of exact BPTT;
listedDots: the listed rows of a sparse backward), compiled from an example's rendered
codelets with the generated program's flags, against a float64 numpy product for ragged
shapes: sizes that are no multiple of the lane count (16) nor of the register blocks
(4 vectors x 6 rows with AVX-512, 2 x 3 with AVX), worker row ranges, and lists of 0..G rows.
Each kernel is built three ways: for this CPU (AVX-512 where it has it), for AVX2 with FMA
(where this CPU runs it) and with the plain-array lanes of other compilers; all must give
dot()'s bits, and dot() is checked against a numpy replica of its order.
"""

from __future__ import annotations

import subprocess

import numpy as np
import pytest

from codegen_helpers import KERNEL_BUILDS, build_kernel_driver

# Reads cases (int32 kind, ns, n, G, r0, r1, count; float32 x [ns][n], w [G][n]; uint32 ids
# [count]) and writes per case the kernel's out [ns][G] (NaN where it must not write) and
# dot() of every entry [ns][G] (the helper the kernels reproduce bit for bit).
DRIVER = r"""
#include <cmath>
#include <cstdio>
#include <cstdint>
#include <vector>
#include "codelets/model.cpp"
using namespace snncc_model;
int main(int argc, char **argv) {
  FILE *in = std::fopen(argv[1], "rb"), *out = std::fopen(argv[2], "wb");
  std::int32_t h[7];
  while (std::fread(h, sizeof h, 1, in) == 1) {
    const unsigned kind = h[0], ns = h[1], n = h[2], G = h[3], r0 = h[4], r1 = h[5], count = h[6];
    std::vector<float> x(ns * n), w(G * n), got(ns * G, NAN), ref(ns * G, NAN);
    std::vector<unsigned> ids(count);
    if (std::fread(x.data(), 4, x.size(), in) != x.size() || std::fread(w.data(), 4, w.size(), in) != w.size() ||
        std::fread(ids.data(), 4, ids.size(), in) != ids.size())
      return 2;
    if (kind == 0) {
      dotProducts(x.data(), ns, w.data(), r0, r1, n, got.data(), G);
      for (unsigned s = 0; s < ns; ++s)
        for (unsigned r = r0; r < r1; ++r)
          ref[s * G + r] = dot(&w[r * n], &x[s * n], n);
    } else {
      listedDots(x.data(), ids.data(), count, w.data(), n, got.data());
      for (unsigned k = 0; k < count; ++k)
        ref[k] = dot(&w[ids[k] * n], &x[0], n);
    }
    std::fwrite(got.data(), 4, got.size(), out);
    std::fwrite(ref.data(), 4, ref.size(), out);
  }
  return std::fclose(out) == 0 ? 0 : 1;
}
"""


@pytest.fixture(scope="module", params=list(KERNEL_BUILDS))
def kernels(request, tmp_path_factory):
    """run(cases) -> [(out, dot) per case] through the compiled driver (KERNEL_BUILDS)."""
    d = tmp_path_factory.mktemp("kernels")
    driver = build_kernel_driver(d, DRIVER, request.param)

    def run(cases):
        with open(d / "cases.bin", "wb") as f:
            for kind, x, w, r0, r1, ids in cases:
                np.array([kind, len(x), w.shape[1], len(w), r0, r1, len(ids)], np.int32).tofile(f)
                x.astype(np.float32).tofile(f)
                w.astype(np.float32).tofile(f)
                np.asarray(ids, np.uint32).tofile(f)
        subprocess.run([str(driver), str(d / "cases.bin"), str(d / "out.bin")], check=True)
        raw = np.fromfile(d / "out.bin", np.float32)
        res, at = [], 0
        for _, x, w, *_ in cases:
            size = len(x) * len(w)
            res.append((raw[at:at + size].reshape(len(x), len(w)), raw[at + size:at + 2 * size].reshape(len(x), len(w))))
            at += 2 * size
        return res
    return run


def _close(got, x, w, what):
    """got equals the float64 product x w^T within float32 rounding of an n-term sum."""
    x64, w64 = x.astype(np.float32).astype(np.float64), w.astype(np.float32).astype(np.float64)
    ref = x64 @ w64.T
    scale = np.abs(x64) @ np.abs(w64).T  # the sum of |terms|: the rounding error's scale
    bad = ~(np.abs(got - ref) <= 1e-6 * w.shape[1] ** 0.5 * scale + 1e-30)
    assert not bad.any(), f"{what}: {bad.sum()} entries off, e.g. {got[bad][:3]} vs {ref[bad][:3]}"


# n < 32: the narrow kernel (rows side by side); longer rows: the blocked one
SHAPES = [(ns, n, G) for ns in (1, 2, 3, 5, 9) for n in (1, 7, 15, 16, 17, 31, 32, 33, 70)
          for G in (1, 2, 5, 6, 7, 13, 17)]


def test_dense_products_equal_the_float64_product_for_ragged_shapes(kernels):
    rng = np.random.default_rng(0)
    cases = [(0, rng.standard_normal((ns, n)), rng.standard_normal((G, n)), 0, G, []) for ns, n, G in SHAPES]
    for (_, x, w, *_), (got, dot) in zip(cases, kernels(cases)):
        _close(got, x, w, f"ns={len(x)} n={w.shape[1]} G={len(w)}")
        assert np.array_equal(got, dot), "the blocked sums equal dot()'s bit for bit"


def test_dense_products_write_only_their_rows_and_splits_do_not_change_them(kernels):
    """Worker row ranges [r0, r1): the other rows untouched; every split gives the same bits."""
    rng = np.random.default_rng(1)
    for n in (45, 10):  # the blocked and the narrow kernel
        ns, G = 5, 29
        x, w = rng.standard_normal((ns, n)), rng.standard_normal((G, n))
        ranges = [(0, G), (0, 0), (3, 4), (0, 6), (6, 12), (12, 29), (1, 28), (7, 20)]
        res = kernels([(0, x, w, r0, r1, []) for r0, r1 in ranges])
        whole = res[0][0]
        _close(whole, x, w, "whole")
        for (r0, r1), (got, _) in zip(ranges, res):
            assert np.isnan(got[:, :r0]).all() and np.isnan(got[:, r1:]).all(), (n, r0, r1)
            assert np.array_equal(got[:, r0:r1], whole[:, r0:r1]), (n, r0, r1)


def test_listed_rows_equal_the_float64_product_for_lists_of_0_to_G_rows(kernels):
    rng = np.random.default_rng(2)
    cases = []
    for n in (1, 7, 16, 17, 37):
        for G in (1, 6, 7, 13):
            w, x = rng.standard_normal((G, n)), rng.standard_normal((1, n))
            for count in range(G + 1):
                cases.append((1, x, w, 0, 0, rng.choice(G, count, replace=rng.random() < 0.5)))
    for (_, x, w, _, _, ids), (got, dot) in zip(cases, kernels(cases)):
        what = f"n={w.shape[1]} G={len(w)} ids={list(ids)}"
        _close(got[:, :len(ids)], x, w[ids], what)
        assert np.isnan(got[:, len(ids):]).all(), what  # nothing past the list
        assert np.array_equal(got[:, :len(ids)], dot[:, :len(ids)]), what


def _dot_order(w, x):
    """dot()'s documented order in numpy: 16 lanes, lane l a chain of fused multiply-adds over
    the elements l, l + 16, ... from zero, then the halving tree. Exact for the inputs below:
    every product and sum fits float64's 53 bits, so the float32 rounding of each fma is
    numpy's one rounding of the exact value."""
    lane = np.zeros(16, np.float32)
    for i in range(len(w)):
        lane[i % 16] = np.float32(np.float64(w[i]) * np.float64(x[i]) + np.float64(lane[i % 16]))
    h = 8
    while h:
        lane[:h] = lane[:h] + lane[h:2 * h]
        h //= 2
    return lane[0]


def test_dot_is_the_documented_order_of_fused_multiply_adds(kernels):
    """Inputs of 14 significant bits in [1, 2) with random signs: a product has up to 28 bits,
    so rounding it before the add (no fma) or summing in another order changes results."""
    rng = np.random.default_rng(3)
    cases, unfused_differs = [], 0
    for n in (1, 15, 16, 17, 33, 64, 100):
        vals = lambda *shape: (rng.integers(2 ** 13, 2 ** 14, shape) / 2 ** 13 *  # noqa: E731
                               rng.choice([-1.0, 1.0], shape)).astype(np.float32)
        x, w = vals(3, n), vals(4, n)
        cases.append((0, x, w, 0, len(w), []))
    for (_, x, w, *_), (got, dot) in zip(cases, kernels(cases)):
        for s in range(len(x)):
            for r in range(len(w)):
                want = _dot_order(w[r], x[s])
                assert dot[s, r] == want, (w.shape[1], s, r, dot[s, r], want)
                unfused = np.float32(0)
                for i in range(w.shape[1]):
                    unfused = np.float32(unfused + w[r, i] * x[s, i])
                unfused_differs += unfused != want
        assert np.array_equal(got, dot)
    assert unfused_differs > 0, "the inputs must tell a fused order from a plain running sum"
