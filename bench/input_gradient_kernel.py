"""Time the exact-BPTT input gradient of one target tile and timestep, partials [B][G] =
dI [B][n] W^T with W [G][n], as the WeightGrad vertex computes it, against torch.matmul on the
same shapes and the same thread count (one: the vertex's workers run on one runtime thread).

    python bench/input_gradient_kernel.py [--shapes 48x368x1470,48x367x1470,...] [--reps 15]

The kernel is compiled from examples/shd_mlp.json's rendered codelets/model.cpp with the host
build's codelet flags; it runs the vertex's worker split (numWorkers() = 6 contiguous blocks of
DOT_ROWS rows) and, for comparison, one dot() per entry (the previous code). Buffers are 64-byte
aligned, as the host runtime's tensors and torch's are. Times are thread CPU times (best of
--reps runs of --inner calls), so that a shared machine's other load counts less.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from snncc.driver import compile_spec  # noqa: E402

#: the host build's codelet flags (CMake Release, snncc/runtime/CMakeLists.txt)
FLAGS = ["-O3", "-DNDEBUG", "-std=c++17", "-ffp-contract=off", "-fno-math-errno", "-march=native"]

DRIVER = r"""
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include "codelets/model.cpp"
using namespace snncc_model;
static double cpu() {
  timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return t.tv_sec + 1e-9 * t.tv_nsec;
}
static float *buffer(size_t n) {
  float *p = static_cast<float *>(std::aligned_alloc(64, (n * 4 + 63) / 64 * 64));
  for (size_t i = 0; i < n; ++i)
    p[i] = std::rand() / float(RAND_MAX) - 0.5f;
  return p;
}
int main(int argc, char **argv) {
  const unsigned B = std::atoi(argv[1]), n = std::atoi(argv[2]), G = std::atoi(argv[3]);
  const unsigned reps = std::atoi(argv[4]), inner = std::atoi(argv[5]);
  float *w = buffer(size_t(G) * n), *dI = buffer(size_t(B) * n), *blocked = buffer(size_t(B) * G),
        *perEntry = buffer(size_t(B) * G);
  auto vertex = [&] { // WeightGrad's split: whole blocks of DOT_ROWS rows per worker
    for (unsigned wid = 0; wid < 6; ++wid) {
      unsigned r0, r1;
      workerRange((G + DOT_ROWS - 1) / DOT_ROWS, wid, 6, &r0, &r1);
      r0 = r0 * DOT_ROWS < G ? r0 * DOT_ROWS : G;
      r1 = r1 * DOT_ROWS < G ? r1 * DOT_ROWS : G;
      dotProducts(dI, B, w, r0, r1, n, blocked, G);
    }
  };
  auto dots = [&] {
    for (unsigned b = 0; b < B; ++b)
      for (unsigned k = 0; k < G; ++k)
        perEntry[b * G + k] = dot(&w[size_t(k) * n], &dI[size_t(b) * n], n);
  };
  auto best = [&](auto f, unsigned calls) {
    f();
    double m = 1e30;
    for (unsigned r = 0; r < reps; ++r) {
      const double t0 = cpu();
      for (unsigned i = 0; i < calls; ++i)
        f();
      const double s = (cpu() - t0) / calls;
      m = s < m ? s : m;
    }
    return m;
  };
  const double tb = best(vertex, inner), td = best(dots, 1);
  std::printf("%.9f %.9f %d\n", tb, td, std::memcmp(blocked, perEntry, size_t(B) * G * 4) == 0);
  return 0;
}
"""


def build(work: Path) -> Path:
    _, files = compile_spec(ROOT / "examples/shd_mlp.json", layout="cpu")
    (work / "codelets").mkdir()
    (work / "codelets/model.cpp").write_bytes(files["codelets/model.cpp"])
    (work / "driver.cpp").write_text(DRIVER)
    exe = work / "driver"
    subprocess.run(["c++", *FLAGS, f"-I{work}", f"-I{ROOT / 'snncc/runtime/include'}", str(work / "driver.cpp"),
                    "-o", str(exe)], check=True)
    return exe


def torch_time(B: int, n: int, G: int, reps: int, inner: int) -> float:
    import torch
    torch.set_num_threads(1)
    w, dI = torch.rand(G, n) - 0.5, torch.rand(B, n) - 0.5
    torch.matmul(dI, w.T)
    best = float("inf")
    for _ in range(reps):
        t0 = time.thread_time()
        for _ in range(inner):
            torch.matmul(dI, w.T)
        best = min(best, (time.thread_time() - t0) / inner)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shapes", default="48x368x1470,48x367x1470,48x735x1470,48x1470x1470", help="BxNxG,...")
    ap.add_argument("--reps", type=int, default=15)
    ap.add_argument("--inner", type=int, default=10)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        exe = build(Path(tmp))
        print(f"load average {os.getloadavg()[0]:.2f}; 1 thread; ms per call (GFLOP/s)")
        print(f"{'B x n x G':>16} {'dotProducts':>16} {'dot per entry':>16} {'torch.matmul':>16} {'ratio':>6} same")
        for shape in args.shapes.split(","):
            B, n, G = map(int, shape.split("x"))
            out = subprocess.run([str(exe), str(B), str(n), str(G), str(args.reps), str(args.inner)],
                                 check=True, capture_output=True, text=True).stdout.split()
            tb, td, same = float(out[0]), float(out[1]), out[2] == "1"
            tt = torch_time(B, n, G, args.reps, args.inner)
            gf = 2.0 * B * n * G / 1e9
            cell = lambda s: f"{s * 1e3:.3f} ({gf / s:.0f})"  # noqa: E731
            print(f"{shape:>16} {cell(tb):>16} {cell(td):>16} {cell(tt):>16} {tb / tt:>5.2f}x {same}")
        print(f"load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
