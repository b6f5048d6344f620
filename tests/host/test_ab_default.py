#!/usr/bin/env python3
"""The main job's A/B (configs/default.yaml), shortened: every workload over every variant has
a number, and the chart a bar for each. A failed run fails this test with the harness's reason
for it (nothing here tolerates a failed workload)."""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from skips import run_tests, skip  # noqa: E402
import xml.etree.ElementTree as ET

ARGS = None
SVG = "{http://www.w3.org/2000/svg}"


class DefaultAb(unittest.TestCase):
    def test_every_workload_of_the_default_ab_has_a_number_for_every_variant(self):
        tmp = tempfile.mkdtemp(prefix="netloom-ab-default-")
        self.addCleanup(shutil.rmtree, tmp, True)
        json_path, chart_path = os.path.join(tmp, "r.json"), os.path.join(tmp, "c.svg")
        config = os.path.join(ARGS.source, "configs", "default.yaml")
        p = subprocess.run([ARGS.netloom, "ab", config, "--quick", "--short", "--json", json_path,
                            "--chart", chart_path], capture_output=True, text=True,
                           errors="replace", timeout=240)
        failed = [l for l in p.stderr.splitlines() if "FAILED" in l]
        self.assertEqual(failed, [], p.stderr)
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(json_path) as f:
            result = json.load(f)
        self.assertEqual(result["workload_scale"], 0.1)
        self.assertEqual(result["failures"], {})
        variants = [v["name"] for v in result["variants"]]
        self.assertEqual(variants, ["tcp_utcp", "tcp_classic"])
        # The headline figure of each workload, as the table and the chart show it.
        headline = {"bulk": "throughput_gbit_s", "rr": "latency_p50_us",
                    "crr": "connections_per_s", "idle_conns": "bytes_per_idle_connection"}
        self.assertEqual(sorted(result["workloads"]), sorted(headline))
        for workload, metric in headline.items():
            for variant in variants:
                ok = [r for r in result["runs"] if r["workload"] == workload and
                      r["variant"] == variant and r["ok"]]
                self.assertEqual(len(ok), 1, f"{workload} {variant}: {result['runs']}")
                value = result["results"][workload][variant][metric]["median"]
                self.assertGreater(value, 0, f"{workload} {variant} {metric}")
        # No row of the table stands without numbers.
        self.assertNotIn("no successful run", p.stdout)
        self.assertNotIn("not run", p.stdout)
        # The chart: a bar per variant in each of the four bar panels (throughput, latency
        # p50 and p99 of rr and crr, connections/s of crr and idle_conns, bytes per idle conn).
        bars = [e.get("data-variant") for e in ET.parse(chart_path).getroot().iter(SVG + "rect")
                if e.get("class") == "bar"]
        self.assertEqual(bars.count("tcp_utcp"), 1 + 4 + 2 + 1, bars)
        self.assertEqual(bars.count("tcp_classic"), 1 + 4 + 2 + 1, bars)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--netloom", required=True)
    parser.add_argument("--source", required=True)
    ARGS, rest = parser.parse_known_args()
    sys.exit(run_tests(rest))
