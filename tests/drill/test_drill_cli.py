#!/usr/bin/env python3
"""`netloom drill` as a user meets it: exit statuses, messages, --json, -j, and hostile scripts
(garbage, huge times, wrapping ranges, a million lines, shell commands and Python that must never
run). Engine target only: no root needed."""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "support"))
from skips import run_tests  # noqa: E402

ARGS = None

PASSIVE_OPEN = """\
--tolerance_usecs=10000
// Passive open with options, one data segment each way, and an orderly close.
0     socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0    setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0
+0    bind(3, ..., ...) = 0
+0    listen(3, 1) = 0
+0    < S 0:0(0) win 65535 <mss 1000,nop,nop,sackOK>
+0    > S. 0:0(0) ack 1 <...>
+.1   < . 1:1(0) ack 1 win 65535
+0    accept(3, ..., ...) = 4
+0    < P. 1:101(100) ack 1 win 65535
+0    recv(4, ..., 1000, 0) = 100
+0    write(4, ..., 50) = 50
+0    > P. 1:51(50) ack 101 <...>
+.1   < . 101:101(0) ack 51 win 65535
+0    close(4) = 0
+0    > F. 51:51(0) ack 101 <...>
+.1   < F. 101:101(0) ack 52 win 65535
+0    > . 52:52(0) ack 102 <...>
"""


def drill(*args, timeout=120):
    return subprocess.run([ARGS.netloom, "drill"] + list(args), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, timeout=timeout)


class DrillCli(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = self.tmp.name

    def tearDown(self):
        self.tmp.cleanup()

    def write(self, name, text, mode="w"):
        path = os.path.join(self.dir, name)
        with open(path, mode) as f:
            f.write(text)
        return path

    def test_a_good_script_passes_on_both_engines(self):
        path = self.write("open.pkt", PASSIVE_OPEN)
        for engine in ("tcp_utcp", "tcp_classic"):
            p = drill("--engine", engine, path)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            self.assertIn("open.pkt: ok", p.stdout)
            self.assertIn("1 passed, 0 failed", p.stdout)

    def test_a_mismatch_names_the_line_field_and_both_packets(self):
        wrong = PASSIVE_OPEN.replace("> P. 1:51(50) ack 101", "> P. 1:51(50) ack 99")
        path = self.write("wrong.pkt", wrong)
        p = drill(path)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        line = wrong.splitlines().index(next(l for l in wrong.splitlines() if "ack 99" in l)) + 1
        self.assertIn(f"wrong.pkt:{line}: error handling packet: live packet field tcp_ack_seq: "
                      "expected: 99 (0x63) vs actual: 101 (0x65)", p.stdout)
        self.assertIn("script packet:", p.stdout)
        self.assertIn("actual packet:", p.stdout)

    def test_syntax_errors_exit_2_with_file_line_column(self):
        path = self.write("bad.pkt", "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 bind(3, ...\n")
        p = drill(path)
        self.assertEqual(p.returncode, 2, p.stdout + p.stderr)
        self.assertRegex(p.stderr, r"bad\.pkt:\d+:\d+: ")

    def test_garbage_and_truncated_files_are_unusable_input_not_crashes(self):
        for i, blob in enumerate([os.urandom(4096), b"\x00" * 100, b"0 socket(", b"+0 > S. 0:0(",
                                  b"`unterminated", b"%{ never closed", b"/* open comment"]):
            path = self.write(f"g{i}.pkt", blob, "wb")
            p = drill(path)
            self.assertEqual(p.returncode, 2, (blob[:40], p.stdout, p.stderr))

    def test_shell_commands_and_python_never_run(self):
        marker = os.path.join(self.dir, "pwned")
        scripts = [
            f"0 `touch {marker}`\n+0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n",
            f"`touch {marker}`\n0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n",
            f"0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n"
            f"+0 %{{ import os; os.system('touch {marker}') }}%\n",
            f"0 `sysctl -w net.ipv4.tcp_sack=0; touch {marker}`\n",
        ]
        for i, text in enumerate(scripts):
            path = self.write(f"cmd{i}.pkt", text)
            p = drill(path)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)  # unsupported is not a failure
            self.assertIn("unsupported", p.stdout)
            self.assertFalse(os.path.exists(marker), text)
            p = drill("--strict", path)
            self.assertEqual(p.returncode, 1, p.stdout + p.stderr)

    def test_unknown_system_call_is_unsupported_and_named(self):
        path = self.write("u.pkt", "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n"
                                   "+0 frobnicate(3, 42) = 0\n")
        p = drill(path)
        self.assertIn("unsupported: system call frobnicate", p.stdout)

    def test_huge_times_are_refused_and_wrapping_ranges_parse(self):
        path = self.write("t.pkt", "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n"
                                   "+99999999999999 close(3) = 0\n")
        p = drill(path)
        self.assertEqual(p.returncode, 2, p.stdout + p.stderr)
        wrap = PASSIVE_OPEN.replace("< P. 1:101(100) ack 1 win 65535",
                                    "< P. 4294967290:6(12) ack 1 win 65535")
        path = self.write("wrap.pkt", wrap)
        p = drill(path)
        self.assertNotEqual(p.returncode, 2, p.stdout + p.stderr)  # parses; the stack decides

    def test_a_million_lines_end_in_bounded_time_with_a_verdict(self):
        path = os.path.join(self.dir, "big.pkt")
        with open(path, "w") as f:
            f.write("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n")
            for _ in range(1_000_000):
                f.write("+0 fcntl(3, F_GETFL) = 0x2 (flags O_RDWR)\n")
        p = drill(path, timeout=600)
        # Over the parser's event cap: unusable input with a clear reason, not unbounded memory.
        self.assertEqual(p.returncode, 2, p.stdout[-2000:] + p.stderr[-2000:])
        self.assertRegex(p.stderr, r"big\.pkt:\d+:\d+: .*too many events")

    def test_json_and_parallel_runs_agree(self):
        paths = [self.write(f"s{i}.pkt", PASSIVE_OPEN) for i in range(6)]
        paths.append(self.write("w.pkt", PASSIVE_OPEN.replace("ack 101 <...>", "ack 7 <...>", 1)))
        out1, out4 = os.path.join(self.dir, "1.json"), os.path.join(self.dir, "4.json")
        p1 = drill("--json", out1, *paths)
        p4 = drill("-j", "4", "--json", out4, *paths)
        self.assertEqual(p1.returncode, 1)
        self.assertEqual(p4.returncode, 1)
        with open(out1) as f1, open(out4) as f4:
            d1, d4 = json.load(f1), json.load(f4)
        self.assertEqual([s["outcome"] for s in d1["scripts"]], [s["outcome"] for s in d4["scripts"]])
        self.assertEqual(d1["summary"]["passed"], 6)
        self.assertEqual(d1["summary"]["failed"], 1)
        self.assertEqual(d4["scripts"][-1]["path"], paths[-1])

    def test_virtual_time_makes_a_two_minute_script_quick(self):
        text = PASSIVE_OPEN.replace("+.1   < . 101:101(0) ack 51 win 65535",
                                    "+120  < . 101:101(0) ack 51 win 65535")
        # Without an ACK for 120 s the stack retransmits: expect it, then go on.
        path = self.write("long.pkt", text.replace("> P. 1:51(50) ack 101 <...>\n",
                                                   "> P. 1:51(50) ack 101 <...>\n"
                                                   "*     > P. 1:51(50) ack 101 <...>\n"))
        out = os.path.join(self.dir, "long.json")
        p = drill("--json", out, "--timeout", "60", path)
        with open(out) as f:
            doc = json.load(f)
        self.assertGreaterEqual(doc["scripts"][0]["script_seconds"], 0.2, p.stdout)
        self.assertLess(doc["scripts"][0]["wall_seconds"], 60)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--netloom", required=True)
    ARGS, rest = parser.parse_known_args()
    sys.exit(run_tests(rest))
