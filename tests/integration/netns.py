"""Helpers for integration tests against the Linux kernel stack in a throw-away network namespace.

A test creates its own namespace (removed on exit, whatever happens), runs netloom inside it on a
TAP device, and uses the namespace's kernel stack as the real peer. Tests that need root call
`require_root()`, which skips with a clear message when not root.
"""
import os
import shutil
import signal
import subprocess
import time
import unittest


def require_root(test: unittest.TestCase, *tools: str) -> None:
    if os.geteuid() != 0:
        test.skipTest("needs root (creates a network namespace and a TAP device); run as root")
    if not os.path.exists("/dev/net/tun"):
        test.skipTest("needs /dev/net/tun")
    for tool in ("ip", *tools):
        if shutil.which(tool) is None:
            test.skipTest(f"needs '{tool}' (run scripts/setup.sh)")


def wait_for(predicate, timeout: float, what: str, interval: float = 0.02):
    """Polls `predicate` until it returns a true value; fails with `what` after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


class Namespace:
    """`with Namespace("nlt") as ns:` creates netns nlt<pid>, deletes it (and its links) on exit."""

    def __init__(self, prefix: str):
        self.name = f"{prefix}{os.getpid()}"
        self.processes = []

    def __enter__(self):
        subprocess.run(["ip", "netns", "del", self.name], capture_output=True)
        subprocess.run(["ip", "netns", "add", self.name], check=True)
        self.run("ip", "link", "set", "lo", "up")
        return self

    def __exit__(self, *exc):
        for p in self.processes:
            if p.poll() is None:
                p.kill()
                p.wait()
        subprocess.run(["ip", "netns", "del", self.name], capture_output=True)
        return False

    def run(self, *argv, check=True, timeout=60, **kw):
        return subprocess.run(["ip", "netns", "exec", self.name, *argv], check=check,
                              capture_output=True, text=True, timeout=timeout, **kw)

    def spawn(self, *argv, **kw):
        p = subprocess.Popen(["ip", "netns", "exec", self.name, *argv], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, **kw)
        self.processes.append(p)
        return p

    def link_exists(self, name: str) -> bool:
        return self.run("ip", "link", "show", name, check=False).returncode == 0


def stop(process: subprocess.Popen, timeout: float = 20):
    """SIGINT (netloom's clean stop), then collect its output."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=timeout)
    return process.returncode, out, err


def tshark_check(test: unittest.TestCase, pcap: str) -> str:
    """tshark must read the capture with no warning; returns its one-line-per-packet summary.
    Also asserts that tshark's expert info reports no malformed packet and no bad checksum."""
    p = subprocess.run(["tshark", "-r", pcap, "-o", "ip.check_checksum:TRUE",
                        "-o", "tcp.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE"],
                       capture_output=True, text=True, timeout=120)
    test.assertEqual(p.returncode, 0, p.stderr)
    # As root tshark always notes that it runs as root; anything else on stderr is a warning.
    warnings = [line for line in p.stderr.splitlines()
                if line.strip() and not line.startswith('Running as user "root"')]
    test.assertEqual(warnings, [], "tshark warned: " + p.stderr)
    bad = subprocess.run(["tshark", "-r", pcap, "-o", "ip.check_checksum:TRUE",
                          "-o", "tcp.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE",
                          "-Y", "_ws.malformed || _ws.expert.severity >= error || "
                                "ip.checksum.status == 0 || tcp.checksum.status == 0 || "
                                "udp.checksum.status == 0 || icmp.checksum.status == 0"],
                         capture_output=True, text=True, timeout=120)
    test.assertEqual(bad.returncode, 0, bad.stderr)
    test.assertEqual(bad.stdout.strip(), "", "tshark found malformed or bad-checksum packets:\n" + bad.stdout)
    return p.stdout
