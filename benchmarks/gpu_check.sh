#!/usr/bin/env bash
# GPU check (issue 18): the CUDA tests, the speed benchmark on DBLP and Photo, and the
# 1M-node quality-at-scale row, in under 8 minutes on one H200 (every step has a timeout;
# the step limits add up to 7.5 min). Writes <out>/gpu.md with the command, the machine
# (nvidia-smi), the date, the load and each step's exit status, time and results.
#
#   bash benchmarks/gpu_check.sh                      # on a GPU machine
#   bash benchmarks/gpu_check.sh --device cpu --tiny --out /tmp/gpu   # CPU rehearsal (tests)
#
# --speed-datasets A,B: the speed benchmark's data sets (default dblp,photo).
#
# --tiny: karate instead of DBLP/Photo, a 600-node graph with 3 epochs instead of 1M nodes,
# and 15-minute step limits (a rehearsal on a busy CPU must not time out).
# Data: $GRAPHCLUST_DATA, else ../shared/data next to the repository. Python: $PYTHON, else
# python3. A failed or timed-out step is recorded and the next one runs; the script exits 1
# if any step failed.
set -uo pipefail

DEVICE=cuda
TINY=0
SPEED_DATASETS=dblp,photo
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=$ROOT/benchmarks/results
COMMAND="bash benchmarks/gpu_check.sh $*"
while [ $# -gt 0 ]; do
    case $1 in
        --device) DEVICE=$2; shift 2 ;;
        --tiny) TINY=1; shift ;;
        --speed-datasets) SPEED_DATASETS=$2; shift 2 ;;
        --out) OUT=$2; shift 2 ;;
        -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
        *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done
PYTHON=${PYTHON:-python3}
CORES=$(getconf _NPROCESSORS_ONLN)
# The limits budget the H200's 8 minutes; a CPU rehearsal on a busy machine gets slack
# instead (its steps are small, and a test must not fail on a slow machine).
limit() { if [ $TINY -eq 1 ]; then echo 900; else echo "$1"; fi; }
DATA=${GRAPHCLUST_DATA:-$ROOT/../shared/data}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
LOGS=$OUT/gpu_check_logs
mkdir -p "$LOGS"
# Results of an earlier run must not pass for this run's.
rm -f "$OUT"/speed_dblp.md "$OUT"/speed_photo.md "$OUT"/speed_karate.md "$OUT/scale_quality_gpu.md"
cd "$ROOT"
if [ "$DEVICE" = cpu ]; then
    # The estimators' device="auto" would pick a GPU if there were one.
    export CUDA_VISIBLE_DEVICES=""
fi

REPORT=$OUT/gpu.md
STATUS=0
{
    echo "# GPU check"
    echo
    echo "Command: \`$COMMAND\`"
    echo
    echo "Date: $(date -u '+%Y-%m-%d %H:%M UTC'); load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo
    echo "Machine: $CORES CPU cores; GPU: $(nvidia-smi --query-gpu=name,memory.total,driver_version \
        --format=csv,noheader 2>/dev/null | paste -sd ';' - || true)"
    [ -n "${CUDA_VISIBLE_DEVICES-unset}" ] || echo "(CUDA hidden: --device cpu)"
    echo
    echo "| step | limit (s) | exit status | wall (s) |"
    echo "|---|---:|---:|---:|"
} > "$REPORT"

# step NAME LIMIT_SECONDS COMMAND...: run with a time limit, log its output, add a table row.
step() {
    local name=$1 limit=$2
    shift 2
    local start=$SECONDS rc
    echo "== $name (limit ${limit}s): $*"
    timeout --kill-after=10 "$limit" "$@" > "$LOGS/$name.log" 2>&1
    rc=$?
    [ $rc -eq 0 ] || STATUS=1
    local note=$rc
    [ $rc -eq 124 ] && note="124 (timed out)"
    echo "| $name | $limit | $note | $((SECONDS - start)) |" >> "$REPORT"
    echo "   exit $note after $((SECONDS - start)) s"
}

mapfile -t CUDA_TEST_FILES < <(grep -l "torch.cuda.is_available()" tests/test_*.py)
step cuda-tests "$(limit 75)" "$PYTHON" -m pytest -q -p no:cacheprovider -k cuda -rs "${CUDA_TEST_FILES[@]}"
if [ $TINY -eq 1 ]; then
    step speed-karate "$(limit 60)" "$PYTHON" -m benchmarks.bench_speed --dataset karate --seeds 1 \
        --device "$DEVICE" --threads "$CORES" --out "$OUT/speed_karate.md"
    step scale-quality "$(limit 90)" "$PYTHON" -m benchmarks.bench_scale_quality --tiny --skip-reference \
        --input-hops 2 --device "$DEVICE" --threads "$CORES" --out "$OUT/scale_quality_gpu.md"
else
    for dataset in ${SPEED_DATASETS//,/ }; do
        step "speed-$dataset" 90 "$PYTHON" -m benchmarks.bench_speed --root "$DATA" \
            --dataset "$dataset" --seeds 1 --device "$DEVICE" --threads "$CORES" --out "$OUT/speed_$dataset.md"
    done
    # SCGC* with input_hops=2: with the defaults the joint stage runs to max_epochs on this
    # generator (scale_quality.md), 200 epochs of 1,000 batches, past the step's limit.
    step scale-quality 200 "$PYTHON" -m benchmarks.bench_scale_quality --sizes 1000000 \
        --input-hops 2 --skip-reference --device "$DEVICE" --threads "$CORES" \
        --out "$OUT/scale_quality_gpu.md"
fi

{
    echo
    echo "Load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo
    echo "## CUDA tests (tail of the pytest output)"
    echo
    echo '```'
    tail -n 15 "$LOGS/cuda-tests.log"
    echo '```'
    for result in "$OUT"/speed_*.md "$OUT/scale_quality_gpu.md"; do
        [ -f "$result" ] || continue
        echo
        echo "## $(basename "$result")"
        echo
        sed 's/^#/###/' "$result"
    done
} >> "$REPORT"
echo "wrote $REPORT"
exit $STATUS
