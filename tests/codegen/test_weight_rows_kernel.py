"""The weight-gradient row kernel of codelets/model.cpp (weightRows: dw[r] += g[b] for every
sample b whose spike list holds source row r), compiled from an example's rendered codelets
with the generated program's flags (for this CPU, for AVX2 + FMA where this CPU runs it, and
with the plain-array lanes), against numpy adding each sample's rows in sample order: bit for
bit, since every element must see its additions in that order. Ragged column counts (no
multiple of the 16 lanes or of the register block), worker row ranges across the 32-row
chunks, empty and full lists, entries outside the range, and the ring slot of each list."""

from __future__ import annotations

import subprocess

import numpy as np
import pytest

from codegen_helpers import KERNEL_BUILDS, build_kernel_driver

# Reads the batch size B (what model.cpp was generated with) from `driver B`; then cases
# (int32 n, nin, C, slots, slot, r0, r1; uint32 counts [B slots 2], ids [B slots C];
# float32 g [B][n], dw [nin][n]) and writes per case dw after weightRows.
DRIVER = r"""
#include <cstdio>
#include <cstdint>
#include <cstring>
#include <vector>
#include "codelets/model.cpp"
using namespace snncc_model;
int main(int argc, char **argv) {
  if (argc == 2) {
    std::printf("%u\n", B);
    return 0;
  }
  FILE *in = std::fopen(argv[1], "rb"), *out = std::fopen(argv[2], "wb");
  std::int32_t h[7];
  while (std::fread(h, sizeof h, 1, in) == 1) {
    const unsigned n = h[0], nin = h[1], C = h[2], slots = h[3], slot = h[4], r0 = h[5], r1 = h[6];
    std::vector<unsigned> counts(B * slots * 2), ids(B * slots * C);
    std::vector<float> g(B * n), dw(nin * n);
    if (std::fread(counts.data(), 4, counts.size(), in) != counts.size() ||
        std::fread(ids.data(), 4, ids.size(), in) != ids.size() ||
        std::fread(g.data(), 4, g.size(), in) != g.size() || std::fread(dw.data(), 4, dw.size(), in) != dw.size())
      return 2;
    weightRows(ids.data(), C, counts.data(), slots, slot, g.data(), dw.data(), n, r0, r1);
    std::fwrite(dw.data(), 4, dw.size(), out);
  }
  return std::fclose(out) == 0 ? 0 : 1;
}
"""


@pytest.fixture(scope="module", params=list(KERNEL_BUILDS))
def weight_rows(request, tmp_path_factory):
    """(B, run(cases) -> [dw per case])"""
    d = tmp_path_factory.mktemp("weight_rows")
    driver = build_kernel_driver(d, DRIVER, request.param)
    B = int(subprocess.run([str(driver), "B"], check=True, capture_output=True, text=True).stdout)

    def run(cases):
        with open(d / "cases.bin", "wb") as f:
            for c in cases:
                np.array([c["n"], c["nin"], c["C"], c["slots"], c["slot"], c["r0"], c["r1"]], np.int32).tofile(f)
                c["counts"].astype(np.uint32).tofile(f)
                c["ids"].astype(np.uint32).tofile(f)
                c["g"].astype(np.float32).tofile(f)
                c["dw"].astype(np.float32).tofile(f)
        subprocess.run([str(driver), str(d / "cases.bin"), str(d / "out.bin")], check=True)
        raw = np.fromfile(d / "out.bin", np.float32)
        res, at = [], 0
        for c in cases:
            size = c["nin"] * c["n"]
            res.append(raw[at:at + size].reshape(c["nin"], c["n"]))
            at += size
        return res
    return B, run


def _case(rng, B, n, nin, r0, r1, rate, slots=2, slot=1):
    C = nin
    counts = np.zeros((B, slots, 2), np.uint32)
    ids = np.full((B, slots, C), 0xFFFFFFFF, np.uint32)  # junk past each list
    for b in range(B):
        for s in range(slots):
            k = rng.binomial(nin, rate) if b % 7 else (nin if b % 14 == 0 else 0)  # full and empty lists
            ids[b, s, :k] = np.sort(rng.choice(nin, k, replace=False))
            counts[b, s] = (k, k + rng.integers(0, 3))  # entry 1: listed, which dw ignores
    return dict(n=n, nin=nin, C=C, slots=slots, slot=slot, r0=r0, r1=r1, counts=counts, ids=ids,
                g=rng.standard_normal((B, n)), dw=rng.standard_normal((nin, n)))


def _numpy(c, B):
    dw = c["dw"].astype(np.float32).copy()
    g = c["g"].astype(np.float32)
    for b in range(B):  # sample order: each element's additions in the kernel's order
        k = int(c["counts"][b, c["slot"], 0])
        rows = c["ids"][b, c["slot"], :k].astype(np.int64)
        rows = rows[(rows >= c["r0"]) & (rows < c["r1"])]
        dw[rows] += g[b]  # distinct rows within one list
    return dw


def test_weight_rows_add_each_samples_rows_in_sample_order(weight_rows):
    B, run = weight_rows
    rng = np.random.default_rng(0)
    cases = []
    for n in (1, 15, 16, 17, 95, 96, 97, 127, 128, 129, 200):
        cases.append(_case(rng, B, n, 70, 0, 70, 0.3))
    for r0, r1 in ((0, 0), (5, 6), (0, 32), (31, 33), (10, 70), (33, 65), (64, 100)):
        cases.append(_case(rng, B, 37, 100, r0, r1, 0.2))
    cases.append(_case(rng, B, 40, 90, 0, 90, 0.02, slots=1, slot=0))
    for c, got in zip(cases, run(cases)):
        want = _numpy(c, B)
        assert np.array_equal(got, want), (c["n"], c["nin"], c["r0"], c["r1"], int((got != want).sum()))
