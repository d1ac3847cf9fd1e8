#!/usr/bin/env bash
# Watch latency: how long after a Velero Restore changes in the API server drbook's
# `velero.restore` step sees it. The goal (issue 10): median ≤ 50 ms over 100 changes,
# which only a watch can meet (`velero restore create --wait` resyncs every second).
#
# The measurement is the ignored test `velero_actions::latency::watch_latency` in the
# integration tests: drbook's real action, through the real kube client, against the
# fake API server on 127.0.0.1 (tests/support/fake_kube). The action creates its Restore
# and watches it; a driver thread changes the Restore's progress 100 times, one change at
# a time, and times each write to the progress event the action reports for it. It
# prints the median, the worst and the best delay, and fails when the median is over
# the goal. What it leaves out: a real API server's own latency (etcd write, watch cache)
# and the network, which add the same to any client.
#
# Usage: benches/watch_latency.sh            (release build)
#        PROFILE=dev benches/watch_latency.sh (debug build: quicker to build, slower to run)
set -euo pipefail
cd "$(dirname "$0")/.."
profile=(--release)
if [ "${PROFILE:-release}" = dev ]; then
  profile=()
fi
cargo test "${profile[@]}" --test integration velero_actions::latency::watch_latency -- --ignored --nocapture --exact 2>&1 \
  | grep -E '^watch latency|panicked|test result'
