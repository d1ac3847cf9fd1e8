#!/usr/bin/env bash
# etcd restore: a 3-member cluster restored from a ~300 MB snapshot, started, and healthy.
#
# Three ways of doing the same recovery, from the same snapshot, each iteration from
# nothing (no data directories, no running member):
#   (a) seq.sh: the documented procedure, member after member: `etcdctl snapshot restore`
#       for m0, m1, m2 in sequence, then start the three members, then poll
#       `etcdctl endpoint health --cluster` every 20 ms until it passes;
#   (b) par.sh: the three restores in parallel (`&` + `wait`), then the same start and
#       the same 20 ms health poll;
#   (u) par-unchecked.sh: (b) with `--skip-hash-check` on every restore, so nothing
#       checks the snapshot's integrity at all: the floor, not a way to recover;
#   (c) drbook: `drbook run` of a three-step runbook: `etcd.snapshot.restore` (the three
#       members from one member table, concurrently), a `shell` step starting them, and
#       `etcd.health` retried every 20 ms. drbook verifies the snapshot once beside the
#       restores (SHA-256 of the file and its trailer, `snapshot status`) and has the
#       tool skip its own per-copy hash, guarded by the file's identity; it restores
#       into `<dir>.drbook-restoring` and renames, and every step is journaled (fsync'd)
#       in a fresh state directory.
# All three start the members with the same start.sh (setsid, pid files). The goals:
# issue 4, drbook within 1.1x of (b) and at least 1.5x faster than (a); issue 12,
# drbook at most 1.02x (b) for restore + start + healthy, and at most 1.0x (b) for the
# restore alone (MODE=restore-only: (b) is the three parallel restores and nothing
# else, drbook a one-step runbook of `etcd.snapshot.restore`).
# docs/performance.md records the figures.
#
# The variants run side by side: each of RUNS rounds runs every variant once (one
# hyperfine call per round, --runs 1 each), so a change in the shared machine's load
# hits all of them alike. The summary prints each variant's median and the ratios of
# the medians, and the median of the per-round ratios.
#
# Usage: benches/etcd_restore.sh          (needs etcd + etcdctl 3.4 and hyperfine;
#                                           hyperfine is installed with apt-get if missing)
# Environment: MODE (full, the default: restore + start + healthy; restore-only: the
#                restore alone, (b) against drbook),
#              RUNS (rounds, default 5), WARMUP (untimed rounds first, default 1),
#              SIZE_MB (snapshot size to write, default 300),
#              VALUE_KB (size of each value, default 100; 1 gives many small keys, as
#                Kubernetes writes: the members then take longer to start),
#              SNAPSHOT (a snapshot file to use; when it does not exist, it is written
#                there and kept, so the next run can skip writing it),
#              EXPORT (a path: also write every round's timings there, as JSON).
#
# The snapshot is written once: a 1-member etcd on free 127.0.0.1 ports with a raised
# --quota-backend-bytes gets ~SIZE_MB of VALUE_KB values, up to 1.8 MB to a `txn` (under
# etcdctl's 2 MiB gRPC message limit), then `etcdctl snapshot save`, then it is killed by pid.
# hyperfine's --prepare (stop.sh) kills every member of the previous iteration by its pid
# file (SIGKILL, waits until it is gone), removes the data directories and drbook's state
# directory and runs `sync`, so no iteration pays for the previous one's writeback. No
# etcd outlives the script (trap).
set -euo pipefail
cd "$(dirname "$0")/.."

runs="${RUNS:-5}"
warmup="${WARMUP:-1}"
mode="${MODE:-full}"
case "$mode" in
  full | restore-only) ;;
  *) echo "etcd_restore: MODE is full or restore-only, not $mode" >&2; exit 1 ;;
esac
size_mb="${SIZE_MB:-300}"
value_kb="${VALUE_KB:-100}"
export ETCDCTL_API=3

for tool in etcd etcdctl setsid python3; do
  command -v "$tool" >/dev/null || {
    echo "etcd_restore: $tool is not on the PATH (apt-get install -y etcd-server etcd-client)" >&2
    exit 1
  }
done
if ! command -v hyperfine >/dev/null 2>&1; then
  sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  echo "etcd_restore: installing hyperfine" >&2
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq hyperfine >/dev/null
fi

cargo build --release --quiet
drbook="$PWD/target/release/drbook"

work="$(mktemp -d "${TMPDIR:-/tmp}/drbook-etcdrestore.XXXXXX")"
mkdir -p "$work/run" "$work/logs"

# stop.sh: kill every etcd of this bench by its pid file, wait until it is gone, wipe the
# members' data, drbook's state and the logs. Used by --prepare, --cleanup and the trap.
cat >"$work/stop.sh" <<EOF
#!/bin/sh
# A live etcd: the pid runs etcd and is not a zombie (PID 1 of a container may not reap).
is_etcd() {
  [ -n "\$1" ] && grep -qx etcd "/proc/\$1/comm" 2>/dev/null &&
    ! grep -q "^State:[[:space:]]*Z" "/proc/\$1/status" 2>/dev/null
}
for pidfile in "$work"/run/*.pid; do
  [ -f "\$pidfile" ] || continue
  pid=\$(cat "\$pidfile")
  if is_etcd "\$pid"; then
    kill -KILL "\$pid" 2>/dev/null || true
    while is_etcd "\$pid"; do sleep 0.01; done
  fi
  rm -f "\$pidfile"
done
rm -rf "$work"/m?.etcd "$work"/m?.etcd.drbook-* "$work/state" "$work"/logs/m?.log
sync
EOF
trap 'sh "$work/stop.sh"; rm -rf "$work"' EXIT
trap 'exit 130' INT TERM

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# ----------------------------------------------------------------- the snapshot, once
snap="$work/snapshot.db"
[ -n "${SNAPSHOT:-}" ] && snap="$(realpath "$SNAPSHOT")"
if [ ! -s "$snap" ]; then
  sc="http://127.0.0.1:$(free_port)"
  sp="http://127.0.0.1:$(free_port)"
  setsid etcd --name src --data-dir "$work/src.etcd" \
    --listen-client-urls "$sc" --advertise-client-urls "$sc" \
    --listen-peer-urls "$sp" --initial-advertise-peer-urls "$sp" \
    --initial-cluster "src=$sp" \
    --quota-backend-bytes $((8 * 1024 * 1024 * 1024)) --max-request-bytes 2097152 \
    --max-txn-ops 1000 --snapshot-count 1000000 </dev/null >"$work/logs/src.log" 2>&1 &
  echo $! >"$work/run/src.pid"
  disown   # killed by pid (stop.sh), without bash's "Killed" notice
  tries=0
  until etcdctl --endpoints "$sc" --dial-timeout=1s endpoint health >/dev/null 2>&1; do
    tries=$((tries + 1))
    [ "$tries" -lt 200 ] || { tail -n 20 "$work/logs/src.log" >&2; exit 1; }
    sleep 0.05
  done
  echo "etcd_restore: writing ~${size_mb} MB into a 1-member etcd" >&2
  value="$(head -c $((value_kb * 750)) /dev/urandom | base64 -w0)"   # value_kb x 1,000 bytes
  per_txn=$((1800 / value_kb))                 # at most 1.8 MB per txn
  [ "$per_txn" -le 1000 ] || per_txn=1000      # --max-txn-ops below
  [ "$per_txn" -ge 1 ] || { echo "etcd_restore: VALUE_KB is at most 1800" >&2; exit 1; }
  txns=$(( (size_mb * 1000 + per_txn * value_kb - 1) / (per_txn * value_kb) ))
  start_s=$SECONDS
  for t in $(seq 0 $((txns - 1))); do
    {
      echo
      for k in $(seq 0 $((per_txn - 1))); do
        printf 'put bench/%05d/%04d %s\n' "$t" "$k" "$value"
      done
      echo
      echo
    } | etcdctl --endpoints "$sc" --command-timeout=30s txn >/dev/null
  done
  etcdctl --endpoints "$sc" snapshot save "$snap" >/dev/null 2>&1
  sh "$work/stop.sh"
  rm -rf "$work/src.etcd"
  echo "etcd_restore: $txns txns of $per_txn x $value_kb KB values in $((SECONDS - start_s)) s" >&2
fi
snap_bytes=$(stat -c %s "$snap")
snap_keys=$(etcdctl snapshot status "$snap" -w json | python3 -c 'import json,sys; print(json.load(sys.stdin)["totalKey"])')
echo "etcd_restore: snapshot $snap: $((snap_bytes / 1000000)) MB, $snap_keys keys" >&2

# ----------------------------------------------------------------- the cluster table
token=bench-restored
names=(m0 m1 m2)
clients=() peers=()
for i in 0 1 2; do
  clients+=("http://127.0.0.1:$(free_port)")
  peers+=("http://127.0.0.1:$(free_port)")
done
ic="m0=${peers[0]},m1=${peers[1]},m2=${peers[2]}"
endpoints="${clients[0]},${clients[1]},${clients[2]}"

# start.sh: starts the three restored members detached (setsid), pid files in run/.
# It waits until each pid runs etcd (setsid has left drbook's process group by then).
{
  echo '#!/bin/sh'
  echo 'set -eu'
  for i in 0 1 2; do
    cat <<EOF
setsid etcd --name m$i --data-dir "$work/m$i.etcd" \\
  --listen-client-urls ${clients[$i]} --advertise-client-urls ${clients[$i]} \\
  --listen-peer-urls ${peers[$i]} --initial-advertise-peer-urls ${peers[$i]} \\
  --initial-cluster $ic --initial-cluster-token $token --initial-cluster-state existing \\
  --quota-backend-bytes $((8 * 1024 * 1024 * 1024)) </dev/null >"$work/logs/m$i.log" 2>&1 &
echo \$! >"$work/run/m$i.pid"
EOF
  done
  cat <<EOF
for m in m0 m1 m2; do
  pid=\$(cat "$work/run/\$m.pid")
  tries=0
  until grep -qx etcd "/proc/\$pid/comm" 2>/dev/null; do
    if ! kill -0 "\$pid" 2>/dev/null || [ "\$tries" -ge 500 ]; then
      echo "\$m did not start" >&2; tail -n 20 "$work/logs/\$m.log" >&2; exit 1
    fi
    tries=\$((tries + 1)); sleep 0.01
  done
done
EOF
} >"$work/start.sh"

# The 20 ms health poll of (a) and (b), with a 60 s deadline.
poll="tries=0
until etcdctl --endpoints ${clients[0]} --dial-timeout=500ms --command-timeout=1s \\
    endpoint health --cluster >/dev/null 2>&1; do
  tries=\$((tries + 1)); [ \"\$tries\" -lt 3000 ] || exit 1
  sleep 0.02
done"

restore_cmd() {   # member index
  echo "etcdctl snapshot restore $snap --name m$1 --data-dir $work/m$1.etcd \\
  --initial-cluster $ic --initial-cluster-token $token \\
  --initial-advertise-peer-urls ${peers[$1]} >$work/logs/restore-m$1.log 2>&1"
}

{
  echo '#!/bin/sh'
  echo 'set -eu'
  echo 'export ETCDCTL_API=3'
  for i in 0 1 2; do restore_cmd "$i"; done
  echo "sh $work/start.sh"
  echo "$poll"
} >"$work/seq.sh"

{
  echo '#!/bin/sh'
  echo 'set -eu'
  echo 'export ETCDCTL_API=3'
  for i in 0 1 2; do echo "$(restore_cmd "$i") &"; echo "p$i=\$!"; done
  echo 'wait "$p0"; wait "$p1"; wait "$p2"'
  echo "sh $work/start.sh"
  echo "$poll"
} >"$work/par.sh"

# The restore alone, (b)'s way.
{
  echo '#!/bin/sh'
  echo 'set -eu'
  echo 'export ETCDCTL_API=3'
  for i in 0 1 2; do echo "$(restore_cmd "$i") &"; echo "p$i=\$!"; done
  echo 'wait "$p0"; wait "$p1"; wait "$p2"'
} >"$work/par-restore.sh"

# (u): (b) and its restore alone without any integrity check.
for f in par par-restore; do
  sed 's/ --initial-cluster / --skip-hash-check --initial-cluster /' "$work/$f.sh" >"$work/$f-unchecked.sh"
  grep -q -- --skip-hash-check "$work/$f-unchecked.sh"
done

cat >"$work/runbook.yaml" <<EOF
apiVersion: drbook.io/v1
kind: Runbook
metadata: {name: bench-etcd-restore, version: 1.0.0, title: Restore 3 etcd members and start them}
spec:
  steps:
    - id: restore
      action: etcd.snapshot.restore
      with:
        file: $snap
        token: $token
        members:
          - {name: m0, peer_url: "${peers[0]}", data_dir: $work/m0.etcd}
          - {name: m1, peer_url: "${peers[1]}", data_dir: $work/m1.etcd}
          - {name: m2, peer_url: "${peers[2]}", data_dir: $work/m2.etcd}
    - id: start
      action: shell
      with: {run: sh $work/start.sh}
    - id: healthy
      action: etcd.health
      with:
        endpoints: ["${clients[0]}", "${clients[1]}", "${clients[2]}"]
        timeout: 1s
      retry: {attempts: 3000, backoff: 20ms}
EOF
# The restore alone, drbook's way: the runbook's first step.
sed '/^    - id: start$/,$d' "$work/runbook.yaml" >"$work/restore-only.yaml"
"$drbook" validate "$work/runbook.yaml" >/dev/null
"$drbook" validate "$work/restore-only.yaml" >/dev/null

# One check run of each, so a broken variant fails here and not as a fast "time".
sh "$work/stop.sh"; sh "$work/seq.sh"
etcdctl --endpoints "$endpoints" endpoint status -w table >&2
sh "$work/stop.sh"; sh "$work/par.sh"
sh "$work/stop.sh"
"$drbook" run "$work/runbook.yaml" --state-dir "$work/state" --run-id check --output json >/dev/null
sh "$work/stop.sh"

sh "$work/stop.sh"; sh "$work/par-restore.sh"
sh "$work/stop.sh"; sh "$work/par-unchecked.sh"
sh "$work/stop.sh"; sh "$work/par-restore-unchecked.sh"
sh "$work/stop.sh"
"$drbook" run "$work/restore-only.yaml" --state-dir "$work/state" --run-id check --output json >/dev/null
sh "$work/stop.sh"

drbook_run="$drbook run --state-dir $work/state --output json --run-id bench"
if [ "$mode" = full ]; then
  names=("(a) shell: restore m0, m1, m2 in sequence, start, poll 20 ms"
    "(b) shell: restore 3 in parallel, start, poll 20 ms"
    "(u) shell: (b) with --skip-hash-check, no integrity check"
    "(c) drbook run: etcd.snapshot.restore, shell start, etcd.health")
  commands=("sh $work/seq.sh" "sh $work/par.sh" "sh $work/par-unchecked.sh"
    "$drbook_run $work/runbook.yaml")
else
  names=("(b) shell: restore 3 in parallel"
    "(u) shell: (b) with --skip-hash-check, no integrity check"
    "(c) drbook run: etcd.snapshot.restore")
  commands=("sh $work/par-restore.sh" "sh $work/par-restore-unchecked.sh"
    "$drbook_run $work/restore-only.yaml")
fi
hyperfine_args=(--runs 1 -N --prepare "sh $work/stop.sh" --cleanup "sh $work/stop.sh")
for i in "${!names[@]}"; do hyperfine_args+=(--command-name "${names[$i]}"); done

echo "machine: $(nproc) cores, $(uname -sr); load: $(cut -d' ' -f1-3 /proc/loadavg); mode $mode" >&2
source benches/lib/rounds.sh
interleaved_rounds "$work" "$runs" "$warmup" "${commands[@]}"

# The summary: medians, the ratios of the medians, the medians of per-round ratios.
PYTHONPATH=benches/lib python3 - "$work" "$runs" "${EXPORT:-}" <<'PY'
import statistics, sys
import rounds
work, runs, export = sys.argv[1], int(sys.argv[2]), sys.argv[3]
names, times, cpu = rounds.load(work, runs, export)
drbook = names[-1]
base = next(n for n in names if n.startswith("(b)"))
print(f"{runs} rounds, each variant once per round")
for n in names:
    t = times[n]
    print(f"  {n:62s} median {statistics.median(t):.3f} s  (min {min(t):.3f}, max {max(t):.3f}), CPU {statistics.median(cpu[n]):.2f} s")
for n in names[:-1]:
    ratio = statistics.median(times[drbook]) / statistics.median(times[n])
    per_round = statistics.median(d / b for d, b in zip(times[drbook], times[n]))
    print(f"drbook / {n[:3]}: ratio of medians {ratio:.3f}x, median of per-round ratios {per_round:.3f}x")
PY
