#!/usr/bin/env python3
"""Failures reach apps as values, on the real engines (issue 6, bad input), run under the `sim`
scheduler so minutes of retransmission backoff take milliseconds and every run is the same:

- a peer that vanishes (its `impair` drops everything from 50 ms on: no RST, no ICMP) ends the
  sender's transfer with the engine's `timed_out` error after `max_retransmits`, and the
  receiver's with `timed_out` from keepalive (RFC 1122 4.2.3.6: a silent peer is only noticed by
  probing it); the run exits 1 (finite apps failed) well before its duration guard, instead of
  hanging;
- an app that stops reading (tcp_bulk's receiver stalls for 30 s after 1 MiB) does not make the
  stack's memory grow: the engine holds at most its receive buffer, the sender waits on the
  closed window (zero-window probes), and when reading resumes every byte arrives (sha256).
No root needed."""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from skips import run_tests, skip  # noqa: E402

ARGS = None

VANISH = """\
log: {{level: warn}}
scheduler: {{use: sim}}
run: {{duration: 600s}}
stacks:
  server:
    device: {{use: impair, outage_after: 50ms,
             inner: {{use: wire, link: gone0, rate: 1Gbit, latency: 1ms}}}}
    ip: {{use: ipv4, address: 10.0.0.2/24}}
    tcp: {{use: {engine}, keepalive: true, keepalive_idle: 20s, keepalive_interval: 5s,
           keepalive_count: 3}}
    apps:
      - {{use: tcp_bulk, role: server, direction: receive, port: 5001, connections: 1,
         report: {dir}/receiver.json}}
  client:
    device: {{use: wire, link: gone0, rate: 1Gbit, latency: 1ms}}
    ip: {{use: ipv4, address: 10.0.0.1/24}}
    tcp: {{use: {engine}, max_retransmits: 4}}
    apps:
      - {{use: tcp_bulk, role: client, direction: send, target: 10.0.0.2, port: 5001,
         bytes: 64MiB, seed: 3, report: {dir}/sender.json}}
"""

STALL = """\
log: {{level: warn}}
scheduler: {{use: sim}}
run: {{duration: 600s}}
stacks:
  server:
    device: {{use: wire, link: stall0, rate: 1Gbit, latency: 1ms}}
    ip: {{use: ipv4, address: 10.0.0.2/24}}
    tcp: {{use: {engine}, rcvbuf: 128KiB, sndbuf: 128KiB}}
    apps:
      - {{use: tcp_bulk, role: server, direction: receive, port: 5001, connections: 1,
         bytes: 16MiB, seed: 5, stall_after: 1MiB, stall_for: 30s,
         report: {dir}/receiver.json}}
  client:
    device: {{use: wire, link: stall0, rate: 1Gbit, latency: 1ms}}
    ip: {{use: ipv4, address: 10.0.0.1/24}}
    tcp: {{use: {engine}, rcvbuf: 128KiB, sndbuf: 128KiB}}
    apps:
      - {{use: tcp_bulk, role: client, direction: send, target: 10.0.0.2, port: 5001,
         bytes: 16MiB, seed: 5, report: {dir}/sender.json}}
"""


class AppFailures(unittest.TestCase):
    def setUp(self):
        p = subprocess.run([ARGS.netloom, "plugins", "--json"], capture_output=True, text=True,
                           timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        found = {e["name"] for e in json.loads(p.stdout) if e.get("available", True)}
        missing = [n for n in ("sim", "wire", "impair", "ipv4", "tcp_bulk", ARGS.engine)
                   if n not in found]
        if missing:
            skip(self, "plugin", "plugin(s) not built: " + ", ".join(missing))
        self.dir = tempfile.mkdtemp(prefix="netloom-fail-")
        self.addCleanup(lambda: subprocess.run(["rm", "-rf", self.dir], check=False))

    def run_config(self, template):
        config = os.path.join(self.dir, "run.yaml")
        with open(config, "w") as f:
            f.write(template.format(dir=self.dir, engine=ARGS.engine))
        stats_path = os.path.join(self.dir, "stats.json")
        p = subprocess.run([ARGS.netloom, "run", "--no-stats", "--stats-json", stats_path, config],
                           capture_output=True, text=True, timeout=120)
        with open(stats_path) as f:
            stats = json.load(f)
        return p, stats

    def test_vanished_peer_is_a_timeout_error(self):
        p, stats = self.run_config(VANISH)
        self.assertEqual(p.returncode, 1, "a transfer to a vanished peer must fail:\n" + p.stderr)
        with open(os.path.join(self.dir, "sender.json")) as f:
            sender = json.load(f)
        self.assertFalse(sender["ok"])
        self.assertEqual(sender["tcp_error"], "timed_out", sender)
        self.assertLess(sender["bytes"], 64 << 20)
        # The outage really dropped traffic, and the sender backed off: at least 4 RTOs of
        # >= 200 ms each (RFC 6298 5.5 doubling) on the virtual clock.
        outage = sum(v.get("impair_rx_outage", 0) for k, v in stats.items()
                     if k.startswith("server/device"))
        self.assertGreater(outage, 0, stats)
        self.assertGreaterEqual(stats["client/tcp"].get("rto_count", 0)
                                or stats["client/tcp"].get("retransmits", 0), 4, stats)
        with open(os.path.join(self.dir, "receiver.json")) as f:
            receiver = json.load(f)
        self.assertFalse(receiver["ok"])
        self.assertEqual(receiver["tcp_error"], "timed_out", receiver)
        # Keepalive: 20 s idle + 3 probes 5 s apart; the run stops when both apps have failed,
        # long before the 600 s guard (which would mean something hung).
        virtual_ms = stats["scheduler/sim"].get("virtual_ms", 0)
        self.assertGreaterEqual(virtual_ms, 20_000, stats)
        self.assertLess(virtual_ms, 120_000, stats)
        self.assertNotIn("had not finished", p.stderr)

    def test_a_receiver_that_stops_reading_holds_memory_bounded(self):
        p, stats = self.run_config(STALL)
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(os.path.join(self.dir, "receiver.json")) as f:
            receiver = json.load(f)
        with open(os.path.join(self.dir, "sender.json")) as f:
            sender = json.load(f)
        self.assertTrue(receiver["ok"] and sender["ok"], (receiver, sender))
        self.assertEqual(receiver["bytes"], 16 << 20)
        self.assertEqual(receiver["sha256"], sender["sha256"])
        transfer = receiver["transfers"][0]
        # Over 30 s the sender could have pushed 3.75 GB at 1 Gbit/s; the receiving engine held
        # at most its 128 KiB buffer's worth of bytes, in the received packets' buffers (at most
        # twice that: reassembly_buffer.hpp's pin_limit, plus the 8 KiB slice table), plus the
        # connection's own state.
        self.assertGreater(transfer["stall_readable_bytes"], 64 << 10, transfer)
        self.assertLessEqual(transfer["stall_readable_bytes"], 128 << 10, transfer)
        self.assertLessEqual(transfer["stall_engine_memory"], 2 * (128 << 10) + 8192 + 4096,
                             transfer)
        self.assertGreaterEqual(stats["scheduler/sim"].get("virtual_ms", 0), 30_000, stats)
        # The sender did not retransmit into the closed window as if data were lost.
        self.assertEqual(stats["client/tcp"].get("rto_count", 0), 0, stats["client/tcp"])


def main():
    global ARGS
    parser = argparse.ArgumentParser()
    parser.add_argument("--netloom", required=True)
    parser.add_argument("--engine", default="tcp_utcp")
    ARGS, rest = parser.parse_known_args()
    sys.exit(run_tests(rest))


if __name__ == "__main__":
    main()
