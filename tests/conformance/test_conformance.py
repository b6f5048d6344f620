#!/usr/bin/env python3
"""The conformance suite (tests/conformance/*.pkt) through `netloom drill` on one target.

Every script must pass, or be reported unsupported / divergent with the reason the script itself
gives (`//! diverges TARGET: why`); nothing may fail. The Linux target needs root (a network
namespace and a TUN device per script) and is skipped otherwise.
"""
import argparse
import glob
import json
import os
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "support"))
from skips import run_tests, skip  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ARGS = None


class Conformance(unittest.TestCase):
    def test_suite(self):
        if ARGS.engine == "linux" and os.geteuid() != 0:
            skip(self, "root", "the linux target needs root (network namespace + TUN)")
        if ARGS.engine == "linux" and not os.path.exists("/dev/net/tun"):
            skip(self, "device", "/dev/net/tun is missing")
        scripts = sorted(glob.glob(os.path.join(HERE, "*.pkt")))
        self.assertGreaterEqual(len(scripts), 150, "the suite has at least 150 scripts")
        with tempfile.TemporaryDirectory() as tmp:
            report = os.path.join(tmp, "drill.json")
            proc = subprocess.run(
                [ARGS.netloom, "drill", "--engine", ARGS.engine, "-j", str(ARGS.jobs),
                 "--json", report] + scripts,
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=ARGS.timeout)
            print(proc.stdout[-20000:])
            with open(report) as f:
                doc = json.load(f)
        results = doc["scripts"]
        self.assertEqual(len(results), len(scripts))
        if ARGS.engine == "linux":
            # The kernel runs in real time: a loaded machine can delay a timer or a reply past a
            # script's tolerance. A script that failed is run once more on its own; only a second
            # failure counts, and every rerun is printed (the engines run in virtual time and
            # get no second chance).
            for i, r in enumerate(results):
                if r["outcome"] not in ("FAIL",):
                    continue
                with tempfile.TemporaryDirectory() as tmp:
                    again = os.path.join(tmp, "again.json")
                    subprocess.run([ARGS.netloom, "drill", "--engine", "linux", "--json", again,
                                    r["path"]], stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL, timeout=ARGS.timeout)
                    with open(again) as f:
                        second = json.load(f)["scripts"][0]
                print(f"rerun alone: {r['path']}: first {r['message'].splitlines()[0]}; "
                      f"then {second['outcome']}")
                results[i] = dict(second, path=r["path"])
        failed = [r for r in results if r["outcome"] in ("FAIL", "invalid")]
        self.assertEqual(failed, [], "scripts that failed on " + ARGS.engine)
        if ARGS.engine != "linux":
            self.assertEqual(proc.returncode, 0)
        # A divergence mark must carry its reason; an unsupported one must say what is missing.
        for r in results:
            if r["outcome"] == "divergent":
                self.assertTrue(r["divergence"].strip(), r["path"])
            if r["outcome"] == "unsupported":
                self.assertIn("unsupported", r["message"], r["path"])
        passed = sum(1 for r in results if r["outcome"] == "ok")
        print(f"{ARGS.engine}: {passed}/{len(results)} passed, summary {doc['summary']}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--netloom", required=True)
    parser.add_argument("--engine", required=True)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=1800)
    ARGS, rest = parser.parse_known_args()
    sys.exit(run_tests(rest))
