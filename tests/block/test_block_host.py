#!/usr/bin/env python3
"""The host's `blocks:` mapping through the netloom binary: plugins listed as kind block, `check`
touching no file, config errors with file:line:column and exit 2, a fixture app (blkprobe) using
a named device through block_io.hpp, counters as block/<name>, teardown with a request pending."""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from skips import run_tests  # noqa: E402

ARGS = None

STACK = """\
scheduler: {use: sim}
checksum: {use: ref}
stacks:
  a:
    device: {use: wire, link: lan0}
    apps:
"""


def config(blocks, apps="      - {use: blkprobe, device: disk0}\n", run="run: {duration: 1s}\n"):
    return "blocks:\n" + blocks + STACK + apps + run


class BlockHost(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory(prefix="netloom-block-")
        self.path = os.path.join(self.dir.name, "c.yaml")

    def tearDown(self):
        self.dir.cleanup()

    def netloom(self, command, text, *extra):
        with open(self.path, "w") as f:
            f.write(text)
        argv = [ARGS.netloom, "--plugin-path", ARGS.fixtures, "--plugin-path", ARGS.plugins,
                command, self.path, *extra]
        return subprocess.run(argv, capture_output=True, text=True, timeout=60)

    def assert_error(self, text, line, token, *needles):
        """`netloom check` fails with one line at `line`, at the column where `token` starts."""
        column = text.splitlines()[line - 1].index(token) + 1
        p = self.netloom("check", text)
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn(f"{self.path}:{line}:{column}:", p.stderr)
        for n in needles:
            self.assertIn(n, p.stderr)
        self.assertEqual(p.stderr.count("\n"), 1, "one clear line: " + p.stderr)

    def stats(self, text):
        out = os.path.join(self.dir.name, "stats.json")
        p = self.netloom("run", text, "--no-stats", "--stats-json", out)
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(out) as f:
            return json.load(f)

    def test_block_plugins_are_listed_as_kind_block(self):
        p = subprocess.run([ARGS.netloom, "--plugin-path", ARGS.plugins, "plugins", "--json"],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        kinds = {item["name"]: item["kind"] for item in json.loads(p.stdout)}
        for name in ("blk_ram", "blk_sync", "blk_faults"):
            self.assertEqual(kinds.get(name), "block", name)

    def test_check_opens_and_creates_no_file(self):
        created = os.path.join(self.dir.name, "new.img")
        text = config(f"  disk0: {{use: blk_sync, path: '{created}', create: true, size: 1MiB}}\n"
                      f"  img: {{use: blk_ram, image: '{self.dir.name}/absent.tar'}}\n")
        p = self.netloom("check", text)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("OK (1 stack(s))", p.stdout)
        self.assertFalse(os.path.exists(created))

    def test_app_reads_and_writes_a_named_device_and_counters_are_listed(self):
        stats = self.stats(config("  disk0: {use: blk_ram, size: 64KiB, max_sectors: 4}\n"))
        disk = stats["block/disk0"]
        self.assertEqual(disk["bytes_written"], 16 * 512)
        self.assertEqual(disk["bytes_read"], 16 * 512)
        self.assertEqual(disk["flush_requests"], 1)
        self.assertEqual(disk["requests_split"], 2)
        self.assertEqual(stats["a/app0/blkprobe"]["verified_bytes"], 16 * 512)

    def test_a_decorators_inner_device_is_listed_under_its_name(self):
        img = os.path.join(self.dir.name, "disk.img")
        stats = self.stats(config(
            "  disk0:\n    use: blk_faults\n    latency: 1ms\n"
            f"    inner: {{use: blk_sync, path: '{img}', create: true, size: 64KiB}}\n"))
        self.assertEqual(stats["block/disk0"]["faults_delayed"], 3)
        inner = f"block/disk0/sync({img}, 256 sector(s)/request)"
        self.assertIn(inner, stats)
        self.assertEqual(stats[inner]["bytes_written"], 16 * 512)
        self.assertEqual(os.path.getsize(img), 64 * 1024)

    def test_an_io_error_reaches_the_app(self):
        p = self.netloom("run", config(
            "  disk0: {use: blk_faults, write_errors: ['3'], inner: {use: blk_ram, size: 64KiB}}\n"))
        self.assertEqual(p.returncode, 3, p.stderr)

    def test_an_unknown_device_name_fails_at_the_apps_key(self):
        text = config("  disk0: {use: blk_ram, size: 64KiB}\n  disk1: {use: blk_ram, size: 1MiB}\n",
                      apps="      - {use: blkprobe, device: disk7}\n")
        self.assert_error(text, 10, "disk7", "no block device named 'disk7'", "disk0, disk1")
        self.assert_error("blocks: {}\n" + STACK + "      - {use: blkprobe, device: disk0}\n",
                          8, "disk0", "no `blocks:`")

    def test_block_config_errors_name_their_place(self):
        self.assert_error(config("  disk0: {use: blk_ram, size: 1000}\n"), 2, "1000",
                          "blocks.disk0.size", "whole number of 512-byte sectors")
        self.assert_error(config("  disk0: {use: blk_ram, sise: 1MiB}\n"), 2, "1MiB",
                          "did you mean 'size'")
        self.assert_error(config("  disk0: {use: blk_rum, size: 1MiB}\n"), 2, "blk_rum",
                          "no plugin named 'blk_rum'")
        self.assert_error(config("  disk0: {use: wire, link: x}\n"), 2, "wire",
                          "is a driver plugin, expected a block plugin")
        self.assert_error(config("  disk0: {use: blk_ram, size: 1MiB}\n  'disk/0': {use: blk_ram}\n"),
                          3, "{use", "block device name 'disk/0'")
        self.assert_error(config("  disk0: [1, 2]\n"), 2, "[", "a mapping")
        self.assert_error(config("  disk0:\n    use: blk_faults\n"
                                 "    inner: {use: blk_ram, size: 1MiB, read_only: maybe}\n"), 4, "maybe",
                          "blocks.disk0.inner.read_only")
        missing = os.path.join(self.dir.name, "missing.img")
        p = self.netloom("run", config(f"  disk0: {{use: blk_sync, path: '{missing}'}}\n"))
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn(f"{self.path}:2:10:", p.stderr)
        self.assertIn("No such file", p.stderr)

    def test_teardown_with_a_request_pending(self):
        p = self.netloom("run", config(
            "  disk0: {use: blk_faults, latency: 59s, inner: {use: blk_ram, size: 64KiB}}\n",
            apps="      - {use: blkprobe, device: disk0, hold: true}\n",
            run="run: {duration: 10ms}\n"), "--no-stats")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("run.duration elapsed", p.stderr)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--netloom", required=True)
    parser.add_argument("--plugins", required=True)
    parser.add_argument("--fixtures", required=True)
    ARGS, rest = parser.parse_known_args()
    sys.exit(run_tests(rest))
