#!/usr/bin/env python3
"""HTTP/1.0 keep-alive of netloom's `http` app against Apache's `ab` (as root, in a throw-away
namespace), once per TCP engine (--engine).

`ab -k` speaks HTTP/1.0 with `Connection: Keep-Alive` (RFC 9112 C.2.2): the server must echo
keep-alive, frame each response with Content-Length and keep the connection, so `-n N -c C`
costs about C connections, not N. `ab` without -k (plain HTTP/1.0) must still get one
connection per request, each closed by the server. Everything is asserted from counts: ab's
own report (complete, failed, Keep-Alive requests, non-2xx) and netloom's counters read before
and after each run (the http app's `connections` and `requests`, the engine's
`connections_opened`). The requests/s ab reports are printed at the end, never asserted."""
import argparse
import os
import re
import sys

from netns import (OneServerOnTap, counter, require_plugins, require_root, run_tests, tcp_config,
                   wait_for)

ARGS = None
TAP = "nlhka0"
LINUX = "10.74.0.1"
NETLOOM = "10.74.0.2"
NETLOOM_MAC = "02:00:00:00:74:02"
LIMIT = 600  # run.duration: a hang guard; the test stops the server with SIGINT
APP = "main/app0/http"
SLACK = 2  # connections beyond -c that ab may open (none expected)
FIGURES = {}


def ab_report(text: str) -> dict:
    """The `Name: value` lines of ab's report that these tests read, as numbers."""
    wanted = {"Complete requests": int, "Failed requests": int, "Keep-Alive requests": int,
              "Non-2xx responses": int, "Requests per second": float, "Document Length": int}
    found = {}
    for line in text.splitlines():
        name, colon, value = line.partition(":")
        if colon and name.strip() in wanted:
            number = re.match(r"\s*([0-9.]+)", value)
            if number:
                found[name.strip()] = wanted[name.strip()](number.group(1))
    return found


class HttpKeepAliveAgainstAb(OneServerOnTap):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.root = os.path.join(cls.tmp, "www")
        os.mkdir(cls.root)
        cls.body = b"netloom keep-alive test\n" * 20  # 480 bytes: one segment per response
        with open(os.path.join(cls.root, "small.txt"), "wb") as f:
            f.write(cls.body)

    def setUp(self):
        require_root(self, "ab")
        require_plugins(self, ARGS.netloom, ARGS.engine, "http", "ipv4", "tap")
        self.start_server(netloom=ARGS.netloom, prefix="nlka", tap=TAP, linux_cidr=LINUX + "/24",
                          name="http", config=lambda: tcp_config(
                              engine=ARGS.engine, tap=TAP, mac=NETLOOM_MAC,
                              address=NETLOOM + "/24", limit=LIMIT,
                              apps=[{"use": "http", "port": 80, "root": self.root,
                                     "max_connections": 64, "idle_timeout": "10s"}]))

    def counts(self) -> dict:
        stats = self.netloom.stats()
        return {"connections": counter(stats, APP, "connections"),
                "requests": counter(stats, APP, "requests"),
                "opened": counter(stats, "main/tcp", "connections_opened")}

    def ab(self, *options) -> tuple:
        """Runs ab with `options` against the small file; returns (its report, the change in
        netloom's counts over the run)."""
        before = self.counts()
        p = self.ns.run("ab", *options, "-n", str(ARGS.requests), "-c", str(ARGS.concurrency),
                        f"http://{NETLOOM}/small.txt", check=False, timeout=300)
        after = self.counts()
        context = f"ab {' '.join(options)}:\n{p.stdout}\n{p.stderr}\n" + \
                  self.netloom.output()[-3000:]
        self.assertEqual(p.returncode, 0, context)
        report = ab_report(p.stdout)
        self.assertEqual(report.get("Complete requests"), ARGS.requests, context)
        self.assertEqual(report.get("Failed requests"), 0, context)
        self.assertNotIn("Non-2xx responses", report, context)
        self.assertEqual(report.get("Document Length"), len(self.body), context)
        delta = {k: after[k] - before[k] for k in after}
        self.assertEqual(delta["requests"], ARGS.requests, f"{delta}\n{context}")
        return report, delta, context

    def test_a_keep_alive_uses_about_one_connection_per_concurrent_client(self):
        report, delta, context = self.ab("-k")
        self.assertEqual(report.get("Keep-Alive requests"), ARGS.requests, context)
        for name in ("connections", "opened"):
            self.assertLessEqual(delta[name], ARGS.concurrency + SLACK, f"{delta}\n{context}")
            self.assertGreaterEqual(delta[name], 1, f"{delta}\n{context}")
        FIGURES["with -k"] = (report["Requests per second"], delta["connections"])

    def test_b_plain_http_1_0_closes_after_each_response(self):
        report, delta, context = self.ab()
        self.assertEqual(report.get("Keep-Alive requests", 0), 0, context)
        for name in ("connections", "opened"):
            self.assertGreaterEqual(delta[name], ARGS.requests, f"{delta}\n{context}")
            self.assertLessEqual(delta[name], ARGS.requests + ARGS.concurrency,
                                 f"{delta}\n{context}")
        FIGURES["without -k"] = (report["Requests per second"], delta["connections"])

    def test_c_every_connection_ends_cleanly(self):
        # ab has exited; its last FINs may still be on their way, so wait for the count.
        wait_for(lambda: counter(self.netloom.stats(), APP, "connections_current") == 0, 30,
                 "the http app's connections to end")
        code, stats = self.netloom.stop()
        self.assertEqual(code, 0, self.netloom.output()[-3000:])
        for name in ("errors", "timeouts", "responses_4xx", "connections_refused"):
            self.assertEqual(counter(stats, APP, name), 0, name)


def tearDownModule():
    for label, (rate, connections) in FIGURES.items():
        print(f"\nhttp keep-alive ({ARGS.engine}): ab {label} -n {ARGS.requests} "
              f"-c {ARGS.concurrency}: {rate:.0f} requests/s over {connections} connections",
              file=sys.stderr)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--netloom", required=True)
    parser.add_argument("--engine", default="tcp_utcp")
    parser.add_argument("--requests", type=int, default=2000, help="ab -n")
    parser.add_argument("--concurrency", type=int, default=8, help="ab -c")
    ARGS, rest = parser.parse_known_args()
    sys.exit(run_tests(rest))
