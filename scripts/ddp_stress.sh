#!/usr/bin/env bash
# Stress the two-process gloo test: run it RUNS times in a row (default 30) while a CPU-bound process spins on
# another core, print pass/fail per run and a total; exit 1 when any run failed.
#
#   bash scripts/ddp_stress.sh            # 30 runs
#   RUNS=10 bash scripts/ddp_stress.sh    # fewer
#
# Why the load: a gloo worker thread that is preempted between completing a collective and releasing its
# tensors is what used to crash a rank at exit (see "Distributed shutdown" in imggan/train/README-trainer-api.md);
# competing for the cores makes such preemptions frequent. Logs of failed runs are kept under $LOGS.
set -uo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-30}
PY=${PY:-.venv/bin/python}
TEST=${TEST:-tests/train/test_distributed.py::test_two_gloo_processes_match_one}
LOGS=${LOGS:-$(mktemp -d /tmp/ddp_stress.XXXXXX)}

"$PY" -c 'while True: pass' &
BUSY=$!
trap 'kill "$BUSY" 2>/dev/null' EXIT

pass=0
fail=0
for i in $(seq 1 "$RUNS"); do
  start=$(date +%s)
  if OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 PYTHONFAULTHANDLER=1 "$PY" -m pytest -q -p no:cacheprovider "$TEST" \
    >"$LOGS/run-$i.log" 2>&1; then
    pass=$((pass + 1))
    printf 'run %2d/%d: pass (%ds)\n' "$i" "$RUNS" $(($(date +%s) - start))
    rm -f "$LOGS/run-$i.log"
  else
    fail=$((fail + 1))
    reason=$(grep -m1 -o 'exitcode *: *-\?[0-9]* ([A-Z]*)\|terminate called[a-z ]*\|[A-Za-z]*Error[^"]*' "$LOGS/run-$i.log")
    printf 'run %2d/%d: FAIL (%ds) %s  [log: %s]\n' "$i" "$RUNS" $(($(date +%s) - start)) "$reason" \
      "$LOGS/run-$i.log"
  fi
done
echo "total: $pass/$RUNS passed, $fail failed"
[ "$fail" -eq 0 ]
