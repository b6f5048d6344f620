"""Helpers for integration tests against the Linux kernel stack in a throw-away network namespace.

A test creates its own namespace (removed on exit, whatever happens), runs netloom inside it on a
TAP device, and uses the namespace's kernel stack as the real peer. Tests that need root call
`require_root()`, which skips (tests/support/skips.py: kind root, device or tool) when this
machine cannot run them.
"""
import contextlib
import ctypes
import hashlib
import json
import os
import shutil
import signal
import subprocess
import time
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from skips import run_tests, skip  # noqa: E402,F401  (re-exported for the tests)

CLONE_NEWNET = 0x40000000


def require_root(test: unittest.TestCase, *tools: str) -> None:
    if os.geteuid() != 0:
        skip(test, "root", "needs root (creates a network namespace and a TAP device)")
    if not os.path.exists("/dev/net/tun"):
        skip(test, "device", "needs /dev/net/tun")
    for tool in ("ip", *tools):
        if shutil.which(tool) is None:
            skip(test, "tool", f"needs '{tool}' (run scripts/setup.sh)")


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
        self.prefix = prefix
        self.name = f"{prefix}{os.getpid()}"
        self.processes = []

    def __enter__(self):
        self._remove_orphans()
        subprocess.run(["ip", "netns", "del", self.name], capture_output=True)
        subprocess.run(["ip", "netns", "add", self.name], check=True)
        self.run("ip", "link", "set", "lo", "up")
        return self

    def _remove_orphans(self):
        """Deletes namespaces of this prefix left by a test process that was killed (a CTest
        timeout skips __exit__): their name ends in the pid of a process that no longer exists."""
        listing = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
        for line in listing.splitlines():
            name = line.split()[0] if line.split() else ""
            suffix = name[len(self.prefix):]
            if name.startswith(self.prefix) and suffix.isdigit() and not os.path.exists(f"/proc/{suffix}"):
                subprocess.run(["ip", "netns", "del", name], capture_output=True)

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
        """Starts argv in the namespace; stdout and stderr are pipes unless given (pass files
        for a long-running chatty process: nobody drains a pipe while the test runs)."""
        kw.setdefault("stdout", subprocess.PIPE)
        kw.setdefault("stderr", subprocess.PIPE)
        p = subprocess.Popen(["ip", "netns", "exec", self.name, *argv], text=True, **kw)
        self.processes.append(p)
        return p

    def link_exists(self, name: str) -> bool:
        return self.run("ip", "link", "show", name, check=False).returncode == 0

    def add_tap(self, name: str, address: str, mtu: int = 1500):
        """Creates a persistent TAP interface with the kernel side at `address` (CIDR), up, before
        netloom starts: netloom attaches to it, and it (with its address) outlives a netloom run,
        so several runs can use one link. Without a reader it has no carrier; it goes with the
        namespace."""
        self.run("ip", "tuntap", "add", "dev", name, "mode", "tap")
        self.run("ip", "link", "set", name, "mtu", str(mtu))
        self.run("ip", "addr", "add", address, "dev", name)
        self.run("ip", "link", "set", name, "up")

    @contextlib.contextmanager
    def entered(self):
        """Moves the calling thread into the namespace for the `with` block (setns(2) acts on
        one thread), so sockets it opens there (Python sockets, Scapy) live in the namespace;
        moves it back after. Threads and child processes started inside inherit the namespace."""
        libc = ctypes.CDLL(None, use_errno=True)
        home = os.open("/proc/self/ns/net", os.O_RDONLY)
        target = os.open(f"/var/run/netns/{self.name}", os.O_RDONLY)
        try:
            if libc.setns(target, CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), "setns into " + self.name)
            try:
                yield self
            finally:
                if libc.setns(home, CLONE_NEWNET) != 0:
                    raise OSError(ctypes.get_errno(), "setns back to the initial namespace")
        finally:
            os.close(target)
            os.close(home)


def stop(process: subprocess.Popen, timeout: float = 20):
    """SIGINT (netloom's clean stop), then collect its output."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=timeout)
    return process.returncode, out, err


def catches_signal(pid: int, signum: int) -> bool:
    """True once process `pid` has installed a handler for `signum` (SigCgt in /proc)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("SigCgt:"):
                    return bool(int(line.split()[1], 16) & (1 << (signum - 1)))
    except FileNotFoundError:
        pass
    return False


def read_stats(process: subprocess.Popen, path: str, timeout: float = 10) -> dict:
    """Asks a running `netloom run --stats-json PATH` for its counters (SIGUSR1 rewrites PATH)
    and returns them as {component: {counter: value}}. The file is removed first, so what is
    read is the answer to this request, never an older one. Waits for netloom to catch SIGUSR1
    first: until its loop runs, the signal's default action would kill it. (`ip netns exec`
    execs the command, so the Popen's pid is netloom's.)"""
    with contextlib.suppress(FileNotFoundError):
        os.remove(path)
    wait_for(lambda: catches_signal(process.pid, signal.SIGUSR1) or process.poll() is not None,
             timeout, "netloom to handle SIGUSR1")
    if process.poll() is not None:
        raise AssertionError(f"netloom exited ({process.returncode}) before its stats were read")
    process.send_signal(signal.SIGUSR1)
    wait_for(lambda: os.path.exists(path) or process.poll() is not None, timeout,
             "netloom to write " + path)
    with open(path) as f:
        return json.load(f)


class Netloom:
    """`netloom run CONFIG --stats-json` running in a namespace, its output going to a log file
    (so a chatty run never blocks on a full pipe). `stats()` reads the counters mid-run,
    `stop()` ends it with SIGINT, `wait()` lets it finish by itself; both return the exit status
    and the stats written at exit."""

    def __init__(self, ns: Namespace, netloom: str, config: str, workdir: str, name: str = "netloom"):
        self.stats_path = os.path.join(workdir, name + ".stats.json")
        self.log_path = os.path.join(workdir, name + ".log")
        self.log = open(self.log_path, "w")
        self.process = ns.spawn(netloom, "run", config, "--stats-json", self.stats_path,
                                "--no-stats", stdout=self.log, stderr=subprocess.STDOUT)

    def alive(self) -> bool:
        return self.process.poll() is None

    def wait_running(self, timeout: float = 20):
        """Until netloom's loop is about to run (it handles SIGUSR1 from then on) or it exited."""
        wait_for(lambda: catches_signal(self.process.pid, signal.SIGUSR1) or not self.alive(),
                 timeout, "netloom to start running")

    def output(self) -> str:
        if not self.log.closed:
            self.log.flush()
        with open(self.log_path) as f:
            return f.read()

    def stats(self, timeout: float = 10) -> dict:
        return read_stats(self.process, self.stats_path, timeout)

    def _finish(self, timeout: float):
        try:
            code = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError(f"netloom did not exit within {timeout}s:\n" + self.output())
        finally:
            self.log.close()
        stats = {}
        if os.path.exists(self.stats_path):
            with open(self.stats_path) as f:
                stats = json.load(f)
        return code, stats

    def stop(self, timeout: float = 20):
        if self.alive():
            with contextlib.suppress(FileNotFoundError):
                os.remove(self.stats_path)  # what is read after is the exit's, not a mid-run one
            self.process.send_signal(signal.SIGINT)
        return self._finish(timeout)

    def wait(self, timeout: float):
        return self._finish(timeout)


def tshark_readable(test: unittest.TestCase, pcap: str) -> str:
    """tshark can read the whole capture (exit 0); for captures that hold malformed packets on
    purpose, where tshark_check's verdict does not apply. Returns the packet summary."""
    p = subprocess.run(["tshark", "-r", pcap], capture_output=True, text=True, timeout=300)
    test.assertEqual(p.returncode, 0, p.stderr)
    return p.stdout


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
    # TCP payloads in the tests are random bytes: decode them as plain data, or a heuristic
    # dissector (Thrift, say) may claim one and call it malformed, which says nothing about
    # the IP and TCP layers judged here.
    bad = subprocess.run(["tshark", "-r", pcap, "-o", "ip.check_checksum:TRUE",
                          "-o", "tcp.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE",
                          "-d", "tcp.port==1-65535,data",
                          "-Y", "_ws.malformed || _ws.expert.severity >= error || "
                                "ip.checksum.status == 0 || tcp.checksum.status == 0 || "
                                "udp.checksum.status == 0 || icmp.checksum.status == 0"],
                         capture_output=True, text=True, timeout=120)
    test.assertEqual(bad.returncode, 0, bad.stderr)
    test.assertEqual(bad.stdout.strip(), "", "tshark found malformed or bad-checksum packets:\n" + bad.stdout)
    return p.stdout


# --- TCP tests (test_tcp_*.py) -----------------------------------------------------------------

def require_plugins(test: unittest.TestCase, netloom: str, *names: str) -> None:
    """Skips when one of `names` is not on netloom's plugin search path (or is unavailable):
    the TCP tests run once per engine, and an engine or app that is not built cannot be tested."""
    p = subprocess.run([netloom, "plugins", "--json"], capture_output=True, text=True, timeout=60)
    if p.returncode != 0:
        test.fail(f"`netloom plugins --json` failed ({p.returncode}): {p.stderr}")
    found = {entry["name"] for entry in json.loads(p.stdout) if entry.get("available", True)}
    missing = [n for n in names if n not in found]
    if missing:
        skip(test, "plugin", "plugin(s) not built or unavailable: " + ", ".join(missing))


def counter(stats: dict, component: str, *names: str) -> int:
    """The first of `names` that `component` reports (names of one counter in different
    engines or versions); fails listing what the component has when none is there."""
    values = stats.get(component)
    if values is None:
        raise AssertionError(f"no component {component!r} in the stats: {sorted(stats)}")
    for name in names:
        if name in values:
            return values[name]
    raise AssertionError(f"{component} has none of {names}; it has {sorted(values)}")


def linux_total_retrans(sock) -> int:
    """tcpi_total_retrans of a Linux TCP socket (struct tcp_info in linux/tcp.h: 8 one-byte
    fields, then 32-bit fields of which total_retrans is the 24th)."""
    import socket
    import struct
    info = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 104)
    return struct.unpack_from("=I", info, 8 + 23 * 4)[0]


def receive_all(sock, limit=None) -> tuple:
    """Reads `sock` until EOF; returns (byte count, sha256 hex). A reset raises
    ConnectionResetError as usual. `limit`: keep at most this many bytes (returned third)."""
    import hashlib
    hasher = hashlib.sha256()
    buffer = bytearray(1 << 20)
    view = memoryview(buffer)
    total = 0
    kept = bytearray()
    while True:
        n = sock.recv_into(buffer)
        if n == 0:
            break
        hasher.update(view[:n])
        if limit is not None and len(kept) < limit:
            kept += view[:min(n, limit - len(kept))]
        total += n
    return total, hasher.hexdigest(), bytes(kept)


class Background:
    """Runs `function(*args)` in a thread; `result(timeout)` joins it and returns its value or
    re-raises its exception (so a failure in a Linux-side server fails the test)."""

    def __init__(self, function, *args):
        import threading
        self._value = None
        self._error = None

        def body():
            try:
                self._value = function(*args)
            except BaseException as e:  # handed to the caller of result()
                self._error = e

        self._thread = threading.Thread(target=body, daemon=True)
        self._thread.start()

    def done(self) -> bool:
        return not self._thread.is_alive()

    def result(self, timeout: float):
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise AssertionError(f"background task still running after {timeout}s")
        if self._error is not None:
            raise self._error
        return self._value


def tcp_config(*, engine: str, tap: str, mac: str, address: str, apps: list, limit: float,
               tcp_keys: dict = None, impair: dict = None, pcap: str = None,
               ip_keys: dict = None, log_level: str = "info", scheduler: str = "epoll",
               shutdown_timeout: str = None) -> str:
    """YAML of one stack `main` on TAP `tap` (optionally inside `impair` and then `pcap`) with
    the ipv4 layer at `address` (CIDR), the TCP engine `engine` with `tcp_keys`, and `apps`
    (dicts, written as flow mappings). run.duration = `limit` seconds: a hang guard, never the
    expected way for a run to end when it has finite apps. `scheduler`: the loop plugin.
    `shutdown_timeout`: run.shutdown_timeout (how long SIGINT waits for connections to close;
    netloom's default when None)."""
    device = {"use": "tap", "name": tap, "mac": mac, "mtu": 1500}
    if impair is not None:
        device = {"use": "impair", **impair, "inner": device}
    if pcap is not None:
        device = {"use": "pcap", "file": pcap, "inner": device}
    ip = {"use": "ipv4", "address": address, **(ip_keys or {})}
    tcp = {"use": engine, **(tcp_keys or {})}
    lines = [f"log: {{level: {log_level}}}",
             f"scheduler: {{use: {scheduler}}}",
             "checksum: {use: fast}",
             f"run: {{duration: {limit}s" +
             (f", shutdown_timeout: {shutdown_timeout}}}" if shutdown_timeout else "}"),
             "stacks:",
             "  main:",
             "    device: " + json.dumps(device),
             "    ip: " + json.dumps(ip),
             "    tcp: " + json.dumps(tcp),
             "    apps:"]
    lines += ["      - " + json.dumps(app) for app in apps]
    return "\n".join(lines) + "\n"


class OneServerOnTap(unittest.TestCase):
    """A test class whose tests share one netloom run on a TAP link in a namespace: setUpClass
    makes `tmp` (a temporary directory others may read), the first test's setUp calls
    `start_server` (so a test that skips — no root, a plugin missing — skips before anything
    starts), tearDownClass stops netloom and removes the namespace and `tmp`."""

    @classmethod
    def setUpClass(cls):
        cls.tmp_dir = tempfile.TemporaryDirectory()
        cls.tmp = cls.tmp_dir.name
        os.chmod(cls.tmp, 0o755)
        cls.ns = None
        cls.netloom = None

    @classmethod
    def tearDownClass(cls):
        if cls.netloom is not None and cls.netloom.alive():
            cls.netloom.stop()
        if cls.ns is not None:
            cls.ns.__exit__(None, None, None)
        cls.tmp_dir.cleanup()

    def start_server(self, *, netloom: str, prefix: str, tap: str, linux_cidr: str, config,
                     name: str = "netloom") -> None:
        """Once per class: namespace `prefix`, TAP `tap` with the kernel at `linux_cidr`, and
        netloom running the YAML `config()` returns; fails when netloom has exited."""
        cls = type(self)
        if cls.ns is None:
            cls.ns = Namespace(prefix)
            cls.ns.__enter__()
            cls.ns.add_tap(tap, linux_cidr)
            path = os.path.join(cls.tmp, name + ".yaml")
            with open(path, "w") as f:
                f.write(config())
            cls.netloom = Netloom(cls.ns, netloom, path, cls.tmp, name)
            cls.netloom.wait_running()
        if not cls.netloom.alive():
            self.fail("netloom exited:\n" + cls.netloom.output()[-6000:])

    def curl_download(self, url: str, *args: str, timeout: float = 90) -> tuple:
        """curl in the namespace saving `url`'s body: (http code, the body's sha256 hex,
        seconds taken, curl's average bytes/s); fails when curl does."""
        out = os.path.join(self.tmp, "download.out")
        start = time.monotonic()
        p = self.ns.run("curl", "-sS", "--max-time", str(timeout), "-o", out, "-w",
                        "%{http_code} %{speed_download}", *args, url, check=False,
                        timeout=timeout + 30)
        seconds = time.monotonic() - start
        self.assertEqual(p.returncode, 0, p.stderr + self.netloom.output()[-3000:])
        code, speed = p.stdout.split()
        with open(out, "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()
        os.remove(out)
        return int(code), digest, seconds, float(speed)


def read_report(test: unittest.TestCase, path: str, netloom: "Netloom" = None) -> dict:
    """The JSON report a tcp_bulk app wrote when it finished."""
    if not os.path.exists(path):
        test.fail(f"no report at {path}" + ("; netloom's log:\n" + netloom.output()[-10000:]
                                            if netloom else ""))
    with open(path) as f:
        return json.load(f)
