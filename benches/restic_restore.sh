#!/usr/bin/env bash
# Fetching a backup with restic: what drbook's `restic.restore` costs over restic itself.
#
# One repository in a real S3 server (moto, on a free 127.0.0.1 port) holds one snapshot
# of a directory shaped like the KubeOne addon's /backup: an `etcd-snapshot.db` of
# SIZE_MB random (incompressible) bytes and a `pki/` of eight small files. Each iteration
# restores it from nothing:
#   (a) restic: `restic restore <id> --target <dir> --verify`, the command an operator
#       would type (with restic's local cache, which drbook's restic uses as well);
#   (b) drbook: `drbook run` of a one-step runbook, `restic.restore` of the same full id
#       into a new directory: one restic run, no listing (the snapshot's time is the
#       one restic names as it restores). drbook does more than (a): it refuses an
#       occupied target, restores into a staging directory with `--verify`, counts what
#       was restored, writes its record, renames the staging directory into place and
#       journals the step (fsync'd) in a fresh state directory;
#   (c) drbook, as (b) with `snapshot_time` given, as a preceding `restic.snapshots`
#       step's outputs would give it;
#   (d) drbook with the short id: the repository is listed first (`restic snapshots
#       --json`, a second restic run), as every restore did before issue 12.
# The variants run side by side: each of RUNS rounds runs every variant once (one
# hyperfine call per round, --runs 1 each), so a change in the shared machine's load
# hits all of them alike. The summary prints each variant's median and the difference
# of its median from (a)'s. The goal (issue 12): (b) at most 0.2 s over (a).
# docs/performance.md records the figures.
#
# Usage: benches/restic_restore.sh   (needs restic, moto from scripts/ensure-tools'
#                                      venv, hyperfine: installed with apt-get if missing)
# Environment: RUNS (rounds, default 5), WARMUP (untimed rounds first, default 1),
#              SIZE_MB (size of the snapshot file, default 200),
#              EXPORT (a path: also write every round's timings there, as JSON).
# The server is stopped by its pid when the script ends.
set -euo pipefail
cd "$(dirname "$0")/.."

runs="${RUNS:-5}"
warmup="${WARMUP:-1}"
size_mb="${SIZE_MB:-200}"
moto="${XDG_CACHE_HOME:-$HOME/.cache}/drbook/moto/bin/moto_server"

command -v restic >/dev/null || { echo "restic_restore: restic is not on the PATH (apt-get install -y restic)" >&2; exit 1; }
[ -x "$moto" ] || { echo "restic_restore: $moto is missing; run: source scripts/ensure-tools && ensure_moto" >&2; exit 1; }
if ! command -v hyperfine >/dev/null 2>&1; then
  sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq hyperfine >/dev/null
fi

cargo build --release --quiet
drbook="$PWD/target/release/drbook"

work=$(mktemp -d /tmp/drbook-restic-bench.XXXXXX)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$moto" -H 127.0.0.1 -p "$port" >"$work/moto.log" 2>&1 &
moto_pid=$!
cleanup() { kill "$moto_pid" 2>/dev/null || true; wait "$moto_pid" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
for _ in $(seq 1 200); do
  curl -s -o /dev/null "http://127.0.0.1:$port/" && break
  sleep 0.05
done

# Only what restic needs: the machine may export AWS_CA_BUNDLE and other AWS variables.
export -n AWS_CA_BUNDLE 2>/dev/null || true
unset AWS_CA_BUNDLE AWS_PROFILE
export RESTIC_REPOSITORY="s3:http://127.0.0.1:$port/kubermatic-master-backups"
export RESTIC_PASSWORD="bench-password"
export AWS_ACCESS_KEY_ID="bench-key" AWS_SECRET_ACCESS_KEY="bench-secret"

mkdir -p "$work/backup/pki/kubernetes" "$work/backup/pki/etcd"
head -c "$((size_mb * 1024 * 1024))" /dev/urandom >"$work/backup/etcd-snapshot.db"
for f in ca.crt ca.key front-proxy-ca.crt front-proxy-ca.key sa.key sa.pub; do
  head -c 1700 /dev/urandom | base64 >"$work/backup/pki/kubernetes/$f"
done
for f in ca.crt ca.key; do head -c 1200 /dev/urandom | base64 >"$work/backup/pki/etcd/$f"; done
restic init --no-cache -q
restic backup --no-cache -q --tag etcd --host cp-0 "$work/backup"
id=$(restic snapshots --no-cache --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')

short_id=${id:0:8}
time=$(restic snapshots --no-cache --json "$id" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["time"])')

# runbook NAME SNAPSHOT [EXTRA LINE]: a one-step restic.restore runbook into out-NAME.
runbook() {
  cat >"$work/$1.yaml" <<YAML
apiVersion: drbook.io/v1
kind: Runbook
metadata: {name: bench-restic-restore, version: 1.0.0}
spec:
  secrets:
    - {name: password, env: RESTIC_PASSWORD}
    - {name: key, env: AWS_ACCESS_KEY_ID}
    - {name: secret, env: AWS_SECRET_ACCESS_KEY}
  steps:
    - id: fetch
      action: restic.restore
      with:
        repository: "$RESTIC_REPOSITORY"
        password: "{{ secrets.password }}"
        env: {AWS_ACCESS_KEY_ID: "{{ secrets.key }}", AWS_SECRET_ACCESS_KEY: "{{ secrets.secret }}"}
        snapshot: "$2"
        target: "$work/out-$1"
${3:-}
YAML
  "$drbook" validate "$work/$1.yaml" >/dev/null
}
runbook full "$id"
runbook given "$id" "        snapshot_time: \"$time\""
runbook short "$short_id"

echo "snapshot $id: ${size_mb} MB etcd-snapshot.db + pki/; restic $(restic version | cut -d' ' -f2)"
names=("(a) restic restore --verify" "(b) drbook restic.restore, full id"
  "(c) drbook restic.restore, id + snapshot_time" "(d) drbook restic.restore, short id (listed)")
# With restic's cache, as drbook's restic has it (and an operator's), so that the
# warm-up round fills it for both.
commands=("restic restore -q $id --target $work/out-restic --verify")
for variant in full given short; do
  commands+=("$drbook run $work/$variant.yaml --state-dir $work/state --output json")
done
hyperfine_args=(--runs 1 -N
  --prepare "sh -c 'rm -rf $work/out-* $work/state; sync'")
for name in "${names[@]}"; do hyperfine_args+=(--command-name "$name"); done

echo "machine: $(nproc) cores, $(uname -sr); load: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
source benches/lib/rounds.sh
interleaved_rounds "$work" "$runs" "$warmup" "${commands[@]}"

PYTHONPATH=benches/lib python3 - "$work" "$runs" "${EXPORT:-}" <<'PY'
import statistics, sys
import rounds
work, runs, export = sys.argv[1], int(sys.argv[2]), sys.argv[3]
names, times, cpu = rounds.load(work, runs, export)
base = names[0]
print(f"{runs} rounds, each variant once per round")
for n in names:
    t = times[n]
    print(f"  {n:48s} median {statistics.median(t):.3f} s  (min {min(t):.3f}, max {max(t):.3f})")
for n in names[1:]:
    diff = statistics.median(times[n]) - statistics.median(times[base])
    per_round = statistics.median(d - b for d, b in zip(times[n], times[base]))
    print(f"{n[:3]} - (a): difference of medians {diff:+.3f} s, median of per-round differences {per_round:+.3f} s")
PY
