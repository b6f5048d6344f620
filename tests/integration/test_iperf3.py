#!/usr/bin/env python3
"""netloom's iperf3 app against Debian's iperf3 3.12 (as root, in a throw-away namespace).

netloom runs on a TAP link (kernel side 10.71.0.1/24, netloom 10.71.0.2/24) with the TCP engine
given by --engine and the loop given by --scheduler.

1. `iperf3 -c -n 128M -P 4 -J` against netloom's iperf3 server: succeeds, and the sum_received
   bytes in iperf3's JSON (which come from the server's results) equal the server's `bytes`
   counter; the same with -R, where sum_sent (the server's results) equals the counter.
2. netloom's iperf3 client against `iperf3 -s -1 -J`: -P 2 for 1 s, and a byte-limited run;
   the bytes iperf3's server reports equal those in netloom's report.
3. A data connection with a wrong cookie during a test gets ACCESS_DENIED (one 0xFF byte);
   garbage on the control port and a too-large JSON length are dropped and counted, and the
   server still serves the next iperf3 run.

Throughput figures (Gbit/s) are printed at the end."""
import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import unittest

from netns import (Namespace, Netloom, counter, read_report, require_plugins, require_root,
                   run_tests, tcp_config, wait_for)

ARGS = None
TAP = "nlip0"
LINUX = "10.71.0.1"
NETLOOM = "10.71.0.2"
NETLOOM_MAC = "02:00:00:00:71:02"
LIMIT = 60  # seconds: run.duration of every run, a hang guard
APP = "main/app0/iperf3"
FIGURES = []  # (what, Gbit/s)


class Iperf3AgainstLinux(unittest.TestCase):
    def setUp(self):
        require_root(self, "iperf3", "ss")
        require_plugins(self, ARGS.netloom, ARGS.engine, ARGS.scheduler, "iperf3", "ipv4", "tap")
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        self.tmp = tmp.name
        os.chmod(self.tmp, 0o755)
        self.ns = Namespace("nlip")
        self.ns.__enter__()
        self.addCleanup(self.ns.__exit__, None, None, None)
        self.runs = []
        self.addCleanup(self.show_logs_on_failure)
        self.ns.add_tap(TAP, LINUX + "/24")

    def show_logs_on_failure(self):
        outcome = getattr(self, "_outcome", None)
        result = getattr(outcome, "result", None)
        failed = result is not None and any(
            test is self for test, _ in result.failures + result.errors)
        if failed or (outcome is not None and not getattr(outcome, "success", True)):
            for name, netloom in self.runs:
                print(f"--- netloom run {name}, last lines ---\n" + netloom.output()[-6000:],
                      file=sys.stderr)

    def start(self, name, app):
        path = os.path.join(self.tmp, name + ".yaml")
        with open(path, "w") as f:
            f.write(tcp_config(engine=ARGS.engine, tap=TAP, mac=NETLOOM_MAC,
                               address=NETLOOM + "/24", apps=[app], limit=LIMIT,
                               scheduler=ARGS.scheduler))
        netloom = Netloom(self.ns, ARGS.netloom, path, self.tmp, name)
        self.runs.append((name, netloom))
        netloom.wait_running()
        if not netloom.alive() and netloom.process.returncode != 0:
            self.fail(f"netloom ({name}) exited early:\n" + netloom.output())
        return netloom

    def server(self, name, **keys):
        return self.start(name, {"use": "iperf3", "role": "server", "port": 5201, **keys})

    def iperf3_client(self, *args, timeout=40):
        p = self.ns.run("iperf3", "-c", NETLOOM, "-J", "--connect-timeout", "5000", *args,
                        check=False, timeout=timeout)
        self.assertEqual(p.returncode, 0, "iperf3 -c failed:\n" + p.stdout[-4000:] + p.stderr)
        return json.loads(p.stdout)

    def linux_socket(self):
        with self.ns.entered():
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.settimeout(10)
        return sock

    # --- 1. Linux's iperf3 client against netloom's server --------------------------------

    def check_linux_client(self, reverse):
        netloom = self.server("server_R" if reverse else "server")
        # Bounded by bytes, not time: the run's length follows this machine's speed (128 MiB is
        # ~1 s at TAP speed here, and still well within the timeout at a third of it).
        args = ["-n", "128M", "-P", "4"] + (["-R"] if reverse else [])
        result = self.iperf3_client(*args)
        # iperf3 exits after sending IPERF_DONE: the server counts the test when it reads it.
        stats = wait_for(lambda: (lambda s: s if counter(s, APP, "tests") == 1 else None)(
            netloom.stats()), 10, "the server to finish the test")
        end = result["end"]
        self.assertEqual(len(end["streams"]), 4, end)
        # Without -R the server received: its results fill sum_received. With -R it sent.
        server_side = end["sum_sent" if reverse else "sum_received"]
        self.assertGreater(server_side["bytes"], 0, end)
        self.assertEqual(server_side["bytes"], counter(stats, APP, "bytes"),
                         "the server's reported bytes against its counter")
        self.assertEqual(counter(stats, APP, "tests"), 1)
        self.assertEqual(counter(stats, APP, "tests_failed"), 0)
        # The receiver never counts more than the sender sent.
        self.assertLessEqual(end["sum_received"]["bytes"], end["sum_sent"]["bytes"], end)
        gbit = end["sum_received"]["bits_per_second"] / 1e9
        FIGURES.append((f"iperf3 -c -P 4{' -R' if reverse else ''} -> netloom server", gbit))
        code, _ = netloom.stop()
        self.assertEqual(code, 0, netloom.output()[-4000:])

    def test_1_linux_client_to_netloom_server(self):
        self.check_linux_client(reverse=False)

    def test_2_linux_client_reverse(self):
        self.check_linux_client(reverse=True)

    # --- 2. netloom's client against Linux's iperf3 server -------------------------------

    def run_against_linux_server(self, name, keys):
        log = open(os.path.join(self.tmp, name + ".iperf3.json"), "w+")
        self.addCleanup(log.close)
        server = self.ns.spawn("iperf3", "-s", "-1", "-J", "-B", LINUX, stdout=log,
                               stderr=subprocess.STDOUT)
        wait_for(lambda: ":5201" in self.ns.run("ss", "-ltnH").stdout or server.poll() is not None,
                 10, "iperf3 -s to listen")
        report = os.path.join(self.tmp, name + ".report.json")
        netloom = self.start(name, {"use": "iperf3", "role": "client", "target": LINUX,
                                    "port": 5201, "report": report, **keys})
        code, _ = netloom.wait(timeout=LIMIT + 30)
        self.assertEqual(code, 0, netloom.output()[-6000:])
        server.wait(timeout=20)
        log.seek(0)
        linux = json.load(log)
        r = read_report(self, report, netloom)
        self.assertIs(r["ok"], True, r)
        return r, linux["end"]

    def test_3_netloom_client_time(self):
        r, end = self.run_against_linux_server("client_t", {"time": "1s", "parallel": 2})
        received = end["sum_received"]["bytes"]
        self.assertGreater(received, 0, end)
        self.assertEqual(r["bytes_received"], received, "iperf3's count in netloom's report")
        self.assertGreaterEqual(r["bytes_sent"], received)
        self.assertEqual([s["peer_bytes"] for s in r["streams"]],
                         [s["receiver"]["bytes"] for s in end["streams"]],
                         "per-stream bytes iperf3's server received, in netloom's report")
        for mine in r["streams"]:
            self.assertGreaterEqual(mine["bytes"], mine["peer_bytes"], r)
        self.assertGreater(r["metrics"]["throughput_gbit_s"], 0)
        FIGURES.append(("netloom client -P 2 -> iperf3 -s", r["metrics"]["throughput_gbit_s"]))

    def test_3_netloom_client_bytes(self):
        size = 64 << 20
        r, end = self.run_against_linux_server("client_n", {"bytes": size, "parallel": 2})
        received = end["sum_received"]["bytes"]
        self.assertEqual(r["bytes_sent"], size, r)
        self.assertEqual(r["bytes_received"], received, "iperf3's count in netloom's report")
        # netloom sends TEST_END once Linux acknowledged every byte, but iperf3's server reads
        # its control socket before its data sockets: now and then the last segment, already
        # acknowledged, is still unread when TEST_END closes the stream (iperf3's own client
        # loses more). So: all of it, or all but a sliver.
        self.assertLessEqual(received, size, end)
        self.assertGreater(received, size * 0.99, end)

    def test_3_netloom_client_bytes_reverse(self):
        size = 32 << 20
        r, end = self.run_against_linux_server("client_nR", {"bytes": size, "reverse": True})
        self.assertEqual(end["sum_sent"]["bytes"], size, end)
        self.assertEqual(r["bytes_received"], size, r)

    # --- 3. bad peers ----------------------------------------------------------------------

    def test_4_wrong_cookie_and_garbage(self):
        netloom = self.server("hostile")
        running = subprocess.Popen(["ip", "netns", "exec", self.ns.name, "iperf3", "-c", NETLOOM,
                                    "-t", "3", "-J"], stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True)
        self.ns.processes.append(running)
        wait_for(lambda: counter(netloom.stats(), APP, "streams_current") == 1, 10,
                 "the iperf3 test to run")
        with self.linux_socket() as sock:
            sock.connect((NETLOOM, 5201))
            sock.sendall(b"x" * 36 + b"\0")  # a cookie, not the running test's
            self.assertEqual(sock.recv(16), b"\xff", "ACCESS_DENIED")
        out, err = running.communicate(timeout=20)
        self.assertEqual(running.returncode, 0, out[-3000:] + err)
        self.assertEqual(counter(netloom.stats(), APP, "denied"), 1)
        wait_for(lambda: counter(netloom.stats(), APP, "tests") == 1, 10, "the first test")

        # Garbage where a cookie belongs, then a cookie followed by a 4 GiB JSON length.
        with self.linux_socket() as sock:
            sock.connect((NETLOOM, 5201))
            sock.sendall(b"GET / HTTP/1.0\r\nHost: x\r\n\r\n" + b"y" * 20)
            try:
                self.assertEqual(sock.recv(16), b"", "the server closes on garbage")
            except ConnectionResetError:
                pass
        with self.linux_socket() as sock:
            sock.connect((NETLOOM, 5201))
            sock.sendall(b"abcdefghijklmnopqrstuvwxyz2345672345\0")
            self.assertEqual(sock.recv(1), b"\x09", "PARAM_EXCHANGE")
            sock.sendall(b"\xff\xff\xff\xff{")
            try:
                self.assertEqual(sock.recv(16), b"", "the server closes on a too-large length")
            except ConnectionResetError:
                pass
        wait_for(lambda: counter(netloom.stats(), APP, "bad_control") == 2, 10,
                 "both bad control connections to be counted")
        self.iperf3_client("-n", "16M")
        stats = wait_for(lambda: (lambda s: s if counter(s, APP, "tests") == 2 else None)(
            netloom.stats()), 10, "the server to finish the second test")
        self.assertEqual(counter(stats, APP, "tests"), 2)
        self.assertEqual(counter(stats, APP, "tests_failed"), 1)  # the too-large length
        code, _ = netloom.stop()
        self.assertEqual(code, 0, netloom.output()[-4000:])


def print_figures():
    if FIGURES:
        print(f"\niperf3 over TAP ({ARGS.engine}, {ARGS.scheduler}):", file=sys.stderr)
        for what, gbit in FIGURES:
            print(f"  {what:45s} {gbit:7.2f} Gbit/s", file=sys.stderr)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--netloom", required=True)
    parser.add_argument("--engine", default="tcp_utcp")
    parser.add_argument("--scheduler", default="epoll")
    ARGS, rest = parser.parse_known_args()
    status = run_tests(rest)
    print_figures()
    sys.exit(status)
