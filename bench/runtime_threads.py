"""Time a generated program's training step on the host runtime with 1 and 2 threads,
idle and with a competing CPU load, for the current runtime and a baseline revision.

    python bench/runtime_threads.py [--spec examples/digits.json] [--baseline REV] [--reps 7]

The spec is compiled with `snncc.driver` and built twice: against the runtime
in the working tree (`snncc build`, cached) and against the runtime of git revision REV
(its CMakeLists.txt, include/ and src/ exported with `git show` into a temporary copy,
compiled into the program). A step's time is (wall(S2 steps) - wall(S1 steps)) / (S2 - S1)
of the `train INIT BATCH OUT STEPS` binary (as snncc/verify/harness.py runs it), so engine
construction cancels; the thread count is set with SNNCC_NUM_THREADS. "loaded" runs one
busy-loop subprocess per core alongside. Prints medians over --reps and ratios.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from snncc import driver  # noqa: E402
from snncc.verify import harness as verify  # noqa: E402
from snncc import tensorfile  # noqa: E402


def export_runtime(rev: str, dest: Path) -> Path:
    """The runtime directory as of git revision rev."""
    names = subprocess.run(["git", "ls-tree", "-r", "--name-only", rev, "snncc/runtime"],
                           cwd=ROOT, check=True, capture_output=True, text=True).stdout.split()
    for name in names:
        rel = Path(name).relative_to("snncc/runtime")
        if rel.parts[0] not in ("CMakeLists.txt", "include", "src"):
            continue
        out = dest / rel
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(subprocess.run(["git", "show", f"{rev}:{name}"], cwd=ROOT, check=True,
                                       capture_output=True).stdout)
    return dest


def build_against(compiled: Path, runtime: Path, build: Path) -> Path:
    """Configure and build the compiled program with the runtime at `runtime` compiled in."""
    build.mkdir(parents=True, exist_ok=True)
    subprocess.run(["cmake", "-S", str(compiled), "-B", str(build), "-DCMAKE_BUILD_TYPE=Release",
                    "-DSNNCC_NATIVE=ON", "-DSNNCC_RUNTIME=host", f"-DSNNCC_RUNTIME_DIR={runtime}"],
                   check=True, capture_output=True)
    subprocess.run(["cmake", "--build", str(build), "-j", "2"], check=True, capture_output=True)
    return build / "train"


def busy_loop() -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", "while True: pass"])


def wall(binary: Path, work: Path, steps: int, threads: int, extra_env: dict | None = None) -> float:
    env = dict(os.environ, SNNCC_NUM_THREADS=str(threads), **(extra_env or {}))
    cmd = [str(binary), str(work / "init.bin"), str(work / "batch.bin"), str(work / "result.bin"), str(steps)]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    t1 = time.perf_counter()
    if proc.returncode not in (0, 3):
        raise RuntimeError(f"{binary} exited with {proc.returncode}: {proc.stderr[-500:]}")
    return t1 - t0


def step_ms(binary: Path, work: Path, threads: int, s1: int, s2: int, extra_env: dict | None = None) -> float:
    return (wall(binary, work, s2, threads, extra_env) - wall(binary, work, s1, threads, extra_env)) / (s2 - s1) * 1e3


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--spec", default=str(ROOT / "examples" / "digits.json"))
    ap.add_argument("--baseline", default="687ca2c", help="git revision of the 'before' runtime")
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--steps", type=int, nargs=2, default=(2, 12), metavar=("S1", "S2"))
    ap.add_argument("--load", type=int, default=os.cpu_count() or 1, help="busy-loop processes when loaded")
    ap.add_argument("--no-steal-variant", action="store_true",
                    help="also time the current runtime with SNNCC_POOL_STEAL=0")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="snncc-bench-") as tmp:
        tmp = Path(tmp)
        compiled = driver.compile_to(args.spec, tmp / "compiled")
        ir, _ = driver.compile_spec(args.spec)
        binaries = {
            f"before ({args.baseline})": build_against(compiled, export_runtime(args.baseline, tmp / "rt-before"),
                                                       tmp / "build-before"),
            "after (working tree)": driver.build(compiled, cache_root=tmp / "build-after"),
        }
        envs = {name: None for name in binaries}
        if args.no_steal_variant:  # the same binary with the caller never running a worker's block
            binaries["after, SNNCC_POOL_STEAL=0"] = binaries["after (working tree)"]
            envs["after, SNNCC_POOL_STEAL=0"] = {"SNNCC_POOL_STEAL": "0"}
        work = tmp / "work"
        work.mkdir()
        if hasattr(verify, "init_tensors"):  # weights, biases and per-neuron parameters
            init = verify.init_tensors(ir)[1]
        else:
            init = {k: v.numpy() for k, v in verify.initial_weights(ir).items()}
        x, y = verify.make_batch(ir, 0)
        tensorfile.write(work / "init.bin", init)
        tensorfile.write(work / "batch.bin", {"inputs": x, "labels": y})

        s1, s2 = args.steps
        # Determinism: the result file of S1 steps is byte-identical for 1, 2, 3, 4 threads.
        for name, binary in binaries.items():
            outs = []
            for threads in (1, 2, 3, 4):
                wall(binary, work, s1, threads, envs[name])
                outs.append((work / "result.bin").read_bytes())
            print(f"{name}: result of {s1} steps identical for 1, 2, 3, 4 threads: "
                  f"{'yes' if all(o == outs[0] for o in outs) else 'NO'}")
        print(f"spec {args.spec}; step = (wall({s2}) - wall({s1})) / {s2 - s1}; median of {args.reps}; "
              f"cpus {os.cpu_count()}; loadavg before {os.getloadavg()[0]:.2f}")
        results: dict[tuple[str, str, int], float] = {}
        for load in ("idle", "loaded"):
            procs = [busy_loop() for _ in range(args.load)] if load == "loaded" else []
            try:
                time.sleep(0.2 if procs else 0)
                for rep in range(args.reps):
                    for name, binary in binaries.items():
                        for threads in (1, 2):
                            results.setdefault((name, load, threads), [])  # type: ignore[arg-type]
                            results[(name, load, threads)].append(  # type: ignore[union-attr]
                                step_ms(binary, work, threads, s1, s2, envs[name]))
            finally:
                for p in procs:
                    p.kill()
                    p.wait()
        print(f"{'runtime':<28} {'load':<7} {'1 thread ms':>12} {'2 threads ms':>13} {'2t/1t':>7}")
        med = {k: statistics.median(v) for k, v in results.items()}  # type: ignore[arg-type]
        for load in ("idle", "loaded"):
            for name in binaries:
                a, b = med[(name, load, 1)], med[(name, load, 2)]
                print(f"{name:<28} {load:<7} {a:>12.3f} {b:>13.3f} {b / a:>7.2f}")
        names = list(binaries)
        for load in ("idle", "loaded"):
            for threads in (1, 2):
                r = med[(names[1], load, threads)] / med[(names[0], load, threads)]
                print(f"after/before {load} {threads} thread(s): {r:.2f}")


if __name__ == "__main__":
    main()
