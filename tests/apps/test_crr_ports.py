#!/usr/bin/env python3
"""A client opening connections faster than its ephemeral ports allow (issue 11) neither fails
nor breaks TIME-WAIT: under the `sim` scheduler (virtual time, deterministic), an rr client in
`crr` mode (one connection per transaction, the client closing first) runs 5 s against a server
with only 300 ephemeral ports. With 2 MSL = 60 s of TIME-WAIT every port would be gone after
300 transactions; instead the engine takes over TIME-WAIT 4-tuples after
`time_wait_reuse_delay` (1 s, with timestamps) and, when none is reusable yet, `connect()` says
when one will be and the client waits for it. Asserted: no failed transaction, far more
transactions than ports, TIME-WAITs reused, waits counted, no TIME-WAIT dropped by overflow,
and the rate bounded by ports / delay. No root needed."""
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
PORTS = 300
SECONDS = 5

CONFIG = """\
log: {{level: warn}}
scheduler: {{use: sim}}
run: {{duration: 120s}}
stacks:
  server:
    device: {{use: wire, link: crr0, rate: 1Gbit, latency: 50us}}
    ip: {{use: ipv4, address: 10.0.0.2/24}}
    tcp: {{use: {engine}}}
    apps: [{{use: rr, role: server, port: 5004}}]
  client:
    device: {{use: wire, link: crr0, rate: 1Gbit, latency: 50us}}
    ip: {{use: ipv4, address: 10.0.0.1/24}}
    tcp: {{use: {engine}, ephemeral_ports: 40000-{last}}}
    apps:
      - {{use: rr, role: client, target: 10.0.0.2, port: 5004, mode: crr, size: 64,
         duration: {seconds}s, report: {dir}/client.json}}
"""


class CrrPorts(unittest.TestCase):
    def test_crr_past_the_port_range_waits_and_reuses(self):
        tmp = tempfile.mkdtemp(prefix="netloom-crr-")
        self.addCleanup(lambda: subprocess.run(["rm", "-rf", tmp], check=False))
        config = os.path.join(tmp, "crr.yaml")
        with open(config, "w") as f:
            f.write(CONFIG.format(engine=ARGS.engine, last=40000 + PORTS - 1, seconds=SECONDS,
                                  dir=tmp))
        stats_path = os.path.join(tmp, "stats.json")
        p = subprocess.run([ARGS.netloom, "run", "--no-stats", "--stats-json", stats_path, config],
                           capture_output=True, text=True, timeout=240)
        self.assertEqual(p.returncode, 0, p.stderr[-3000:])
        with open(os.path.join(tmp, "client.json")) as f:
            report = json.load(f)
        with open(stats_path) as f:
            stats = json.load(f)
        client_tcp = stats["client/tcp"]
        print(f"{ARGS.engine}: {report.get('transactions')} transactions in {SECONDS} s over "
              f"{PORTS} ports; reused {client_tcp.get('time_wait_reused_active')}, "
              f"waits {client_tcp.get('ephemeral_exhausted')}")
        self.assertTrue(report.get("ok", False), report)
        self.assertEqual(report.get("errors", 0), 0, report)
        self.assertEqual(report.get("corrupt", 0), 0, report)
        transactions = report["transactions"]
        # Without reuse: at most PORTS. With it: ~PORTS per second of reuse delay.
        self.assertGreater(transactions, 3 * PORTS, report)
        self.assertLessEqual(transactions, (SECONDS + 1) * PORTS + PORTS, report)
        self.assertGreater(client_tcp["time_wait_reused_active"], 2 * PORTS, client_tcp)
        self.assertGreater(client_tcp["ephemeral_exhausted"], 0, client_tcp)
        self.assertEqual(client_tcp["time_wait_overflows"], 0, client_tcp)

    def test_more_open_connections_than_ports_fail_alone(self):
        # tcp_conns holds every connection open: nothing is in TIME-WAIT, so the ports past
        # the range fail at connect() (TcpNoFreePort, nothing to wait for); the app reports
        # them and ends instead of waiting for connections that never open.
        tmp = tempfile.mkdtemp(prefix="netloom-conns-")
        self.addCleanup(lambda: subprocess.run(["rm", "-rf", tmp], check=False))
        config = os.path.join(tmp, "conns.yaml")
        with open(config, "w") as f:
            f.write(CONNS.format(engine=ARGS.engine, dir=tmp))
        p = subprocess.run([ARGS.netloom, "run", "--no-stats", config], capture_output=True,
                           text=True, timeout=240)
        self.assertEqual(p.returncode, 1, p.stderr[-3000:])
        with open(os.path.join(tmp, "conns.json")) as f:
            report = json.load(f)
        self.assertEqual(report.get("established"), 10, report)
        self.assertEqual(report.get("failed"), 10, report)
        self.assertIn("no free ephemeral port", p.stderr)


CONNS = """\
log: {{level: warn}}
scheduler: {{use: sim}}
run: {{duration: 600s}}
stacks:
  server:
    device: {{use: wire, link: conns0, rate: 1Gbit, latency: 50us}}
    ip: {{use: ipv4, address: 10.0.0.2/24}}
    tcp: {{use: {engine}}}
    apps: [{{use: tcp_conns, role: server, port: 5002}}]
  client:
    device: {{use: wire, link: conns0, rate: 1Gbit, latency: 50us}}
    ip: {{use: ipv4, address: 10.0.0.1/24}}
    tcp: {{use: {engine}, ephemeral_ports: 40000-40009}}
    apps:
      - {{use: tcp_conns, role: client, target: 10.0.0.2, port: 5002, count: 20,
         settle: 10ms, hold: 10ms, report: {dir}/conns.json}}
"""


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--netloom", required=True)
    parser.add_argument("--engine", required=True)
    ARGS, rest = parser.parse_known_args()
    sys.exit(run_tests(rest))
