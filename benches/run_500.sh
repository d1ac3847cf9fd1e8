#!/usr/bin/env bash
# The run engine's overhead: a 500-step runbook of `shell` steps running `/bin/true`,
# against a bash script running `/bin/true` 500 times.
#
# Both do the same work (500 process spawns); the difference is what drbook adds per
# step: rendering, the durable journal (two hash-chained, fsync'd events per step: the
# start is on disk before the command runs, the finish before the next step starts),
# the action's process group and output capture, the view. The goal (issue 3) is drbook
# at most 1.5x the bash script, stretch 1.25x. docs/performance.md records the figures.
#
# Usage: benches/run_500.sh [STEPS]     (default 500; needs hyperfine, installed with
#                                        apt-get when missing)
# Environment: RUNS (hyperfine --runs, default 10), WARMUP (default 2),
#              EXPORT (a path: also write hyperfine's JSON there).
#
# Each drbook iteration gets a fresh state directory (hyperfine --prepare removes it), so
# every run creates its record from nothing, as a real run does. The state directory is
# on the same filesystem as the temp dir: fsync costs what that disk costs.
set -euo pipefail
cd "$(dirname "$0")/.."

steps="${1:-500}"
runs="${RUNS:-10}"
warmup="${WARMUP:-2}"

if ! command -v hyperfine >/dev/null 2>&1; then
  sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  echo "run_500: installing hyperfine" >&2
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq hyperfine >/dev/null
fi

cargo build --release --quiet
drbook="$PWD/target/release/drbook"

work="$(mktemp -d "${TMPDIR:-/tmp}/drbook-run500.XXXXXX")"
trap 'rm -rf "$work"' EXIT

{
  cat <<EOF
apiVersion: drbook.io/v1
kind: Runbook
metadata: {name: run-$steps, version: 1.0.0, title: $steps shell steps}
spec:
  steps:
EOF
  for i in $(seq 1 "$steps"); do
    printf '    - {id: s%d, action: shell, with: {run: /bin/true}}\n' "$i"
  done
} >"$work/runbook.yaml"

{
  echo '#!/usr/bin/env bash'
  echo 'set -e'
  for _ in $(seq 1 "$steps"); do
    echo '/bin/true'
  done
} >"$work/script.sh"

"$drbook" validate "$work/runbook.yaml" >/dev/null

echo "machine: $(nproc) cores, $(uname -sr); load: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
export_args=()
[ -n "${EXPORT:-}" ] && export_args=(--export-json "$EXPORT")
# One --prepare per command, in order: nothing for bash, a fresh state dir for drbook.
# -N: no intermediate shell; hyperfine discards both commands' output.
hyperfine --warmup "$warmup" --runs "$runs" -N "${export_args[@]}" \
  --prepare "true" --prepare "rm -rf $work/state" \
  --command-name "bash: $steps x /bin/true" \
  --command-name "drbook: $steps shell steps" \
  "bash $work/script.sh" \
  "$drbook run $work/runbook.yaml --state-dir $work/state --output json --run-id bench"
