#!/usr/bin/env bash
# A/B of whole `snncc train` runs (host backend, 2 epochs) between two checkouts of snncc,
# alternating, two passes, each with its own build cache; prints the second epoch's training
# samples/s, test accuracy and the spike rates and overflow of each run.
#   bash bench/ab_train.sh OLD_CHECKOUT NEW_CHECKOUT [EXAMPLE...]    (default: digits shd_mlp)
set -euo pipefail
old=$(cd "$1" && pwd); new=$(cd "$2" && pwd); shift 2
examples=("${@:-digits shd_mlp}")
work=$(mktemp -d)
for pass in 1 2; do
  for side in old new; do
    tree=$([ "$side" = old ] && echo "$old" || echo "$new")
    for ex in ${examples[@]}; do
      dir="$work/$side.$ex.$pass"
      (cd "$tree" && PYTHONPATH="$tree" SNNCC_CACHE_DIR="$work/cache.$side" python -m snncc train "examples/$ex.json" \
        --epochs 2 --run-dir "$dir" --quiet >/dev/null)
      python - "$side" "$ex" "$pass" "$dir/metrics.jsonl" <<'PY'
import json, sys
side, ex, p, f = sys.argv[1:]
r = [json.loads(line) for line in open(f)][-1]
pops = {k: (round(v["spike_rate"], 4), v["overflow"]) for k, v in r["populations"].items()}
print(f"{ex:10s} {side:4s} pass {p}: {r['samples_per_s']:8.1f} samples/s  test acc {r['test_acc']:.4f}  {pops}")
PY
    done
  done
done
