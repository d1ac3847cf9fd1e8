#!/usr/bin/env python3
"""The journal's own cost, without the engine: replays a real run's journal.jsonl into a
new file with the same system calls drbook's journal makes, and prints the seconds it took.

drbook's writer (src/journal/writer.rs) opens the journal with O_CREAT|O_EXCL|O_APPEND,
fsyncs its directory, writes each record as one line with one write(2), and calls
fdatasync(2) right before every effect (each `step_started`, so a step's start and the
previous step's finish share one fdatasync) and when the run ends. This script does the
same writes and the same fdatasyncs, in the same order, in a file beside the state
directory (same filesystem), and times only that: Python's start-up is not counted.

Usage: journal_appends.py JOURNAL DIR    (prints: <seconds> <fdatasyncs>)
"""

import json
import os
import sys
import time


def main() -> None:
    journal, directory = sys.argv[1], sys.argv[2]
    with open(journal, "rb") as f:
        lines = f.read().splitlines(keepends=True)
    syncs_before = [json.loads(line)["event"]["type"] == "step_started" for line in lines]
    path = os.path.join(directory, "journal-appends.jsonl")
    if os.path.exists(path):
        os.unlink(path)
    start = time.perf_counter()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o600)
    dfd = os.open(directory, os.O_RDONLY)
    os.fsync(dfd)
    os.close(dfd)
    syncs = 0
    for line, sync in zip(lines, syncs_before):
        os.write(fd, line)
        if sync:
            os.fdatasync(fd)
            syncs += 1
    os.fdatasync(fd)
    syncs += 1
    os.close(fd)
    elapsed = time.perf_counter() - start
    os.unlink(path)
    print(f"{elapsed:.6f} {syncs}")


if __name__ == "__main__":
    main()
