#!/usr/bin/env python3
"""netloom's TCP engine against Linux through loss and reordering (as root, in a throw-away
namespace).

netloom runs on a TAP link (kernel side 10.72.0.1/24, netloom 10.72.0.2/24) wrapped in the
`impair` driver, which drops 1 %, 5 % or 10 % of the frames in each direction and reorders 2 %
(seeded, so a failure can be replayed with the same seed). For each loss rate, 10 MiB go each
way: a tcp_bulk client sends to a Python server on Linux, and a Python client sends to a tcp_bulk
server. The bytes must arrive intact (sha256 on both ends) and each run must end by itself within
its bound (run.duration, a hang guard; the sockets' timeouts on the Linux side). The time taken
and the retransmissions (netloom's report and Linux's tcpi_total_retrans) are printed."""
import argparse
import hashlib
import os
import socket
import sys
import tempfile
import time
import unittest

from netns import (Background, Namespace, Netloom, linux_total_retrans, read_report, receive_all,
                   require_plugins, require_root, run_tests, tcp_config)

ARGS = None
TAP = "nlimp0"
LINUX = "10.72.0.1"
NETLOOM = "10.72.0.2"
NETLOOM_MAC = "02:00:00:00:72:02"
LIMIT = 120  # seconds per run
SIZE = 10 << 20
LOSSES = [0.01, 0.05, 0.10]
REORDER = 0.02
RESULTS = []


class TcpThroughImpairment(unittest.TestCase):
    def setUp(self):
        require_root(self)
        require_plugins(self, ARGS.netloom, ARGS.engine, "tcp_bulk", "ipv4", "tap", "impair")

    def start(self, ns, tmp, name, loss, apps):
        config = os.path.join(tmp, name + ".yaml")
        impair = {"seed": ARGS.seed, "loss": loss, "reorder": REORDER, "direction": "both"}
        with open(config, "w") as f:
            f.write(tcp_config(engine=ARGS.engine, tap=TAP, mac=NETLOOM_MAC,
                               address=NETLOOM + "/24", apps=apps, limit=LIMIT, impair=impair))
        netloom = Netloom(ns, ARGS.netloom, config, tmp, name)
        netloom.wait_running()
        # A client may already be done (exit 0); only a failed start is an error here.
        if not netloom.alive() and netloom.process.returncode != 0:
            self.fail(f"netloom ({name}) exited early:\n" + netloom.output())
        return netloom

    def finish(self, netloom):
        code, stats = netloom.wait(timeout=LIMIT + 30)
        self.assertEqual(code, 0, netloom.output()[-10000:])
        lost = sum(v for c in stats.values() for k, v in c.items()
                   if k in ("impair_tx_lost", "impair_rx_lost"))
        reordered = sum(v for c in stats.values() for k, v in c.items()
                        if k in ("impair_tx_reordered", "impair_rx_reordered"))
        self.assertGreater(lost, 0, "the impair driver dropped nothing")
        return stats, lost, reordered

    def netloom_sends(self, ns, tmp, loss):
        name = f"send{int(loss * 100)}"
        with ns.entered():
            server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        with server:
            server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            server.bind((LINUX, 5020))
            server.listen(1)
            server.settimeout(LIMIT)

            def serve():
                conn, _ = server.accept()
                with conn:
                    conn.settimeout(LIMIT)
                    return receive_all(conn)[:2]

            linux = Background(serve)
            report = os.path.join(tmp, name + ".json")
            begin = time.monotonic()
            netloom = self.start(ns, tmp, name, loss, [
                {"use": "tcp_bulk", "role": "client", "direction": "send", "target": LINUX,
                 "port": 5020, "bytes": SIZE, "seed": 31, "report": report}])
            try:
                _, lost, reordered = self.finish(netloom)
                seconds = time.monotonic() - begin
                count, sha = linux.result(LIMIT)
            except BaseException:
                if netloom.alive():
                    netloom.stop()
                print(netloom.output()[-10000:], file=sys.stderr)
                raise
        r = read_report(self, report)
        self.assertEqual(count, SIZE)
        self.assertEqual(r["sha256"], sha)
        self.assertEqual(r["bytes"], SIZE)
        self.assertGreater(r["retransmits"], 0, f"{lost} frames lost, no retransmission: {r}")
        RESULTS.append((f"netloom -> Linux, {loss:.0%} loss", seconds, lost, reordered,
                        f"netloom retransmits {r['retransmits']} (RTO {r['rto_count']}, "
                        f"fast {r['fast_retransmits']}, SACK recoveries {r['sack_recoveries']})"))

    def linux_sends(self, ns, tmp, loss):
        name = f"recv{int(loss * 100)}"
        data = os.urandom(SIZE)
        report = os.path.join(tmp, name + ".json")
        netloom = self.start(ns, tmp, name, loss, [
            {"use": "tcp_bulk", "role": "server", "direction": "receive", "port": 5021,
             "connections": 1, "report": report}])
        try:
            with ns.entered():
                client = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            with client:
                client.settimeout(LIMIT)
                begin = time.monotonic()
                client.connect((NETLOOM, 5021))
                client.sendall(data)
                client.shutdown(socket.SHUT_WR)
                _, lost, reordered = self.finish(netloom)
                seconds = time.monotonic() - begin
                retransmits = linux_total_retrans(client)
        except BaseException:
            if netloom.alive():
                netloom.stop()
            print(netloom.output()[-10000:], file=sys.stderr)
            raise
        r = read_report(self, report)
        self.assertEqual(r["bytes"], SIZE)
        self.assertEqual(r["sha256"], hashlib.sha256(data).hexdigest())
        RESULTS.append((f"Linux -> netloom, {loss:.0%} loss", seconds, lost, reordered,
                        f"Linux retransmits {retransmits}"))

    def test_loss_and_reordering(self):
        with Namespace("nlti") as ns, tempfile.TemporaryDirectory() as tmp:
            os.chmod(tmp, 0o755)
            ns.add_tap(TAP, LINUX + "/24")
            for loss in LOSSES:
                with self.subTest(f"netloom sends, {loss:.0%} loss"):
                    self.netloom_sends(ns, tmp, loss)
                with self.subTest(f"Linux sends, {loss:.0%} loss"):
                    self.linux_sends(ns, tmp, loss)


def tearDownModule():
    if RESULTS:
        print(f"\n10 MiB through impair ({ARGS.engine}, seed {ARGS.seed}, {REORDER:.0%} reorder):",
              file=sys.stderr)
        for what, seconds, lost, reordered, retransmits in RESULTS:
            print(f"  {what:26s} {seconds:6.2f} s, {lost} frames lost, {reordered} reordered; "
                  f"{retransmits}", file=sys.stderr)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--netloom", required=True)
    parser.add_argument("--engine", default="tcp_utcp")
    parser.add_argument("--seed", type=int, default=7)
    ARGS, rest = parser.parse_known_args()
    sys.exit(run_tests(rest))
