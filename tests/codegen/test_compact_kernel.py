"""appendIds of codelets/model.cpp (Compact's list building: the ids of the neurons with a
given spike code, in index order, up to the list's capacity), compiled from an example's
rendered codelets with the generated program's flags (for this CPU, for AVX2 + FMA where this
CPU runs it, and with the plain-array lanes), against numpy: the entries up to the returned
end, the end itself and where it stopped looking, for lists that fill up mid-vector, start
part full, and tiles of 1..70 neurons."""

from __future__ import annotations

import subprocess

import numpy as np
import pytest

from codegen_helpers import KERNEL_BUILDS, build_kernel_driver

# Reads cases (uint32 nj, lo, code, end, C; codes [nj]) and writes per case the list [C]
# (0xFFFFFFFF where nothing was written), the ring [C], the new end and *at.
DRIVER = r"""
#include <cstdio>
#include <cstdint>
#include <vector>
#include "codelets/model.cpp"
using namespace snncc_model;
int main(int argc, char **argv) {
  FILE *in = std::fopen(argv[1], "rb"), *out = std::fopen(argv[2], "wb");
  std::uint32_t h[5];
  while (std::fread(h, sizeof h, 1, in) == 1) {
    const unsigned nj = h[0], lo = h[1], code = h[2], end = h[3], C = h[4];
    std::vector<unsigned> s(nj), list(C, 0xFFFFFFFFu), ring(C, 0xFFFFFFFFu);
    if (std::fread(s.data(), 4, nj, in) != nj)
      return 2;
    unsigned at = 0;
    const unsigned got = appendIds(s.data(), nj, lo, code, list.data(), ring.data(), end, C, &at);
    std::fwrite(list.data(), 4, C, out);
    std::fwrite(ring.data(), 4, C, out);
    std::fwrite(&got, 4, 1, out);
    std::fwrite(&at, 4, 1, out);
  }
  return std::fclose(out) == 0 ? 0 : 1;
}
"""


@pytest.fixture(scope="module", params=list(KERNEL_BUILDS))
def append_ids(request, tmp_path_factory):
    d = tmp_path_factory.mktemp("append_ids")
    driver = build_kernel_driver(d, DRIVER, request.param)

    def run(cases):
        with open(d / "cases.bin", "wb") as f:
            for nj, lo, code, end, C, s in cases:
                np.array([nj, lo, code, end, C], np.uint32).tofile(f)
                np.asarray(s, np.uint32).tofile(f)
        subprocess.run([str(driver), str(d / "cases.bin"), str(d / "out.bin")], check=True)
        raw = np.fromfile(d / "out.bin", np.uint32)
        res, at = [], 0
        for _, _, _, _, C, _ in cases:
            res.append((raw[at:at + C], raw[at + C:at + 2 * C], int(raw[at + 2 * C]), int(raw[at + 2 * C + 1])))
            at += 2 * C + 2
        return res
    return run


def test_append_ids_lists_matching_neurons_in_order_up_to_the_capacity(append_ids):
    rng = np.random.default_rng(0)
    cases = []
    for nj in (1, 15, 16, 17, 40, 70):
        for rate in (0.0, 0.1, 0.6, 1.0):
            for C, end in ((70, 0), (20, 0), (20, 5), (16, 3), (7, 0), (5, 5)):
                s = np.where(rng.random(nj) < rate, 2, rng.choice([0, 1], nj))  # codes: 2 spike, 1 gradient
                cases.append((nj, 100, 2, end, C, s))
                cases.append((nj, 7, 1, end, C, s))
    for (nj, lo, code, end, C, s), (lst, ring, got, at) in zip(cases, append_ids(cases)):
        match = lo + np.flatnonzero(np.asarray(s) == code)
        room = C - end
        kept = match[:room]
        what = (nj, code, end, C)
        assert got == end + len(kept), what
        assert np.array_equal(lst[end:got], kept) and np.array_equal(ring[end:got], kept), what
        assert (lst[:end] == 0xFFFFFFFF).all() and (ring[:end] == 0xFFFFFFFF).all(), what  # before: untouched
        # it stops looking only when the list is full, and every match it looked at is kept
        # (Compact counts the spikes from `at` on as dropped)
        assert at == nj or got == C, what
        assert np.array_equal(lo + np.flatnonzero(np.asarray(s)[:at] == code), kept), what
