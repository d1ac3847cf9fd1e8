"""Reads the rounds `interleaved_rounds` (rounds.sh) wrote, for a benchmark's summary.

load(work, runs, export) returns the variants' names in the order they ran, and per
name its wall times and CPU times (user + system of the command and its children: on
a machine with fewer cores than the work can use, extra CPU is extra wall time), one
per round; with `export`, a path, it also writes them there as JSON.
"""
import json


def load(work, runs, export=""):
    rounds = [json.load(open(f"{work}/round-{r}.json"))["results"] for r in range(1, runs + 1)]
    names = [r["command"] for r in rounds[0]]
    times = {n: [rnd[i]["times"][0] for rnd in rounds] for i, n in enumerate(names)}
    cpu = {n: [rnd[i]["user"] + rnd[i]["system"] for rnd in rounds] for i, n in enumerate(names)}
    if export:
        json.dump({"rounds": runs, "times": times, "cpu": cpu}, open(export, "w"), indent=1)
    return names, times, cpu
