#!/usr/bin/env python3
"""The netloom command line: config and plugin errors exit 2 with a location, listings work."""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import unittest

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


def netloom(*args, config=None):
    """Runs netloom (with `config` written to a temp file substituted for CONFIG)."""
    argv = [ARGS.netloom, *args]
    path = None
    if config is not None:
        fd, path = tempfile.mkstemp(suffix=".yaml")
        with os.fdopen(fd, "w") as f:
            f.write(config)
        argv.append(path)
    try:
        p = subprocess.run(argv, capture_output=True, text=True, timeout=60)
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
        self.assert_error(VALID.replace("use: ref", f"use: {so}"), so, "ABI version 999", line=2)

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

    def test_tcp_app_on_a_stack_without_tcp(self):
        self.assert_error(VALID.replace("device: {use: wire, link: lan0}\n  b",
                                        "device: {use: wire, link: lan0}\n    ip: {use: ipv4, address: 10.0.0.1/24}\n"
                                        "    apps: [{use: tcp_bulk, role: server, direction: receive, port: 5001}]\n  b"),
                          "has no TCP engine (add `tcp:` to it)", line=7)

    def test_tap_under_the_sim_scheduler(self):
        if not os.path.exists("/dev/net/tun"):
            self.skipTest("the tap plugin is unavailable without /dev/net/tun")
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
        p, _ = netloom("run", os.path.join(ARGS.source, "configs", "default.yaml"))
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("counter", p.stdout)
        self.assertIn("every finite app has finished", p.stderr)

    def test_a_client_cut_short_fails_the_run(self):
        p, _ = netloom("run", "--duration", "50ms", os.path.join(ARGS.source, "configs", "default.yaml"))
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn("had not finished", p.stderr)


class Listing(unittest.TestCase):
    def test_plugins_json(self):
        p, _ = netloom("plugins", "--json")
        self.assertEqual(p.returncode, 0, p.stderr)
        plugins = {item["name"]: item for item in json.loads(p.stdout)}
        expected = {"wire": "driver", "tap": "driver", "pcap": "driver", "impair": "driver",
                    "ref": "checksum", "fast": "checksum", "simd": "checksum", "epoll": "scheduler",
                    "ipv4": "ip", "tcp_utcp": "tcp", "ping": "app", "udp_echo": "app",
                    "tcp_bulk": "app", "tcp_echo": "app"}
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
    ARGS, rest = parser.parse_known_args()
    unittest.main(argv=[sys.argv[0], "-v", *rest])
