#!/usr/bin/env python3
"""netloom's TCP engine against the Linux kernel's TCP (as root, in a throw-away namespace).

netloom runs on a TAP link (kernel side 10.70.0.1/24, netloom 10.70.0.2/24) with the engine
given by --engine. Each scenario is one netloom run whose apps are finite, so the run ends by
itself (run.duration is only a hang guard), and bytes are checked end to end: the sha256 that
netloom's tcp_bulk report gives against hashlib's on the Linux side.

- Linux -> netloom: a Python client, then `nc`, send 100 MiB of random bytes to a tcp_bulk
  receiver; netloom -> Linux: a tcp_bulk client sends 100 MiB to a Python server.
- The reverse roles: a tcp_bulk server sends to a Python client, a tcp_bulk client receives
  from a Python server.
- Half-close: a Python client sends to an echo server, shuts down its write side, and still
  gets the whole echo, then EOF; an echo client against a Python echo server that echoes until
  EOF and then closes. The capture of that run must be clean for tshark.
- RST: a Python sender closing with SO_LINGER 0 mid-transfer makes the tcp_bulk receiver report
  `reset`; a tcp_bulk sender with abort_after makes Python's recv raise ConnectionResetError.
- A connect to a closed netloom port is refused (RST), and counted.

Throughput figures (MiB/s, seen from Linux and from netloom's report) are printed at the end."""
import argparse
import hashlib
import os
import socket
import sys
import tempfile
import time
import unittest

from netns import (Background, Namespace, Netloom, counter, read_report, receive_all,
                   require_plugins, require_root, run_tests, tcp_config, tshark_check)

ARGS = None
TAP = "nltcp0"
LINUX = "10.70.0.1"
NETLOOM = "10.70.0.2"
NETLOOM_MAC = "02:00:00:00:70:02"
LIMIT = 120  # seconds: run.duration of every run, a hang guard
MiB = 1 << 20
ECHO_BYTES = 4 * MiB
FIGURES = []  # (what, MiB/s seen by Linux, report's gbit/s)


def mib_per_s(size, seconds):
    return size / MiB / seconds if seconds > 0 else float("inf")


class TcpAgainstLinux(unittest.TestCase):
    data = b""
    data_sha = ""

    @classmethod
    def setUpClass(cls):
        cls.data = os.urandom(ARGS.bytes)
        cls.data_sha = hashlib.sha256(cls.data).hexdigest()

    def setUp(self):
        require_root(self, "tshark", "nc")
        require_plugins(self, ARGS.netloom, ARGS.engine, "tcp_bulk", "echo", "ipv4", "tap",
                        "pcap")
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        self.tmp = tmp.name
        os.chmod(self.tmp, 0o755)
        self.ns = Namespace("nltl")
        self.ns.__enter__()
        self.addCleanup(self.ns.__exit__, None, None, None)
        self.runs = []
        self.addCleanup(self.show_logs_on_failure)
        self.ns.add_tap(TAP, LINUX + "/24")

    def show_logs_on_failure(self):
        """After a failed test, the tail of every netloom run's log goes to stderr."""
        outcome = getattr(self, "_outcome", None)
        result = getattr(outcome, "result", None)
        failed = result is not None and any(
            test is self for test, _ in result.failures + result.errors)
        if failed or (outcome is not None and not getattr(outcome, "success", True)):
            for name, netloom in self.runs:
                print(f"--- netloom run {name}, last lines ---\n" + netloom.output()[-6000:],
                      file=sys.stderr)

    # --- helpers -------------------------------------------------------------------------

    def start(self, name, apps, pcap=None):
        path = os.path.join(self.tmp, name + ".yaml")
        with open(path, "w") as f:
            f.write(tcp_config(engine=ARGS.engine, tap=TAP, mac=NETLOOM_MAC,
                               address=NETLOOM + "/24", apps=apps, limit=LIMIT, pcap=pcap))
        netloom = Netloom(self.ns, ARGS.netloom, path, self.tmp, name)
        self.runs.append((name, netloom))
        netloom.wait_running()
        # A client may already be done (exit 0); only a failed start is an error here.
        if not netloom.alive() and netloom.process.returncode != 0:
            self.fail(f"netloom ({name}) exited early:\n" + netloom.output())
        return netloom

    def finish(self, netloom, expect_code=0):
        """Waits for a run with finite apps to end by itself; checks the exit status."""
        code, stats = netloom.wait(timeout=LIMIT + 30)
        self.assertEqual(code, expect_code, netloom.output()[-10000:])
        return stats

    def report_path(self, name):
        return os.path.join(self.tmp, name + ".report.json")

    def linux_socket(self):
        with self.ns.entered():
            return socket.socket(socket.AF_INET, socket.SOCK_STREAM)

    def linux_server(self, port):
        """A listening socket on the Linux side (listening before netloom starts)."""
        with self.ns.entered():
            server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind((LINUX, port))
        server.listen(4)
        server.settimeout(LIMIT)
        return server

    def check_clean_counters(self, stats):
        tcp = stats.get("main/tcp", {})
        for name in ("rx_bad_checksum", "rx_malformed", "rx_bad_options"):
            if name in tcp:
                self.assertEqual(tcp[name], 0, f"{name}: {tcp}")

    def check_report(self, report, role, direction, size, sha):
        self.assertEqual(report.get("role"), role, report)
        self.assertEqual(report.get("direction"), direction, report)
        self.assertEqual(report.get("bytes"), size, report)
        self.assertEqual(report.get("sha256"), sha, report)
        self.assertIsNone(report.get("error"), report)
        self.assertIs(report.get("ok"), True, report)

    # --- (a) Linux sends to netloom ------------------------------------------------------

    def test_a_python_client_sends_to_netloom(self):
        report = self.report_path("recv")
        netloom = self.start("recv", [{"use": "tcp_bulk", "role": "server", "direction": "receive",
                                       "port": 5001, "connections": 1, "report": report}])
        sock = self.linux_socket()
        with sock:
            sock.settimeout(LIMIT)
            sock.connect((NETLOOM, 5001))
            begin = time.monotonic()
            sock.sendall(self.data)
            sock.shutdown(socket.SHUT_WR)
            seconds = time.monotonic() - begin
        stats = self.finish(netloom)
        r = read_report(self, report, netloom)
        self.check_report(r, "server", "receive", len(self.data), self.data_sha)
        self.check_clean_counters(stats)
        FIGURES.append(("Linux (Python) -> netloom", mib_per_s(len(self.data), seconds), r))

    def test_a_nc_sends_to_netloom(self):
        source = os.path.join(self.tmp, "random.bin")
        with open(source, "wb") as f:
            f.write(self.data)
        report = self.report_path("recv_nc")
        netloom = self.start("recv_nc", [{"use": "tcp_bulk", "role": "server",
                                          "direction": "receive", "port": 5001, "connections": 1,
                                          "report": report}])
        begin = time.monotonic()
        with open(source, "rb") as stdin:
            # -N: shutdown(SHUT_WR) at the end of stdin (the FIN netloom's receiver waits for).
            p = self.ns.run("nc", "-N", "-w", "30", NETLOOM, "5001", stdin=stdin, check=False,
                            timeout=LIMIT)
        seconds = time.monotonic() - begin
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        stats = self.finish(netloom)
        r = read_report(self, report, netloom)
        self.check_report(r, "server", "receive", len(self.data), self.data_sha)
        self.check_clean_counters(stats)
        FIGURES.append(("Linux (nc) -> netloom", mib_per_s(len(self.data), seconds), r))

    # --- (b) netloom sends to Linux ------------------------------------------------------

    def test_b_netloom_client_sends_to_linux(self):
        server = self.linux_server(5002)

        def serve():
            conn, _ = server.accept()
            with conn:
                conn.settimeout(LIMIT)
                begin = time.monotonic()
                count, sha, _ = receive_all(conn)
                return count, sha, time.monotonic() - begin

        with server:
            linux = Background(serve)
            report = self.report_path("send")
            netloom = self.start("send", [{"use": "tcp_bulk", "role": "client", "direction": "send",
                                           "target": LINUX, "port": 5002, "bytes": len(self.data),
                                           "seed": 11, "report": report}])
            stats = self.finish(netloom)
            count, sha, seconds = linux.result(30)
        r = read_report(self, report, netloom)
        self.assertEqual(count, len(self.data), "bytes Linux received")
        self.check_report(r, "client", "send", len(self.data), sha)
        self.check_clean_counters(stats)
        FIGURES.append(("netloom client -> Linux", mib_per_s(count, seconds), r))

    # --- (c) the reverse roles -----------------------------------------------------------

    def test_c_netloom_server_sends_to_linux(self):
        report = self.report_path("serve_send")
        netloom = self.start("serve_send", [{"use": "tcp_bulk", "role": "server",
                                             "direction": "send", "port": 5003,
                                             "bytes": len(self.data), "seed": 12,
                                             "connections": 1, "report": report}])
        sock = self.linux_socket()
        with sock:
            sock.settimeout(LIMIT)
            sock.connect((NETLOOM, 5003))
            begin = time.monotonic()
            count, sha, _ = receive_all(sock)
            seconds = time.monotonic() - begin
        stats = self.finish(netloom)
        r = read_report(self, report, netloom)
        self.assertEqual(count, len(self.data), "bytes Linux received")
        self.check_report(r, "server", "send", len(self.data), sha)
        self.check_clean_counters(stats)
        FIGURES.append(("netloom server -> Linux", mib_per_s(count, seconds), r))

    def test_c_netloom_client_receives_from_linux(self):
        server = self.linux_server(5004)

        def serve():
            conn, _ = server.accept()
            with conn:
                conn.settimeout(LIMIT)
                begin = time.monotonic()
                conn.sendall(self.data)
                conn.shutdown(socket.SHUT_WR)
                return time.monotonic() - begin

        with server:
            linux = Background(serve)
            report = self.report_path("client_recv")
            netloom = self.start("client_recv", [{"use": "tcp_bulk", "role": "client",
                                                  "direction": "receive", "target": LINUX,
                                                  "port": 5004, "report": report}])
            stats = self.finish(netloom)
            seconds = linux.result(30)
        r = read_report(self, report, netloom)
        self.check_report(r, "client", "receive", len(self.data), self.data_sha)
        self.check_clean_counters(stats)
        FIGURES.append(("Linux server -> netloom client", mib_per_s(len(self.data), seconds), r))

    # --- (d) half-close and (f) a closed port --------------------------------------------

    def test_d_half_close_and_closed_port(self):
        pcap = os.path.join(self.tmp, "echo.pcap")
        netloom = self.start("echo", [{"use": "echo", "role": "server", "port": 7}],
                             pcap=pcap)
        payload = self.data[:ECHO_BYTES]
        try:
            with self.subTest("Linux half-closes; the echo still arrives in full, then EOF"):
                sock = self.linux_socket()
                with sock:
                    sock.settimeout(60)
                    sock.connect((NETLOOM, 7))

                    def send_then_shut():
                        sock.sendall(payload)
                        sock.shutdown(socket.SHUT_WR)

                    sender = Background(send_then_shut)
                    count, sha, _ = receive_all(sock)  # returns at EOF only
                    sender.result(30)
                self.assertEqual(count, len(payload))
                self.assertEqual(sha, hashlib.sha256(payload).hexdigest())

            with self.subTest("a closed port refuses the connection"):
                before = counter(netloom.stats(), "main/tcp", "rst_sent")
                sock = self.linux_socket()
                with sock:
                    sock.settimeout(10)
                    with self.assertRaises(ConnectionRefusedError):
                        sock.connect((NETLOOM, 9))
                # One SYN, one RST (Linux does not retry a refused connect).
                self.assertEqual(counter(netloom.stats(), "main/tcp", "rst_sent") - before, 1)
        except BaseException:
            netloom.stop()
            raise
        code, stats = netloom.stop()
        self.assertEqual(code, 0, netloom.output()[-10000:])
        self.check_clean_counters(stats)
        tshark_check(self, pcap)

        with self.subTest("netloom half-closes; Linux echoes until EOF, then closes"):
            server = self.linux_server(5007)

            def echo():
                conn, _ = server.accept()
                with conn:
                    conn.settimeout(60)
                    echoed = hashlib.sha256()
                    total = 0
                    while True:
                        chunk = conn.recv(1 << 16)
                        if not chunk:
                            break  # netloom's FIN: its half-close
                        conn.sendall(chunk)
                        echoed.update(chunk)
                        total += len(chunk)
                    return total, echoed.hexdigest()

            with server:
                linux = Background(echo)
                netloom = self.start("echo_client", [{"use": "echo", "role": "client",
                                                      "target": LINUX, "port": 5007,
                                                      "bytes": ECHO_BYTES, "seed": 5}])
                stats = self.finish(netloom)  # 0: every byte came back, then EOF
                total, _ = linux.result(30)
            self.assertEqual(total, ECHO_BYTES, "bytes the Linux echo server saw before EOF")
            self.check_clean_counters(stats)

    # --- (e) RST both ways ---------------------------------------------------------------

    def test_e_linux_resets_netloom_receiver(self):
        report = self.report_path("reset")
        netloom = self.start("reset", [{"use": "tcp_bulk", "role": "server",
                                        "direction": "receive", "port": 5005, "connections": 1,
                                        "expect": "reset", "report": report}])
        sock = self.linux_socket()
        sock.settimeout(60)
        sock.connect((NETLOOM, 5005))
        sock.sendall(self.data[:8 * MiB])
        # SO_LINGER 0: close() sends RST instead of FIN (RFC 9293 3.10.4 ABORT).
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        sock.close()
        stats = self.finish(netloom)  # 0: `expect: reset` was met
        r = read_report(self, report, netloom)
        self.assertEqual(r.get("tcp_error"), "reset", r)
        self.assertIsNone(r.get("error"), r)  # the reset was what `expect` asked for
        self.assertLessEqual(r.get("bytes", 0), 8 * MiB, r)
        self.check_clean_counters(stats)

    def test_e_netloom_sender_aborts(self):
        server = self.linux_server(5006)

        def serve():
            conn, _ = server.accept()
            with conn:
                conn.settimeout(60)
                received = 0
                try:
                    while True:
                        n = len(conn.recv(1 << 20))
                        if n == 0:
                            return received, "eof"
                        received += n
                except ConnectionResetError:
                    return received, "reset"

        with server:
            linux = Background(serve)
            report = self.report_path("abort")
            netloom = self.start("abort", [{"use": "tcp_bulk", "role": "client",
                                            "direction": "send", "target": LINUX, "port": 5006,
                                            "bytes": 64 * MiB, "seed": 13,
                                            "abort_after": 1 * MiB, "report": report}])
            stats = self.finish(netloom)
            received, ending = linux.result(30)
        self.assertEqual(ending, "reset", f"Linux saw {ending} after {received} bytes")
        self.assertLess(received, 64 * MiB)
        self.assertGreaterEqual(counter(stats, "main/tcp", "rst_sent"), 1)
        self.check_clean_counters(stats)


def tearDownModule():
    if not FIGURES:
        return
    print(f"\nThroughput over TAP ({ARGS.engine}, {ARGS.bytes / MiB:.0f} MiB):", file=sys.stderr)
    for what, linux_rate, report in FIGURES:
        print(f"  {what:32s} {linux_rate:8.1f} MiB/s (Linux side); report: "
              f"{report.get('gbit_per_s', float('nan')):.3f} Gbit/s in {report.get('seconds')} s, "
              f"cpu {report.get('cpu_seconds')} s, retransmits {report.get('retransmits')}",
              file=sys.stderr)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--netloom", required=True)
    parser.add_argument("--engine", default="tcp_utcp")
    parser.add_argument("--bytes", type=int, default=100 * MiB, help="bulk transfer size")
    ARGS, rest = parser.parse_known_args()
    sys.exit(run_tests(rest))
