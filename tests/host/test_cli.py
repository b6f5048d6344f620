#!/usr/bin/env python3
"""The netloom command line: config and plugin errors exit 2 with a location, listings work."""
import argparse
import contextlib
import glob
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from skips import run_tests, skip  # noqa: E402

ARGS = None

VALID = """\
scheduler: {use: epoll}
checksum: {use: ref}
stacks:
  a:
    device: {use: wire, link: lan0}
  b:
    device: {use: wire, link: lan0}
"""


def netloom(*args, config=None, timeout=60):
    """Runs netloom (with `config` written to a temp file substituted for CONFIG); `timeout` is a
    hang guard, not a speed requirement."""
    argv = [ARGS.netloom, *args]
    path = None
    if config is not None:
        fd, path = tempfile.mkstemp(suffix=".yaml")
        # surrogateescape: a test may put bytes that are not UTF-8 in the file ("\udcff").
        with os.fdopen(fd, "w", errors="surrogateescape") as f:
            f.write(config)
        argv.append(path)
    try:
        p = subprocess.run(argv, capture_output=True, text=True, errors="replace", timeout=timeout)
    finally:
        if path:
            os.unlink(path)
    return p, path


class ConfigErrors(unittest.TestCase):
    def assert_error(self, config, *needles, line=None):
        p, path = netloom("check", config=config)
        self.assertEqual(p.returncode, 2, p.stderr)
        if line is not None:
            self.assertIn(f"{path}:{line}:", p.stderr)
        for n in needles:
            self.assertIn(n, p.stderr)
        self.assertEqual(p.stderr.count("\n"), 1, "one clear line, no stack trace: " + p.stderr)
        return p

    def test_valid_config_checks(self):
        p, _ = netloom("check", config=VALID)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("OK (2 stack(s))", p.stdout)

    def test_typo_in_optional_key(self):
        self.assert_error(VALID.replace("link: lan0}\n  b", "link: lan0, mttu: 9000}\n  b"),
                          "unknown key 'mttu'", "did you mean 'mtu'", line=5)

    def test_typo_in_required_key(self):
        self.assert_error(VALID.replace("link: lan0}\n  b", "lnk: lan0}\n  b"),
                          "stacks.a.device.link: required key is missing",
                          "found unknown key 'lnk' (did you mean 'link'?)", line=5)

    def test_typo_in_top_level_key(self):
        self.assert_error(VALID.replace("checksum:", "chcksum:"), "did you mean 'checksum'", line=2)

    def test_wrong_type(self):
        self.assert_error(VALID.replace("link: lan0}\n  b", "link: lan0, mtu: huge}\n  b"),
                          "stacks.a.device.mtu", "expected an integer", '"huge"', line=5)

    def test_missing_plugin(self):
        self.assert_error(VALID.replace("use: epoll", "use: nosuchsched"),
                          "no plugin named 'nosuchsched'", line=1)

    def test_retired_plugin_name_says_what_replaced_it(self):
        # tcp_echo became the echo app (issue 13): an old config fails at the app's `use`.
        config = VALID.replace("link: lan0}\n  b",
                               "link: lan0}\n    apps: [{use: tcp_echo, role: server}]\n  b")
        self.assert_error(config, "stacks.a.apps[0].use", "the app 'tcp_echo' is now 'echo'",
                          "write `use: echo`", line=6)

    def test_not_a_plugin(self):
        so = os.path.join(ARGS.fixtures, "netloom_notaplugin.so")
        self.assert_error(VALID.replace("use: ref", f"use: {so}"), so, "not a netloom plugin", line=2)

    def test_not_a_shared_object(self):
        with tempfile.NamedTemporaryFile(suffix=".so", mode="w", delete=False) as f:
            f.write("this is text, not ELF\n")
        try:
            self.assert_error(VALID.replace("use: ref", f"use: {f.name}"), f.name,
                              "not a loadable shared object", line=2)
        finally:
            os.unlink(f.name)

    def test_abi_mismatch(self):
        so = os.path.join(ARGS.fixtures, "netloom_wrongabi.so")
        p = self.assert_error(VALID.replace("use: ref", f"use: {so}"), so, "plugin ABI version",
                              "rebuild the plugin against this SDK", line=2)
        # The fixture carries this build's kAbiVersion + 1; the host names both.
        m = re.search(r"plugin ABI version (\d+), this netloom expects (\d+)", p.stderr)
        self.assertIsNotNone(m, p.stderr)
        self.assertEqual((int(m.group(1)) - int(m.group(2))) % 2**32, 1, p.stderr)
        version, _ = netloom("--version")
        self.assertIn(f"(plugin ABI {m.group(2)})", version.stdout)

    def test_wrong_kind(self):
        self.assert_error(VALID.replace("use: epoll", "use: ref"),
                          "is a checksum plugin, expected a scheduler plugin", line=1)

    def test_factory_that_throws_reports_config_location(self):
        so = os.path.join(ARGS.fixtures, "netloom_throwing.so")
        self.assert_error(VALID.replace("use: ref", f"use: {so}"),
                          "always refuses its config", line=2)

    def test_app_on_a_stack_without_ip(self):
        self.assert_error(VALID.replace("device: {use: wire, link: lan0}\n  b",
                                        "device: {use: wire, link: lan0}\n    apps: [{use: ping, target: 10.0.0.2}]\n  b"),
                          "has no IP layer (add `ip:` to it)", line=6)

    def test_tcp_on_a_stack_without_ip(self):
        self.assert_error(VALID.replace("device: {use: wire, link: lan0}\n  b",
                                        "device: {use: wire, link: lan0}\n    tcp: {use: tcp_utcp}\n  b"),
                          "a TCP engine needs an IP layer", line=6)

    def test_tcp_engine_bad_value(self):
        self.assert_error(VALID.replace("device: {use: wire, link: lan0}\n  b",
                                        "device: {use: wire, link: lan0}\n    ip: {use: ipv4, address: 10.0.0.1/24}\n"
                                        "    tcp: {use: tcp_utcp, cc: vegas}\n  b"),
                          "stacks.a.tcp.cc", "vegas", line=7)

    def test_duration_out_of_its_bounds(self):
        self.assert_error(VALID.replace("device: {use: wire, link: lan0}\n  b",
                                        "device: {use: wire, link: lan0}\n    ip: {use: ipv4, address: 10.0.0.1/24}\n"
                                        "    tcp: {use: tcp_utcp, rto_min: 0s}\n  b"),
                          'stacks.a.tcp.rto_min: expected a duration from 1ns to 24h, found "0s"',
                          line=7)

    def test_tcp_app_on_a_stack_without_tcp(self):
        self.assert_error(VALID.replace("device: {use: wire, link: lan0}\n  b",
                                        "device: {use: wire, link: lan0}\n    ip: {use: ipv4, address: 10.0.0.1/24}\n"
                                        "    apps: [{use: tcp_bulk, role: server, direction: receive, port: 5001}]\n  b"),
                          "has no TCP engine (add `tcp:` to it)", line=7)

    def test_tap_under_the_sim_scheduler(self):
        if not os.path.exists("/dev/net/tun"):
            skip(self, "device", "the tap plugin is unavailable without /dev/net/tun")
        self.assert_error(VALID.replace("use: epoll", "use: sim")
                          .replace("device: {use: wire, link: lan0}\n  b", "device: {use: tap, name: nl0}\n  b"),
                          "tap needs a scheduler that watches fds", line=5)

    def test_yaml_syntax_error(self):
        self.assert_error("stacks: [a, b\n", "YAML syntax error")

    def test_no_stacks(self):
        self.assert_error("scheduler: {use: epoll}\nstacks: {}\n", "at least one stack")

    def test_missing_file(self):
        p, _ = netloom("check", "/nonexistent.yaml")
        self.assertEqual(p.returncode, 2)
        self.assertIn("/nonexistent.yaml", p.stderr)


class ShippedConfigs(unittest.TestCase):
    def test_every_config_in_configs_checks(self):
        folder = os.path.join(ARGS.source, "configs")
        names = sorted(n for n in os.listdir(folder) if n.endswith(".yaml"))
        self.assertIn("default.yaml", names)
        for name in names:
            with self.subTest(config=name):
                p, _ = netloom("check", os.path.join(folder, name))
                self.assertEqual(p.returncode, 0, p.stderr)

    def test_default_config_runs_to_completion(self):
        # 256 MiB over TCP and the rest: ~5 s in a release build; the -O0 ASan tree (40-80 s for
        # 256 MiB on a loaded 2-core machine) runs it with --bulk-bytes. 600 s only guards a hang.
        path = os.path.join(ARGS.source, "configs", "default.yaml")
        if ARGS.bulk_bytes:  # the sanitizer tree: the same config with a smaller transfer
            with open(path) as f:
                text = f.read()
            self.assertIn("bytes: 256MiB", text)
            smaller = text.replace("bytes: 256MiB", "bytes: " + ARGS.bulk_bytes)
            p, _ = netloom("run", config=smaller, timeout=600)
        else:
            p, _ = netloom("run", path, timeout=600)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("counter", p.stdout)
        self.assertIn("every finite app has finished", p.stderr)

    def test_a_client_cut_short_fails_the_run(self):
        p, _ = netloom("run", "--duration", "50ms", os.path.join(ARGS.source, "configs", "default.yaml"))
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn("had not finished", p.stderr)


SHUTDOWN_CONFIG = """\
log: {level: info}
scheduler: {use: epoll}
checksum: {use: fast}
run: {duration: 120s, shutdown_timeout: SHUTDOWN}
stacks:
  server:
    device: {use: wire, link: lan0, mac: "02:00:00:00:00:02"}
    ip: {use: ipv4, address: 10.0.0.2/24}
    tcp: {use: ENGINE}
    apps: [{use: echo, role: server, port: 7}]
  client:
    device: {use: wire, link: lan0, mac: "02:00:00:00:00:01"}
    ip: {use: ipv4, address: 10.0.0.1/24}
    tcp: {use: ENGINE}
    apps: [{use: echo, role: client, target: 10.0.0.2, port: 7, bytes: 100GiB}]
"""


class GracefulShutdown(unittest.TestCase):
    """SIGTERM during an echo transfer between two stacks in one process (no root needed): both
    ends close, the run exits 1 (its client was cut short) without waiting for the bound, and the
    apps' counters are still in the stats. shutdown_timeout 0 stops at once, as before."""

    def start(self, engine, shutdown):
        tmp = tempfile.mkdtemp(prefix="netloom-shutdown-")
        self.addCleanup(shutil.rmtree, tmp, True)
        config = os.path.join(tmp, "run.yaml")
        with open(config, "w") as f:
            f.write(SHUTDOWN_CONFIG.replace("ENGINE", engine).replace("SHUTDOWN", shutdown))
        self.stats_path = os.path.join(tmp, "stats.json")
        self.log = open(os.path.join(tmp, "log"), "w+")
        self.addCleanup(self.log.close)
        p = subprocess.Popen([ARGS.netloom, "run", config, "--stats-json", self.stats_path,
                              "--no-stats"], stderr=self.log, stdout=subprocess.DEVNULL)
        self.addCleanup(lambda: p.poll() is None and p.kill())
        # Until the connection carries data: ask for the counters (SIGUSR1) once netloom
        # handles the signal, and look at the echo server's bytes.
        deadline = time.monotonic() + 60
        while True:
            self.assertIsNone(p.poll(), "netloom exited early")
            self.assertLess(time.monotonic(), deadline, "no echo traffic within 60 s")
            if self.catches(p.pid, signal.SIGUSR1):
                with contextlib.suppress(FileNotFoundError):
                    os.remove(self.stats_path)
                p.send_signal(signal.SIGUSR1)
                while not os.path.exists(self.stats_path) and p.poll() is None:
                    time.sleep(0.01)
                with contextlib.suppress(FileNotFoundError, json.JSONDecodeError):
                    with open(self.stats_path) as f:
                        if json.load(f).get("server/app0/echo", {}).get("bytes_received", 0):
                            return p
            time.sleep(0.01)

    @staticmethod
    def catches(pid, signum):
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("SigCgt:"):
                    return bool(int(line.split()[1], 16) & (1 << (signum - 1)))
        return False

    def finish(self, p):
        start = time.monotonic()
        p.send_signal(signal.SIGTERM)
        p.wait(timeout=60)
        self.log.seek(0)
        log = self.log.read()
        # Exit 1 is also what a sanitizer reports with (the ASan tree runs this test).
        self.assertNotIn("Sanitizer", log)
        self.assertNotIn("runtime error:", log)
        with open(self.stats_path) as f:
            return p.returncode, time.monotonic() - start, log, json.load(f)

    def test_sigterm_closes_every_connection(self):
        for engine in ("tcp_utcp", "tcp_classic"):
            with self.subTest(engine):
                p = self.start(engine, "20s")
                code, seconds, log, stats = self.finish(p)
                self.assertEqual(code, 1, log)  # the endless client was cut short
                self.assertIn("closing every connection", log)
                self.assertIn("every connection closed", log)
                self.assertNotIn("shutdown_timeout passed", log)
                self.assertLess(seconds, 15, log)
                self.assertEqual(stats["server/app0/echo"]["connections"], 1, stats)
                self.assertGreater(stats["server/app0/echo"]["bytes_received"], 0, stats)
                for stack in ("server", "client"):
                    self.assertEqual(stats[f"{stack}/tcp"].get("connections_current", 0) -
                                     stats[f"{stack}/tcp"].get("time_wait_current", 0), 0, stats)

    def test_shutdown_timeout_0_stops_at_once(self):
        p = self.start("tcp_utcp", "0s")
        code, _, log, stats = self.finish(p)
        self.assertEqual(code, 1, log)
        self.assertIn("signal 15: stopping", log)
        self.assertNotIn("closing every connection", log)
        self.assertEqual(stats["server/app0/echo"]["connections"], 1, stats)


AB_CONFIG = """\
log: {level: warn}
scheduler: {use: epoll}
checksum: {use: fast}
stacks:
  server:
    device: {use: wire, link: lan0, mac: "02:00:00:00:00:02"}
    ip: {use: ipv4, address: 10.0.0.2/24}
    tcp: {use: tcp_utcp}
  client:
    device: {use: wire, link: lan0, mac: "02:00:00:00:00:01"}
    ip: {use: ipv4, address: 10.0.0.1/24}
    tcp: {use: tcp_utcp}
ab:
  runs: 1
  variants:
    utcp: {stacks.*.tcp.use: tcp_utcp}
    classic: {stacks.*.tcp.use: tcp_classic}
  workloads:
    bulk:
      server: [{use: tcp_bulk, role: server, direction: receive, port: 5001, connections: 1}]
      client: [{use: tcp_bulk, role: client, direction: send, target: 10.0.0.2, port: 5001,
                bytes: 4MiB, hash: false}]
    conns:
      server: [{use: tcp_conns, role: server, port: 5002}]
      client: [{use: tcp_conns, role: client, target: 10.0.0.2, port: 5002, count: 100,
                settle: 10ms, hold: 10ms}]
  timeout: 20s
"""


class AbRun:
    """Runs `netloom ab` on a config with its JSON and chart in a temporary directory."""

    def run_ab(self, config, *extra):
        self.tmp = tempfile.mkdtemp(prefix="netloom-ab-test-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.json_path = os.path.join(self.tmp, "r.json")
        self.chart_path = os.path.join(self.tmp, "c.svg")
        return netloom("ab", "--json", self.json_path, "--chart", self.chart_path, *extra,
                       config=config)[0]


class AbHarness(AbRun, unittest.TestCase):
    """`netloom ab`: a tiny A/B (two engines, small bulk and conns, one run) end to end."""

    def test_table_json_and_chart_agree(self):
        p = self.run_ab(AB_CONFIG)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("[4/4]", p.stderr)  # progress: 2 workloads x 2 variants x 1 run
        # One block per workload, a row per variant, ratios on the second row.
        lines = p.stdout.splitlines()
        bulk = lines.index(next(l for l in lines if l.startswith("bulk (median of 1 run")))
        self.assertIn("Gbit/s", lines[bulk + 1])
        self.assertIn("cpu s", lines[bulk + 1])
        self.assertTrue(lines[bulk + 2].startswith("utcp "), lines[bulk + 2])
        self.assertTrue(lines[bulk + 3].startswith("classic "), lines[bulk + 3])
        self.assertRegex(lines[bulk + 3], r"\(\d+\.\d\dx\)")
        self.assertNotRegex(lines[bulk + 2], r"x\)")
        conns_header = next(l for l in lines if l.startswith("variant") and "conn/s" in l)
        self.assertIn("B/idle conn", conns_header)

        with open(self.json_path) as f:
            result = json.load(f)
        self.assertEqual([v["name"] for v in result["variants"]], ["utcp", "classic"])
        self.assertEqual(result["variants"][1]["overrides"], {"stacks.*.tcp.use": "tcp_classic"})
        self.assertEqual(len(result["runs"]), 4)
        self.assertTrue(all(r["ok"] for r in result["runs"]), result["runs"])
        self.assertGreater(result["machine"]["cores"], 0)
        self.assertIn("netloom_version", result)
        for variant in ("utcp", "classic"):
            bulk_metrics = result["results"]["bulk"][variant]
            self.assertGreater(bulk_metrics["throughput_gbit_s"]["median"], 0)
            self.assertGreater(bulk_metrics["cpu_seconds"]["median"], 0)
            self.assertIn("retransmits", bulk_metrics)
            conns = result["results"]["conns"][variant]
            self.assertGreater(conns["bytes_per_idle_connection"]["median"], 0)
            self.assertGreater(conns["connections_per_s"]["median"], 0)
        # The table shows the JSON's medians and ratios.
        utcp = result["results"]["bulk"]["utcp"]["throughput_gbit_s"]["median"]
        classic = result["results"]["bulk"]["classic"]["throughput_gbit_s"]
        self.assertAlmostEqual(classic["ratio"], classic["median"] / utcp, places=6)
        self.assertIn(f"({classic['ratio']:.2f}x)", lines[bulk + 3])
        bulk_runs = [r for r in result["runs"] if r["workload"] == "bulk"]
        self.assertTrue(all(len(r["timeline"]) >= 1 for r in bulk_runs))
        self.assertTrue(all({"t_ms", "cwnd", "srtt_us", "bytes_acked"} <= r["timeline"][0].keys()
                            for r in bulk_runs))

        # The chart parses as XML and has both variants' bars and cwnd/RTT lines.
        root = ET.parse(self.chart_path).getroot()
        self.assertEqual(root.tag, "{http://www.w3.org/2000/svg}svg")
        bars = [e.get("data-variant") for e in root.iter("{http://www.w3.org/2000/svg}rect")
                if e.get("class") == "bar"]
        # Per variant: bulk throughput, conns' connections/s and conns' bytes per idle conn.
        self.assertEqual(sorted(bars), ["classic"] * 3 + ["utcp"] * 3)
        lines_drawn = [e.get("data-variant")
                       for e in root.iter("{http://www.w3.org/2000/svg}polyline")]
        self.assertEqual(sorted(lines_drawn), ["classic", "classic", "utcp", "utcp"])

    def test_unavailable_variant_is_reported_and_skipped(self):
        config = AB_CONFIG.replace(
            "classic: {stacks.*.tcp.use: tcp_classic}",
            "classic: {stacks.*.tcp.use: tcp_classic}\n    odd: {scheduler.use: nosuchsched}")
        config = config.replace("    conns:", "    unused:")  # keep it short: one workload
        config = config.replace(
            "server: [{use: tcp_conns, role: server, port: 5002}]", "server: []")
        config = config.replace("client: [{use: tcp_conns, role: client",
                                "client: [{use: nosuchapp, role: client")
        p = self.run_ab(config)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn("variant odd is not run: no plugin named 'nosuchsched'", p.stderr)
        self.assertIn("unused: not run: no plugin named 'nosuchapp'", p.stdout)
        self.assertRegex(p.stdout, r"odd +not run: no plugin named 'nosuchsched'")
        with open(self.json_path) as f:
            result = json.load(f)
        self.assertEqual(len(result["runs"]), 2)
        self.assertEqual(result["variants"][2]["unavailable"],
                         "no plugin named 'nosuchsched' on the search path")

    def assert_ab_error(self, config, line, *needles):
        for command in ("check", "ab"):
            p, path = netloom(command, config=config)
            self.assertEqual(p.returncode, 2, command + ": " + p.stderr)
            self.assertIn(f"{path}:{line}:", p.stderr)
            for n in needles:
                self.assertIn(n, p.stderr)

    def test_ab_config_errors_name_the_place(self):
        self.assert_ab_error(AB_CONFIG.replace("  runs: 1", "  rnus: 1"), 14,
                             "unknown key 'rnus' in ab", "did you mean 'runs'")
        self.assert_ab_error(AB_CONFIG.replace("stacks.*.tcp.use: tcp_classic",
                                               "stacks.*.tpc.use: tcp_classic"), 17,
                             "override 'stacks.*.tpc.use'", "matches nothing")
        self.assert_ab_error(AB_CONFIG.replace("      server: [{use: tcp_bulk",
                                               "      sevrer: [{use: tcp_bulk"), 20,
                             "stack 'sevrer'")
        self.assert_ab_error(AB_CONFIG.replace("connections: 1}", "connections: lots}"), 20,
                             "variant 'utcp' with workload 'bulk'", "connections")
        self.assert_ab_error(AB_CONFIG.replace("  runs: 1", "  runs: 0"), 14, "ab.runs")

    def test_composition_errors_point_at_the_override(self):
        # An override of the first variant and one of a later variant, each on its own line:
        # the error names that line, not the workload nor the variant's name.
        for variant in ("utcp", "classic"):
            config = AB_CONFIG.replace(
                f"    {variant}: {{stacks.*.tcp.use: tcp_{variant}}}",
                f"    {variant}:\n      stacks.*.tcp.use: tcp_{variant}\n"
                "      stacks.*.tcp.bogus_key: 1")
            line = config.splitlines().index("      stacks.*.tcp.bogus_key: 1") + 1
            self.assert_ab_error(config, line, f"variant '{variant}' with workload", "bogus_key")

    def test_interrupt_kills_the_child_and_removes_the_run_directories(self):
        # A bulk transfer far too long to finish: SIGINT mid-run must end it at once.
        config = AB_CONFIG.replace("bytes: 4MiB", "bytes: 100GiB").replace("timeout: 20s",
                                                                         "timeout: 50s")
        before = set(glob.glob("/tmp/netloom-ab-*"))
        fd, path = tempfile.mkstemp(suffix=".yaml")
        with os.fdopen(fd, "w") as f:
            f.write(config)
        self.addCleanup(os.unlink, path)
        out = tempfile.mkdtemp(prefix="netloom-ab-test-")
        self.addCleanup(shutil.rmtree, out, True)
        log = open(out + "/stderr", "w+")
        self.addCleanup(log.close)
        p = subprocess.Popen([ARGS.netloom, "ab", "--json", out + "/r.json", "--chart",
                              out + "/c.svg", path], stderr=log, text=True)
        self.addCleanup(lambda: p.poll() is None and p.kill())
        # Its own children only: another test may be running `netloom ab` meanwhile.
        children = lambda: [pid for pid in os.listdir("/proc") if pid.isdigit()
                            and self.cmdline(pid).startswith(ARGS.netloom + "\0")
                            and "\0run\0" in self.cmdline(pid) and self.ppid(pid) == p.pid]
        deadline = time.monotonic() + 10
        while not children() and time.monotonic() < deadline:
            time.sleep(0.01)
        self.assertTrue(children(), "no child netloom run appeared")
        start = time.monotonic()
        p.send_signal(signal.SIGINT)
        p.wait(timeout=20)
        self.assertLess(time.monotonic() - start, 5)
        log.seek(0)
        rest = log.read()
        self.assertIn("[1/4]", rest)
        self.assertEqual(p.returncode, 130, rest)
        self.assertIn("interrupted", rest)
        self.assertEqual(children(), [])
        self.assertFalse(os.path.exists(out + "/r.json"))
        leftover = set(glob.glob("/tmp/netloom-ab-*")) - before
        self.assertEqual([d for d in leftover if not d.startswith("/tmp/netloom-ab-test-")], [])

    @staticmethod
    def ppid(pid):
        try:
            with open(f"/proc/{pid}/stat") as f:
                return int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            return None

    @staticmethod
    def cmdline(pid):
        try:
            with open(f"/proc/{pid}/cmdline") as f:
                return f.read()
        except OSError:
            return ""

    def test_names_that_are_not_utf8_still_give_json(self):
        # A variant naming a missing plugin with bytes that are not UTF-8: its note goes into
        # the JSON, which must still be written (with replacement characters).
        config = AB_CONFIG.replace("    conns:", "    unused:").replace(
            "classic: {stacks.*.tcp.use: tcp_classic}",
            "classic: {stacks.*.tcp.use: tcp_classic}\n    odd: {scheduler.use: no\udcffsched}")
        p = self.run_ab(config)
        self.assertEqual(p.returncode, 1, p.stderr)
        with open(self.json_path, encoding="utf-8") as f:
            result = json.load(f)
        self.assertIn("\ufffd", result["variants"][2]["unavailable"])

    def test_run_ignores_the_ab_section(self):
        p, _ = netloom("run", "--duration", "50ms", "--no-stats", config=AB_CONFIG)
        self.assertEqual(p.returncode, 0, p.stderr)
        p, _ = netloom("check", config=AB_CONFIG)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("A/B: 2 variant(s) x 2 workload(s)", p.stdout)

    def test_ab_document_yaml_cannot_read_back(self):
        # Found by tests/fuzz/config: control bytes in a key that yaml-cpp's emitter writes and
        # its parser then refuses. `netloom ab` copies the document that way: a config error.
        path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fuzz", "corpus",
                            "config", "regression-ab-yaml-roundtrip")
        p = subprocess.run([ARGS.netloom, "ab", path], capture_output=True, text=True,
                           errors="replace", timeout=60)
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn("regression-ab-yaml-roundtrip:2:1:", p.stderr)
        self.assertIn("cannot read back its own output", p.stderr)

    def test_ab_without_an_ab_section(self):
        p, _ = netloom("ab", config=VALID)
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn("no `ab:` section", p.stderr)


class AbLinuxReference(AbRun, unittest.TestCase):
    """Needs root: CTest runs it as its own test (cli_ab_linux_reference), so a run as another
    user skips only it and still runs every other test of this file (cli_errors)."""

    def test_linux_reference_row_as_root(self):
        """The Linux kernel over veth in two namespaces, measured in the same run (root only):
        bulk (iperf3) and rr (a Python client) rows with numbers, nothing left behind."""
        if os.geteuid() != 0:
            skip(self, "root", "the Linux reference row needs root (network namespaces)")
        for tool in ("ip", "iperf3", "timeout"):
            if shutil.which(tool) is None:
                skip(self, "tool", f"{tool} is not installed")
        config = AB_CONFIG.replace("  runs: 1\n", "  runs: 1\n  linux_reference: true\n").replace(
            """    conns:
      server: [{use: tcp_conns, role: server, port: 5002}]
      client: [{use: tcp_conns, role: client, target: 10.0.0.2, port: 5002, count: 100,
                settle: 10ms, hold: 10ms}]""",
            """    rr:
      server: [{use: rr, role: server, port: 5003}]
      client: [{use: rr, role: client, target: 10.0.0.2, port: 5003, mode: rr, size: 64,
                duration: 300ms}]""")
        p = self.run_ab(config)
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(self.json_path) as f:
            result = json.load(f)
        self.assertGreater(result["results"]["bulk"]["linux"]["throughput_gbit_s"]["median"], 0)
        self.assertGreater(result["results"]["rr"]["linux"]["rr_per_s"]["median"], 0)
        self.assertGreater(result["results"]["rr"]["linux"]["latency_p50_us"]["median"], 0)
        self.assertTrue(any(l.startswith("linux ") for l in p.stdout.splitlines()), p.stdout)
        # Only the harness's own namespaces (nlab-*) and scripts: other tests may be running
        # theirs in parallel.
        namespaces = subprocess.run(["ip", "netns", "list"], capture_output=True,
                                    text=True).stdout
        self.assertFalse([n for n in namespaces.split() if n.startswith("nlab-")], namespaces)
        leftovers = subprocess.run(["pgrep", "-f", "netloom-ab-linux-"], capture_output=True,
                                   text=True).stdout
        self.assertEqual(leftovers, "")
        # The rr loop runs from beside this executable (ab_linux_rr.py): none of it is left.
        rr_script = os.path.join(os.path.dirname(os.path.abspath(ARGS.netloom)), "ab_linux_rr.py")
        leftovers = subprocess.run(["pgrep", "-f", rr_script], capture_output=True,
                                   text=True).stdout
        self.assertEqual(leftovers, "")


class Listing(unittest.TestCase):
    def test_plugins_json(self):
        p, _ = netloom("plugins", "--json")
        self.assertEqual(p.returncode, 0, p.stderr)
        plugins = {item["name"]: item for item in json.loads(p.stdout)}
        expected = {"wire": "driver", "tap": "driver", "pcap": "driver", "impair": "driver",
                    "ref": "checksum", "fast": "checksum", "simd": "checksum", "epoll": "scheduler",
                    "ipv4": "ip", "tcp_utcp": "tcp", "ping": "app", "udp_echo": "app",
                    "tcp_bulk": "app", "echo": "app"}
        for name, kind in expected.items():
            self.assertIn(name, plugins)
            self.assertEqual(plugins[name]["kind"], kind)
            self.assertRegex(plugins[name]["version"], r"^\d+\.\d+\.\d+$")
            if not plugins[name]["available"]:
                self.assertTrue(plugins[name].get("unavailable"), "a refusal must say why")

    def test_plugins_table(self):
        p, _ = netloom("plugins")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("search path:", p.stdout)
        self.assertIn("epoll", p.stdout)

    def test_version_and_help(self):
        p, _ = netloom("--version")
        self.assertEqual(p.returncode, 0)
        self.assertRegex(p.stdout, r"netloom \d+\.\d+\.\d+")
        p, _ = netloom("--help")
        self.assertEqual(p.returncode, 0)
        for word in ("run", "check", "plugins", "--log-level", "--plugin-path"):
            self.assertIn(word, p.stdout)

    def test_bad_log_level_is_rejected(self):
        p, _ = netloom("--log-level", "loud", "plugins")
        self.assertEqual(p.returncode, 2)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--netloom", required=True)
    parser.add_argument("--fixtures", required=True)
    parser.add_argument("--source", required=True)
    parser.add_argument("--bulk-bytes", default=None,
                        help="run the default config with this tcp_bulk size instead")
    ARGS, rest = parser.parse_known_args()
    sys.exit(run_tests(rest))
