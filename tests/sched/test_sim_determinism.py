#!/usr/bin/env python3
"""Deterministic simulation (docs/design.md, testing shape): two stacks on the in-process wire, each
device wrapped by a seeded `impair` (loss, reordering) and a `pcap`, under `scheduler: {use: sim}`,
transfer a few MiB over TCP with SHA-256 checked. Two runs with the same seed must write
byte-identical captures; a different seed must write different ones. No root needed."""
import argparse
import hashlib
import json
import os
import struct
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from skips import run_tests, skip  # noqa: E402

ARGS = None
TRANSFER = "4MiB"

CONFIG = """\
log: {{level: warn}}
scheduler: {{use: sim}}
checksum: {{use: fast}}
run: {{duration: 300s}}
stacks:
  server:
    device: {{use: pcap, file: {dir}/server.pcap,
             inner: {{use: impair, seed: {seed}, loss: 0.02, reorder: 0.02,
                     inner: {{use: wire, link: sim0, rate: 1Gbit, latency: 1ms}}}}}}
    ip: {{use: ipv4, address: 10.0.0.2/24}}
    tcp: {{use: {engine}}}
    apps:
      - {{use: tcp_bulk, role: server, direction: receive, port: 5001, connections: 1,
         bytes: {size}, seed: 3, report: {dir}/receiver.json}}
  client:
    device: {{use: pcap, file: {dir}/client.pcap,
             inner: {{use: impair, seed: {seed}, loss: 0.02, reorder: 0.02,
                     inner: {{use: wire, link: sim0, rate: 1Gbit, latency: 1ms}}}}}}
    ip: {{use: ipv4, address: 10.0.0.1/24}}
    tcp: {{use: {engine}}}
    apps:
      - {{use: tcp_bulk, role: client, direction: send, target: 10.0.0.2, port: 5001,
         bytes: {size}, seed: 3, report: {dir}/sender.json}}
"""


def sha256_of(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


class SimDeterminism(unittest.TestCase):
    def setUp(self):
        p = subprocess.run([ARGS.netloom, "plugins", "--json"], capture_output=True, text=True,
                           timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        found = {e["name"] for e in json.loads(p.stdout) if e.get("available", True)}
        missing = [n for n in ("sim", "wire", "impair", "pcap", "ipv4", "tcp_bulk", ARGS.engine)
                   if n not in found]
        if missing:
            skip(self, "plugin", "plugin(s) not built: " + ", ".join(missing))

    def run_once(self, seed):
        """Runs the transfer with impair seed `seed` in a fresh directory; returns the sha256 of
        each capture and the stats."""
        run_dir = tempfile.mkdtemp(prefix="netloom-sim-")
        self.addCleanup(lambda: subprocess.run(["rm", "-rf", run_dir], check=False))
        config = os.path.join(run_dir, "sim.yaml")
        with open(config, "w") as f:
            f.write(CONFIG.format(dir=run_dir, seed=seed, engine=ARGS.engine, size=TRANSFER))
        stats_path = os.path.join(run_dir, "stats.json")
        p = subprocess.run([ARGS.netloom, "run", "--no-stats", "--stats-json", stats_path, config],
                           capture_output=True, text=True, timeout=120)
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(os.path.join(run_dir, "sender.json")) as f:
            sender = json.load(f)
        with open(os.path.join(run_dir, "receiver.json")) as f:
            receiver = json.load(f)
        self.assertTrue(sender["ok"] and receiver["ok"], (sender, receiver))
        self.assertEqual(receiver["bytes"], 4 << 20)
        self.assertEqual(sender["sha256"], receiver["sha256"])
        with open(stats_path) as f:
            stats = json.load(f)
        captures = {}
        for side in ("client", "server"):
            path = os.path.join(run_dir, side + ".pcap")
            with open(path, "rb") as f:
                header = f.read(24 + 16)
            self.assertEqual(struct.unpack("<I", header[:4])[0], 0xA1B2C3D4)
            # Timestamps come from the virtual clock (time 0 = the epoch), not the wall clock.
            first_second = struct.unpack("<I", header[24:28])[0]
            self.assertLess(first_second, 3600, f"{side}.pcap has wall-clock timestamps")
            captures[side] = sha256_of(path)
        return captures, stats

    def test_same_seed_same_capture_other_seed_other_capture(self):
        first, stats = self.run_once(7)
        # The faults are in play (else the comparison would prove little).
        lost = sum(v.get("impair_tx_lost", 0) + v.get("impair_rx_lost", 0)
                   for k, v in stats.items() if "impair" in k)
        self.assertGreater(lost, 0, "impair lost nothing")
        self.assertGreater(stats[f"client/tcp"].get("retransmits", 0), 0)
        self.assertIn("scheduler/sim", stats)
        second, _ = self.run_once(7)
        self.assertEqual(first, second, "same seed, different captures: the run is not deterministic")
        other, _ = self.run_once(8)
        for side in ("client", "server"):
            self.assertNotEqual(first[side], other[side], f"seed 8 gave seed 7's {side}.pcap")


def main():
    global ARGS
    parser = argparse.ArgumentParser()
    parser.add_argument("--netloom", required=True)
    parser.add_argument("--engine", default="tcp_utcp")
    ARGS, rest = parser.parse_known_args()
    sys.exit(run_tests(rest))


if __name__ == "__main__":
    main()
