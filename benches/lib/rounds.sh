# Sourced by the restore benchmarks: runs their variants side by side, one of each per
# round (hyperfine --runs 1), so a busy minute on this shared machine weighs on every
# variant alike. The caller sets `hyperfine_args` (names, prepare, cleanup) and calls
#   interleaved_rounds WORK RUNS WARMUP COMMAND...
# which writes WORK/round-<n>.json for n = 1..RUNS, for the caller's summary.
interleaved_rounds() {
  local work=$1 runs=$2 warmup=$3 round
  shift 3
  for round in $(seq 1 "$warmup"); do
    hyperfine "${hyperfine_args[@]}" --style none "$@" >/dev/null
  done
  for round in $(seq 1 "$runs"); do
    echo "round $round of $runs (load $(cut -d' ' -f1 /proc/loadavg))" >&2
    hyperfine "${hyperfine_args[@]}" --style none --export-json "$work/round-$round.json" \
      "$@" >/dev/null
  done
  echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
}
