#!/usr/bin/env python3
"""The installed SDK builds a plugin out of tree: install netloom into a temporary prefix, build
examples/out_of_tree_plugin against that prefix only, and check the installed host lists and uses
the plugin (tshark confirms its checksums on a captured run)."""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
from netns import run_tests, tshark_check  # noqa: E402

ARGS = None

CONFIG = """\
checksum: {{use: sum32}}
run: {{duration: 20s}}
stacks:
  server:
    device: {{use: pcap, file: {pcap}, inner: {{use: wire, link: lan0}}}}
    ip: {{use: ipv4, address: 10.0.0.2/24}}
    apps: [{{use: udp_echo, role: server, port: 7}}]
  client:
    device: {{use: wire, link: lan0}}
    ip: {{use: ipv4, address: 10.0.0.1/24}}
    apps:
      - {{use: ping, target: 10.0.0.2, count: 3, interval: 10ms, size: 1001}}
      - {{use: udp_echo, role: client, target: 10.0.0.2, port: 7, count: 5, size: 2999}}
"""


def run(*argv, **kw):
    p = subprocess.run(argv, capture_output=True, text=True, timeout=600, **kw)
    if p.returncode != 0:
        raise AssertionError(f"{' '.join(argv)} failed:\n{p.stdout[-3000:]}\n{p.stderr[-3000:]}")
    return p


class OutOfTreePlugin(unittest.TestCase):
    def test_build_list_and_use(self):
        with tempfile.TemporaryDirectory() as tmp:
            prefix = os.path.join(tmp, "prefix")
            run("cmake", "--install", ARGS.build, "--prefix", prefix)
            build = os.path.join(tmp, "build")
            run("cmake", "-S", os.path.join(ARGS.source, "examples", "out_of_tree_plugin"), "-B", build,
                f"-DCMAKE_PREFIX_PATH={prefix}", "-DCMAKE_BUILD_TYPE=Release")
            run("cmake", "--build", build)
            netloom = os.path.join(prefix, "bin", "netloom")
            # Only the installed tree and the plugin's build dir: no source-tree environment.
            env = {"PATH": "/usr/bin:/bin"}
            listing = json.loads(run(netloom, "--plugin-path", build, "plugins", "--json", env=env).stdout)
            by_name = {p["name"]: p for p in listing}
            self.assertEqual(by_name["sum32"]["kind"], "checksum")
            self.assertTrue(by_name["sum32"]["available"])
            self.assertTrue(by_name["ipv4"]["file"].startswith(prefix), by_name["ipv4"])
            pcap = os.path.join(tmp, "sum32.pcap")
            config = os.path.join(tmp, "sum32.yaml")
            with open(config, "w") as f:
                f.write(CONFIG.format(pcap=pcap))
            run(netloom, "--plugin-path", build, "run", config, env=env)
            summary = tshark_check(self, pcap)  # every IPv4/ICMP/UDP checksum sum32 made is right
            self.assertIn("Echo (ping) reply", summary)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--source", required=True)
    parser.add_argument("--build", required=True)
    ARGS, rest = parser.parse_known_args()
    sys.exit(run_tests(rest))
