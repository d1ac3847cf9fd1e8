#!/usr/bin/env bash
# The HTML report of a 5,000-step run: `drbook report RUN --format html` end to end
# (process start, reading and verifying the journal's hash chain, the report model, the
# timeline's geometry, the template), on a run recorded by drbook itself. Goal (issue
# 11): less than 300 ms, release build. docs/performance.md records the figures.
#
# Usage: benches/report_5000.sh [STEPS]   (default 5000; needs hyperfine, installed with
#                                          apt-get when missing)
# Environment: RUNS (hyperfine --runs, default 10), WARMUP (default 2),
#              EXPORT (a path: also write hyperfine's JSON there).
#
# The run is a drill: every step a `shell` step running /bin/true, every 100th a confirm
# checkpoint answered from the answers file, every 250th a step that fails once and is
# retried, every 500th a step that fails for good and is gone past (`on_failure:
# continue`), so the report has checkpoints, deviations and failed output to draw, as a
# real drill's has. Recording it takes a while (one process per step); only the report
# is timed.
set -euo pipefail
cd "$(dirname "$0")/.."

steps="${1:-5000}"
runs="${RUNS:-10}"
warmup="${WARMUP:-2}"

if ! command -v hyperfine >/dev/null 2>&1; then
  sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  echo "report_5000: installing hyperfine" >&2
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq hyperfine >/dev/null
fi

cargo build --release --quiet
drbook="$PWD/target/release/drbook"

work="$(mktemp -d "${TMPDIR:-/tmp}/drbook-report5000.XXXXXX")"
trap 'rm -rf "$work"' EXIT

{
  cat <<EOF
apiVersion: drbook.io/v1
kind: Runbook
metadata: {name: report-$steps, version: 1.0.0, title: $steps steps to report}
spec:
  objectives: {rto: 1h, rpo: 1h}
  steps:
EOF
  for i in $(seq 1 "$steps"); do
    if (( i % 500 == 0 )); then
      printf '    - {id: s%d, action: shell, on_failure: continue, with: {run: "echo step %d gives up >&2; exit 4"}}\n' "$i" "$i"
    elif (( i % 250 == 0 )); then
      printf '    - {id: s%d, action: shell, retry: {attempts: 2}, with: {run: "[ -e tried-%d ] || { touch tried-%d; echo first try of %d fails >&2; exit 3; }"}}\n' "$i" "$i" "$i" "$i"
    elif (( i % 100 == 0 )); then
      printf '    - {id: s%d, checkpoint: {prompt: "Step %d: go on?", type: confirm}}\n' "$i" "$i"
      echo "s$i: true" >>"$work/answers.yaml"
    elif (( i == steps / 2 )); then
      printf '    - {id: s%d, action: shell, marks: recovered, with: {run: /bin/true}}\n' "$i"
    else
      printf '    - {id: s%d, action: shell, with: {run: /bin/true}}\n' "$i"
    fi
  done
  cat <<EOF
  drill:
    inject:
      - {id: inject, action: shell, with: {run: /bin/true}}
EOF
} >"$work/runbook.yaml"
cat >"$work/drbook.targets.yaml" <<EOF
apiVersion: drbook.io/v1
kind: Targets
targets:
  bench: {environment: staging, drill: allowed}
EOF

echo "report_5000: recording a $steps-step drill (one process per step)..." >&2
(cd "$work" && "$drbook" drill runbook.yaml --target bench --answers answers.yaml \
  --state-dir "$work/state" --run-id bench --output json >/dev/null)
events=$(wc -l <"$work/state/runs/bench/journal.jsonl")
journal_kib=$(( $(stat -c %s "$work/state/runs/bench/journal.jsonl") / 1024 ))
"$drbook" report bench --state-dir "$work/state" --format html --out "$work/report.html"
echo "journal: $events events, $journal_kib KiB; report: $(( $(stat -c %s "$work/report.html") / 1024 )) KiB" >&2

echo "machine: $(nproc) cores, $(uname -sr); load: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
export_args=()
[ -n "${EXPORT:-}" ] && export_args=(--export-json "$EXPORT")
hyperfine --warmup "$warmup" --runs "$runs" -N "${export_args[@]}" \
  --command-name "drbook report: html of $steps steps" \
  --command-name "drbook report: json of $steps steps" \
  "$drbook report bench --state-dir $work/state --format html --out $work/out.html" \
  "$drbook report bench --state-dir $work/state --format json --out $work/out.json"
