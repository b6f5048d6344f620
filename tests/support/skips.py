"""How a Python test says it cannot run here, and how CTest learns it.

Contract: a test that cannot run calls `skip(test, kind, reason)` (never `skipTest` with free
text, never a bare `return`), and the file ends with `sys.exit(run_tests(rest))` instead of
`unittest.main()`. `run_tests` exits 1 when anything failed or errored (or nothing ran), else
SKIP_EXIT_CODE when any test skipped, else 0. CTest registers every test with
`SKIP_RETURN_CODE 77`, so a file that could not run all of its tests shows as *Skipped*, never
as passed; a file that mixes tests that need root with tests that do not is registered twice
(`--only` / `--except`), so a non-root run still runs and passes the rest.

Every skip prints one line `SKIP(<kind>): <reason> [<test id>]`. The kinds (tests/README.md):
  cpu     this CPU lacks a feature (AVX2, AVX-512): the only skip allowed on CI
  root    needs root (network namespaces, TAP devices)
  device  a device is missing or unusable (/dev/net/tun)
  tool    a program or module is missing (tshark, iperf3, Scapy): run scripts/setup.sh
  plugin  a plugin is not built or is unavailable
scripts/test.sh fails a CI run (CI=true, as root) that skipped for any kind but `cpu`.
"""
import argparse
import sys
import unittest

SKIP_EXIT_CODE = 77  # also tests/support/skip.hpp and SKIP_RETURN_CODE in tests/CMakeLists.txt
KINDS = ("cpu", "root", "device", "tool", "plugin")


def skip(test: unittest.TestCase, kind: str, reason: str) -> None:
    """Ends `test` as skipped, with the reason in the one-line form scripts/test.sh reads."""
    if kind not in KINDS:
        raise ValueError(f"unknown skip kind {kind!r} (one of {', '.join(KINDS)})")
    test.skipTest(f"SKIP({kind}): {reason}")


def run_tests(argv: list) -> int:
    """Runs the TestCases of __main__ (unittest's command line in `argv`, plus `--only CLASS` and
    `--except CLASS`, both repeatable) and returns the exit status described above."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--only", action="append", default=[])
    parser.add_argument("--except", dest="excluded", action="append", default=[])
    selection, rest = parser.parse_known_args(argv)
    main_module = sys.modules["__main__"]
    classes = [name for name, value in vars(main_module).items()
               if isinstance(value, type) and issubclass(value, unittest.TestCase)
               and value.__module__ == "__main__"]
    for name in selection.only + selection.excluded:
        if name not in classes:
            print(f"error: no TestCase class {name!r} in {sys.argv[0]}", file=sys.stderr)
            return 1
    chosen = [c for c in classes
              if (not selection.only or c in selection.only) and c not in selection.excluded]
    has_names = any(not a.startswith("-") for a in rest)
    program = unittest.main(argv=[sys.argv[0], "-v", *rest], exit=False,
                            defaultTest=None if has_names else chosen)
    result = program.result
    for case, reason in result.skipped:
        line = reason if reason.startswith("SKIP(") else f"SKIP(unknown): {reason}"
        print(f"{line} [{case.id()}]")
    if not result.wasSuccessful():
        return 1
    if result.testsRun == 0:
        print("error: no test ran", file=sys.stderr)
        return 1
    if result.skipped:
        ran = result.testsRun - len(result.skipped)
        print(f"{ran} of {result.testsRun} tests ran and passed; "
              f"{len(result.skipped)} skipped: exit {SKIP_EXIT_CODE} (skipped)")
        return SKIP_EXIT_CODE
    return 0
