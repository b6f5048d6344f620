#!/usr/bin/env python3
"""Prints the conformance table (group x target: passed / failed / unsupported / divergent) from
`netloom drill --json` reports, one per target:

    python3 tests/conformance/summarize.py utcp.json classic.json linux.json

A script's group is the part of its file name before the first '-' (handshake-mss.pkt: handshake).
"""
import collections
import json
import os
import sys

SHORT = {"ok": "pass", "FAIL": "fail", "unsupported": "unsup", "divergent": "div", "invalid": "invalid"}


def main(paths):
    reports = []
    for path in paths:
        with open(path) as f:
            reports.append(json.load(f))
    groups = collections.OrderedDict()
    for report in reports:
        for script in report["scripts"]:
            group = os.path.basename(script["path"]).split("-", 1)[0]
            groups.setdefault(group, collections.defaultdict(collections.Counter))
            groups[group][report["target"]][SHORT[script["outcome"]]] += 1
    targets = [r["target"] for r in reports]
    print("| group | scripts | " + " | ".join(targets) + " |")
    print("|---|---|" + "---|" * len(targets))
    totals = collections.defaultdict(collections.Counter)
    for group in sorted(groups):
        counts = groups[group]
        n = sum(counts[targets[0]].values())
        cells = []
        for t in targets:
            c = counts[t]
            totals[t].update(c)
            cells.append(" ".join(f"{c[k]} {k}" for k in ("pass", "fail", "unsup", "div", "invalid") if c[k]))
        print(f"| {group} | {n} | " + " | ".join(cells) + " |")
    n = sum(totals[targets[0]].values())
    cells = [" ".join(f"{totals[t][k]} {k}" for k in ("pass", "fail", "unsup", "div", "invalid") if totals[t][k])
             for t in targets]
    print(f"| **all** | {n} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main(sys.argv[1:])
