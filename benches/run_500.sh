#!/usr/bin/env bash
# The run engine's overhead per step, against its floor, measured side by side.
#
# A 500-step runbook of `shell` steps running `/bin/true`, against a bash script running
# `/bin/true` 500 times: both do the same work (500 process starts); the difference is
# what drbook adds per step: rendering, the durable journal (two hash-chained events per
# step, fsync'd so that a step's start is on disk before its command runs and its finish
# before the next step starts: one fdatasync per step), the action's process group and
# output capture, the view.
#
# A durable engine cannot beat bash plus one fsync'd journal append per step, so the
# script also measures that floor on the same filesystem as the state directory:
# benches/journal_appends.py replays the journal of a real run with the same writes and
# fdatasyncs drbook makes, and nothing else. The goal (issue 12): per step,
# drbook - bash <= one fsync'd append + 0.1 ms.
#
# Each round runs (a) bash, (b) drbook with a fresh state directory and (c) the journal
# replay, one right after the other (the order of (a) and (b) alternates), so the three
# see the same load; the figures are medians over the rounds. A shared machine moves
# all three together, and the ratio less than the times. The disk moves most: another
# program's writes can make an fdatasync cost ten times more for a few seconds. So each
# round also runs (d) drbook with its state directory on tmpfs (/dev/shm, when it is
# tmpfs), where fdatasync costs nothing: (d) - (a) is drbook's own work per step, the
# part the goal allows 0.1 ms for, whatever the disk does.
#
# Usage: benches/run_500.sh [STEPS]     (default 500)
# Environment: ROUNDS (default 10, at least 5), WARMUP (rounds not counted, default 2),
#              EXPORT (a path: also write every round's times there, as JSON),
#              DRBOOK (a drbook binary to measure instead of building this tree's).
set -euo pipefail
cd "$(dirname "$0")/.."

steps="${1:-500}"
rounds="${ROUNDS:-10}"
warmup="${WARMUP:-2}"
[ "$rounds" -ge 5 ] || { echo "run_500: ROUNDS must be at least 5" >&2; exit 2; }

if [ -z "${DRBOOK:-}" ]; then
  cargo build --release --quiet
fi
drbook="${DRBOOK:-$PWD/target/release/drbook}"
bench="$PWD/benches"

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
# One real run gives the journal (c) replays: the same lines, so the same sizes.
"$drbook" run "$work/runbook.yaml" --state-dir "$work/sample" --output json --run-id bench >/dev/null
journal="$(find "$work/sample" -name journal.jsonl | head -n 1)"

echo "machine: $(nproc) cores, $(uname -sr); filesystem of the state directory: $(stat -f -c %T "$work"); load: $(cut -d' ' -f1-3 /proc/loadavg)" >&2

# Wall time of one command in seconds, from bash's clock (no process started to read it).
timed() {
  local start=$EPOCHREALTIME
  "$@" >/dev/null 2>&1
  local end=$EPOCHREALTIME
  echo "$start $end" | awk '{printf "%.6f", $2 - $1}'
}
run_bash() { timed bash "$work/script.sh"; }
run_drbook() {
  rm -rf "$work/state"
  timed "$drbook" run "$work/runbook.yaml" --state-dir "$work/state" --output json --run-id bench
}
shm=""
if [ "$(stat -f -c %T /dev/shm 2>/dev/null)" = tmpfs ]; then
  shm="$(mktemp -d /dev/shm/drbook-run500.XXXXXX)"
  trap 'rm -rf "$work" "$shm"' EXIT
fi
run_drbook_tmpfs() {
  if [ -z "$shm" ]; then echo 0; return; fi
  rm -rf "$shm/state"
  timed "$drbook" run "$work/runbook.yaml" --state-dir "$shm/state" --output json --run-id bench
}

results="$work/rounds.txt"
: >"$results"
for round in $(seq 1 $((warmup + rounds))); do
  if [ $((round % 2)) -eq 0 ]; then
    b="$(run_bash)"; d="$(run_drbook)"
  else
    d="$(run_drbook)"; b="$(run_bash)"
  fi
  read -r j syncs < <(python3 "$bench/journal_appends.py" "$journal" "$work")
  t="$(run_drbook_tmpfs)"
  if [ "$round" -gt "$warmup" ]; then
    echo "$b $d $j $syncs $t" >>"$results"
    echo "round $((round - warmup))/$rounds: bash $b s, drbook $d s, journal alone $j s ($syncs fdatasyncs), drbook on tmpfs $t s" >&2
  fi
done
echo "load at the end: $(cut -d' ' -f1-3 /proc/loadavg)" >&2

python3 - "$results" "$steps" "${EXPORT:-}" <<'EOF'
import json, statistics, sys
path, steps, export = sys.argv[1], int(sys.argv[2]), sys.argv[3]
rounds = [tuple(float(x) for x in line.split()) for line in open(path) if line.strip()]
ms = lambda s: s * 1000
bash = [r[0] for r in rounds]
drbook = [r[1] for r in rounds]
journal = [r[2] for r in rounds]
extra = [ms(r[1] - r[0]) / steps for r in rounds]
append = [ms(r[2]) / steps for r in rounds]
own = [ms(r[4] - r[0]) / steps for r in rounds if r[4] > 0]
med = statistics.median
goal = med(append) + 0.1
held = sum(1 for e, a in zip(extra, append) if e <= a + 0.1)
print(f"{len(rounds)} rounds of {steps} steps, medians:")
print(f"  (a) bash                       {ms(med(bash)):8.1f} ms   {ms(med(bash)) / steps:.3f} ms/step")
print(f"  (b) drbook                     {ms(med(drbook)):8.1f} ms   {ms(med(drbook)) / steps:.3f} ms/step   {med(drbook) / med(bash):.2f}x bash")
print(f"  (c) journal alone (fdatasync'd) {ms(med(journal)):7.1f} ms   {med(append):.3f} ms/step")
print(f"  drbook - bash per step          {med(extra):.3f} ms   (rounds: {min(extra):.3f} .. {max(extra):.3f})")
print(f"  goal: drbook - bash <= (c) + 0.1 ms = {goal:.3f} ms per step: {'HOLDS' if med(extra) <= goal else 'NOT MET'}"
      f" (in {held} of {len(rounds)} rounds)")
if own:
    print(f"  (d) drbook on tmpfs - bash per step {med(own):.3f} ms   (rounds: {min(own):.3f} .. {max(own):.3f}):"
          f" drbook's own work, without the fsync; {'within' if med(own) <= 0.1 else 'over'} the 0.1 ms")
if export:
    json.dump({"steps": steps, "rounds": [dict(zip(["bash_s", "drbook_s", "journal_s", "fdatasyncs", "drbook_tmpfs_s"], r)) for r in rounds]},
              open(export, "w"), indent=1)
EOF
