#!/usr/bin/env python3
"""Graceful shutdown (SIGINT/SIGTERM) over TAP, as root in a throw-away namespace, once per TCP
engine (--engine).

netloom runs the `echo` server behind the pcap driver on a TAP link (kernel side 10.72.0.1/24,
netloom 10.72.0.2/24). In each case a Linux client holds an established connection (one byte
echoed proves it), then:
- SIGTERM: the client reads the end of stream (netloom's FIN) and closes; netloom exits 0 well
  within run.shutdown_timeout, and tshark reads the whole capture without a warning, netloom's
  FIN and the last ACK (for the client's FIN) included.
- the peer stops answering (the kernel side of the TAP link is set down, so netloom's FIN
  reaches nobody) and SIGTERM: netloom exits at the bound with status 3 (connections reset),
  not before it; the capture is whole and holds netloom's retransmitted FIN and its RST.
- a second signal during such a shutdown: netloom exits at once with 128 + SIGINT, the capture
  whole.
Nothing sleeps for synchronisation: the tests wait on netloom's log lines, sockets and exits."""
import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

from netns import (Namespace, Netloom, require_plugins, require_root, run_tests, tcp_config,
                   tshark_check, wait_for)

ARGS = None
TAP = "nlshut0"
LINUX = "10.72.0.1"
NETLOOM = "10.72.0.2"
NETLOOM_MAC = "02:00:00:00:72:02"
LIMIT = 120  # run.duration: a hang guard
FIGURES = []


def tshark_fields(pcap, display_filter, *fields):
    """One tuple of `fields` per packet matching `display_filter`."""
    p = subprocess.run(["tshark", "-r", pcap, "-Y", display_filter, "-T", "fields",
                        *sum((["-e", f] for f in fields), [])],
                       capture_output=True, text=True, timeout=120)
    if p.returncode != 0:
        raise AssertionError(f"tshark failed on {display_filter}: {p.stderr}")
    return [tuple(line.split("\t")) for line in p.stdout.splitlines()]


class GracefulShutdown(unittest.TestCase):
    def setUp(self):
        require_root(self, "tshark")
        require_plugins(self, ARGS.netloom, ARGS.engine, "echo", "ipv4", "tap", "pcap")
        self.tmp_dir = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp_dir.cleanup)
        self.tmp = self.tmp_dir.name
        os.chmod(self.tmp, 0o755)
        self.ns = Namespace("nlsd")
        self.ns.__enter__()
        self.addCleanup(self.ns.__exit__, None, None, None)
        self.ns.add_tap(TAP, LINUX + "/24")

    def start(self, name, shutdown_timeout):
        """netloom with the echo server; a Linux client connected and one byte echoed."""
        self.pcap = os.path.join(self.tmp, name + ".pcap")
        config = os.path.join(self.tmp, name + ".yaml")
        text = tcp_config(engine=ARGS.engine, tap=TAP, mac=NETLOOM_MAC, address=NETLOOM + "/24",
                          limit=LIMIT, pcap=self.pcap, shutdown_timeout=shutdown_timeout,
                          apps=[{"use": "echo", "role": "server", "port": 7}])
        with open(config, "w") as f:
            f.write(text)
        self.netloom = Netloom(self.ns, ARGS.netloom, config, self.tmp, name)
        self.addCleanup(lambda: self.netloom.alive() and self.netloom.process.kill())
        self.netloom.wait_running()
        with self.ns.entered():
            client = socket.create_connection((NETLOOM, 7), timeout=20)
        self.addCleanup(client.close)
        client.sendall(b"x")
        self.assertEqual(client.recv(1), b"x")
        return client

    def log_says(self, text, timeout=20):
        wait_for(lambda: text in self.netloom.output() or not self.netloom.alive(), timeout,
                 f"netloom to log {text!r}")
        self.assertIn(text, self.netloom.output())

    def exit_status(self, timeout):
        """Waits for netloom's exit; returns (status, seconds since `self.signalled`)."""
        code, _ = self.netloom.wait(timeout=timeout)
        return code, time.monotonic() - self.signalled

    def signal(self, number):
        self.signalled = time.monotonic()
        self.netloom.process.send_signal(number)

    def test_a_sigterm_sends_fin_and_exits_0(self):
        client = self.start("fin", "10s")
        self.signal(signal.SIGTERM)
        client.settimeout(10)
        self.assertEqual(client.recv(1), b"", "the client should read netloom's FIN (EOF)")
        fin_seen = time.monotonic() - self.signalled
        client.close()
        code, seconds = self.exit_status(30)
        output = self.netloom.output()
        self.assertEqual(code, 0, output[-4000:])
        self.assertLess(seconds, 10, "netloom should exit well within shutdown_timeout")
        self.assertIn("every connection closed", output)
        FIGURES.append(f"SIGTERM: FIN at the client after {fin_seen * 1000:.0f} ms, exit 0 "
                       f"after {seconds * 1000:.0f} ms")
        tshark_check(self, self.pcap)
        fins = tshark_fields(self.pcap, f"ip.src == {NETLOOM} && tcp.flags.fin == 1",
                             "frame.number")
        self.assertGreaterEqual(len(fins), 1, "no FIN from netloom in the capture")
        linux_fins = tshark_fields(self.pcap, f"ip.src == {LINUX} && tcp.flags.fin == 1",
                                   "frame.number", "tcp.seq_raw", "tcp.len")
        self.assertGreaterEqual(len(linux_fins), 1, "no FIN from the client in the capture")
        number, seq, length = linux_fins[-1]
        # The last record: netloom's ACK of the client's FIN (RFC 9293 3.6), flushed at exit.
        last_acks = tshark_fields(self.pcap, f"ip.src == {NETLOOM} && frame.number > {number}"
                                  " && tcp.flags.ack == 1", "tcp.ack_raw")
        self.assertIn((str((int(seq) + int(length or 0) + 1) % (1 << 32)),), last_acks,
                      "netloom's ACK of the client's FIN is missing from the capture")

    def test_b_unresponsive_peer_exits_at_the_bound(self):
        client = self.start("bound", "3s")
        # The peer stops answering: with the kernel side down, netloom's FIN reaches nobody.
        self.ns.run("ip", "link", "set", TAP, "down")
        self.signal(signal.SIGTERM)
        code, seconds = self.exit_status(30)
        output = self.netloom.output()
        self.assertEqual(code, 3, output[-4000:])
        self.assertGreaterEqual(seconds, 2.9, "netloom gave up before run.shutdown_timeout")
        self.assertLess(seconds, 6, "netloom should exit at run.shutdown_timeout")
        self.assertIn("shutdown_timeout passed with 1 connection(s) open", output)
        FIGURES.append(f"unresponsive peer: exit 3 after {seconds * 1000:.0f} ms (bound 3 s)")
        tshark_check(self, self.pcap)
        fins = tshark_fields(self.pcap, f"ip.src == {NETLOOM} && tcp.flags.fin == 1",
                             "frame.number")
        self.assertGreaterEqual(len(fins), 2, "netloom's FIN should have been retransmitted")
        rsts = tshark_fields(self.pcap, f"ip.src == {NETLOOM} && tcp.flags.reset == 1",
                             "frame.number")
        self.assertEqual(len(rsts), 1, "one RST at the bound")
        client.close()

    def test_c_second_signal_stops_at_once(self):
        self.start("second", "60s")
        self.ns.run("ip", "link", "set", TAP, "down")
        self.signal(signal.SIGTERM)
        self.log_says("closing every connection")
        self.signal(signal.SIGINT)
        code, seconds = self.exit_status(30)
        output = self.netloom.output()
        self.assertEqual(code, 128 + signal.SIGINT, output[-4000:])
        self.assertLess(seconds, 5, "a second signal must stop netloom at once")
        self.assertIn("during the shutdown", output)
        FIGURES.append(f"second signal: exit {code} after {seconds * 1000:.0f} ms")
        tshark_check(self, self.pcap)


def tearDownModule():
    for line in FIGURES:
        print(f"\nshutdown ({ARGS.engine}): {line}", file=sys.stderr)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--netloom", required=True)
    parser.add_argument("--engine", default="tcp_utcp")
    ARGS, rest = parser.parse_known_args()
    sys.exit(run_tests(rest))
