#!/usr/bin/env python3
"""Builds netloom-image from a config (NETLOOM_STATIC=ON) and checks that it is a fully static ELF
(no program interpreter, no dynamic section, no dlopen), carries only the plugins the config names,
and runs its embedded config with no arguments and no plugin files."""
import argparse
import json
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from skips import run_tests  # noqa: E402

ARGS = None


def run(*argv, **kw):
    return subprocess.run(argv, capture_output=True, text=True, **kw)


class StaticImage(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        build = ARGS.build
        cfg = run("cmake", "-S", ARGS.source, "-B", build, "-DNETLOOM_STATIC=ON",
                  f"-DNETLOOM_IMAGE_CONFIG={ARGS.config}", "-DCMAKE_BUILD_TYPE=Release",
                  "-DNETLOOM_TESTS=OFF", "-DNETLOOM_BENCH=OFF",
                  # as scripts/build.sh: 16 files per compiler run, about half the CPU time
                  "-DCMAKE_UNITY_BUILD=ON", "-DCMAKE_UNITY_BUILD_BATCH_SIZE=16")
        if cfg.returncode != 0:
            raise AssertionError("configure failed:\n" + cfg.stdout + cfg.stderr)
        b = run("cmake", "--build", build, "-j", str(os.cpu_count() or 2), "--target", "netloom-image")
        if b.returncode != 0:
            raise AssertionError("build failed:\n" + b.stdout[-4000:] + b.stderr[-4000:])
        cls.image = os.path.join(build, "netloom-image")

    def test_file_says_statically_linked(self):
        out = run("file", self.image).stdout
        self.assertIn("statically linked", out)
        self.assertIn("ELF 64-bit", out)

    def test_no_interpreter_and_no_dynamic_section(self):
        headers = run("readelf", "-l", "-d", self.image).stdout
        self.assertNotIn("INTERP", headers)
        self.assertNotIn("(NEEDED)", headers)
        symbols = run("nm", self.image).stdout
        self.assertNotRegex(symbols, r"\bU dlopen\b")

    def test_only_named_plugins_are_inside(self):
        p = run(self.image, "plugins", "--json", env={"PATH": "/usr/bin:/bin"})
        self.assertEqual(p.returncode, 0, p.stderr)
        names = {item["name"] for item in json.loads(p.stdout)}
        with open(ARGS.config) as f:
            text = f.read()
        for name in names:
            self.assertTrue(f"use: {name}" in text or name in ("epoll", "fast"),
                            f"plugin {name} is built in but the config does not name it")
        self.assertNotIn("tap", names)  # the default config uses the in-process wire only

    def test_runs_embedded_config_without_arguments(self):
        # An empty environment and a cwd with no files: everything must be inside the binary.
        p = run(self.image, cwd="/", env={}, timeout=120)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("counter", p.stdout)  # the stats table printed at exit
        check = run(self.image, "check", env={})
        self.assertEqual(check.returncode, 0, check.stderr)
        self.assertIn("(embedded)", check.stdout)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--source", required=True)
    parser.add_argument("--build", required=True)
    parser.add_argument("--config", required=True)
    ARGS, rest = parser.parse_known_args()
    sys.exit(run_tests(rest))
