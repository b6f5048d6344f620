#!/usr/bin/env python3
"""Floods against netloom over TAP (as root, in a throw-away namespace), once per TCP engine.

One netloom run (TAP, kernel side 10.73.0.1/24, netloom 10.73.0.2/24 with the kernel as its
gateway) serves `http` (port 80, max_connections 32, idle_timeout 2 s), `echo` (port 7,
max_connections 16, idle_timeout 2 s) and an `iperf3` server. Flood frames are built once in
Python and written through an AF_PACKET socket on the kernel side of the TAP link (Scapy's
per-packet send is far too slow); their sources are spoofed from 198.18.0.0/15, so netloom's
answers go to the gateway, which does not forward them. After a warm-up (curl, iperf3) the idle
VmRSS is read; then, per flood, the clients run *during* it and their latencies are printed:
- SYN flood: FLOOD_SYNS (10^5) distinct SYNs to port 80 at the highest rate this host sends;
  curl and iperf3 must still be served (SYN cookies: syn_cookies_sent grows).
- ACK flood: random ACKs to the listening port (answered by RST, counted) and to the tuples of
  established idle connections (challenge ACKs within the budget); those connections still echo.
- fragment flood: first fragments of FLOOD_SYNS UDP datagrams that never complete; reassembly
  memory stays within its bound (reasm_bytes_peak) and drops are counted.
After every flood netloom's peak RSS (VmHWM) must be within 16 MiB of the idle VmRSS.
- slot exhaustion: idle Linux sockets beyond http's / echo's max_connections are reset
  (connections_refused), a new client is refused while the slots are held, and is served once
  the idle ones are cut by idle_timeout (timeouts).
NETLOOM_FLOOD_SCALE=N multiplies the flood sizes (default 1; CI keeps it at 1)."""
import argparse
import os
import random
import socket
import struct
import sys
import threading
import time
import unittest

from netns import (Background, OneServerOnTap, counter, require_plugins, require_root, run_tests,
                   tcp_config, wait_for)

ARGS = None
TAP = "nlflood0"
LINUX = "10.73.0.1"
NETLOOM = "10.73.0.2"
NETLOOM_MAC = "02:00:00:00:73:02"
LIMIT = 900  # run.duration: a hang guard; the test stops netloom with SIGINT
SCALE = max(1, int(os.environ.get("NETLOOM_FLOOD_SCALE", "1")))
FLOOD_SYNS = 100_000 * SCALE
RSS_SLACK = 16 << 20
HTTP_MAX, ECHO_MAX, IDLE = 32, 16, 5
FIGURES = []
TCP = "main/tcp"


# --- Frames ---------------------------------------------------------------------------------

def ones_sum(data: bytes, start: int = 0) -> int:
    if len(data) % 2:
        data += b"\0"
    total = start + sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return total


def checksum(data: bytes, start: int = 0) -> int:
    return ~ones_sum(data, start) & 0xFFFF


def ethernet(dst_mac: bytes, src_mac: bytes) -> bytes:
    return dst_mac + src_mac + b"\x08\x00"


def ipv4_header(src: bytes, dst: bytes, protocol: int, payload_len: int, ident: int,
                flags_fragment: int = 0) -> bytes:
    header = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + payload_len, ident, flags_fragment, 64,
                         protocol, 0, src, dst)
    return header[:10] + struct.pack("!H", checksum(header)) + header[12:]


def tcp_frame(eth: bytes, src: bytes, dst: bytes, sport: int, dport: int, seq: int, ack: int,
              flags: int, options: bytes = b"") -> bytes:
    offset = (20 + len(options)) // 4
    segment = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, offset << 4, flags, 65535, 0,
                          0) + options
    pseudo = src + dst + struct.pack("!BBH", 0, 6, len(segment))
    segment = segment[:16] + struct.pack("!H", checksum(pseudo + segment)) + segment[18:]
    return eth + ipv4_header(src, dst, 6, len(segment), random.getrandbits(16)) + segment


def spoofed_source(rng) -> bytes:
    return bytes([198, 18 + rng.getrandbits(1), rng.getrandbits(8), 1 + rng.randrange(254)])


def syn_frames(eth, dst, count, rng):
    mss = b"\x02\x04\x05\xb4"
    return [tcp_frame(eth, spoofed_source(rng), dst, 1024 + rng.randrange(64000), 80,
                      rng.getrandbits(32), 0, 0x02, mss) for _ in range(count)]


def ack_frames(eth, dst, count, rng, tuples):
    """Half to the listening port from spoofed sources, half to `tuples` (established, as
    (linux address, linux port, netloom port)) with random sequence and acknowledgment numbers."""
    frames = []
    for i in range(count):
        if i % 2 == 0 or not tuples:
            src, sport, dport = spoofed_source(rng), 1024 + rng.randrange(64000), 80
        else:
            address, sport, dport = tuples[i % len(tuples)]
            src = socket.inet_aton(address)
        frames.append(tcp_frame(eth, src, dst, sport, dport, rng.getrandbits(32),
                                rng.getrandbits(32), 0x10))
    return frames


def fragment_frames(eth, dst, count, rng):
    """First fragments (MF set, offset 0) of UDP datagrams whose rest never comes."""
    payload = bytes(1000)
    frames = []
    for _ in range(count):
        header = ipv4_header(spoofed_source(rng), dst, 17, len(payload), rng.getrandbits(16),
                             0x2000)
        frames.append(eth + header + payload)
    return frames


class Flooder:
    """Writes `frames` (in order, round after round) through an AF_PACKET socket on the TAP's
    kernel side until at least `minimum` are sent and stop() was called; reports the rate."""

    def __init__(self, ns, frames, minimum):
        with ns.entered():
            self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
        self.sock.bind((TAP, 0))
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
        self.frames, self.minimum = frames, minimum
        self.sent = self.refused = 0
        self.stopping = threading.Event()
        self.done = threading.Event()
        self.task = Background(self._run)

    def _run(self):
        start = time.monotonic()
        send = self.sock.send
        try:
            while self.sent < self.minimum or not self.stopping.is_set():
                for frame in self.frames:
                    try:
                        send(frame)
                        self.sent += 1
                    except OSError:  # ENOBUFS: the link's queue is full; count and go on
                        self.refused += 1
                if self.sent >= self.minimum:
                    self.done.set()
        finally:
            self.done.set()
            self.seconds = time.monotonic() - start
            self.sock.close()

    def stop(self, timeout=120):
        self.stopping.set()
        self.task.result(timeout)
        return self.sent, self.sent / self.seconds


def rss(pid: int) -> dict:
    values = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(("VmRSS:", "VmHWM:")):
                name, value, _ = line.split()
                values[name[:-1]] = int(value) * 1024
    return values


def median(values):
    values = sorted(values)
    return values[len(values) // 2] if values else float("nan")


class Floods(OneServerOnTap):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.root = os.path.join(cls.tmp, "www")
        os.mkdir(cls.root)
        with open(os.path.join(cls.root, "index.html"), "w") as f:
            f.write("<h1>netloom</h1>\n")
        cls.idle_rss = None
        cls.rng = random.Random(15)

    def setUp(self):
        require_root(self, "curl", "iperf3")
        require_plugins(self, ARGS.netloom, ARGS.engine, "http", "echo", "iperf3", "ipv4", "tap")
        self.start_server(netloom=ARGS.netloom, prefix="nlfl", tap=TAP, linux_cidr=LINUX + "/24",
                          name="floods", config=lambda: tcp_config(
                              engine=ARGS.engine, tap=TAP, mac=NETLOOM_MAC,
                              address=NETLOOM + "/24", limit=LIMIT,
                              ip_keys={"gateway": LINUX},
                              apps=[{"use": "http", "port": 80, "root": self.root,
                                     "max_connections": HTTP_MAX, "idle_timeout": f"{IDLE}s"},
                                    {"use": "echo", "role": "server", "port": 7,
                                     "max_connections": ECHO_MAX, "idle_timeout": f"{IDLE}s"},
                                    {"use": "iperf3", "role": "server", "port": 5201},
                                    # The ACK flood's established targets: no short timeout.
                                    {"use": "echo", "role": "server", "port": 9}]))
        if self.idle_rss is None:
            self.warm_up()
        self.eth = ethernet(bytes.fromhex(NETLOOM_MAC.replace(":", "")),
                            bytes.fromhex("020000007301"))
        self.dst = socket.inet_aton(NETLOOM)

    # --- Clients --------------------------------------------------------------------------

    def curl_once(self):
        """(connect seconds, total seconds) of one GET of /index.html, or None if it failed."""
        p = self.ns.run("curl", "-sS", "-o", "/dev/null", "--max-time", "10", "-w",
                        "%{http_code} %{time_connect} %{time_total}",
                        f"http://{NETLOOM}/index.html", check=False, timeout=40)
        if p.returncode != 0:
            return None
        code, connect, total = p.stdout.split()
        return (float(connect), float(total)) if code == "200" else None

    def curl_series(self, count):
        results = [self.curl_once() for _ in range(count)]
        served = [r for r in results if r is not None]
        self.assertEqual(len(served), count, f"curl failed {count - len(served)} time(s)\n" +
                         self.netloom.output()[-3000:])
        return median([r[0] for r in served]), median([r[1] for r in served])

    def iperf3_once(self, seconds=1):
        p = self.ns.run("iperf3", "-c", NETLOOM, "-t", str(seconds), "-J", "--connect-timeout",
                        "5000", check=False, timeout=seconds + 60)
        self.assertEqual(p.returncode, 0, p.stdout[-2000:] + p.stderr)
        import json
        return json.loads(p.stdout)["end"]["sum_received"]["bits_per_second"] / 1e9

    def warm_up(self):
        """The idle RSS, read after every path (http, iperf3) ran once."""
        cls = type(self)
        cls.before = {"curl": self.curl_series(5), "iperf3": self.iperf3_once()}
        wait_for(lambda: counter(self.netloom.stats(), "main/app0/http",
                                 "connections_current") == 0, 20, "curl's connection to end")
        cls.idle_rss = rss(self.netloom.process.pid)["VmRSS"]
        FIGURES.append(f"idle VmRSS {cls.idle_rss / 2**20:.1f} MiB; before floods: curl connect "
                       f"{cls.before['curl'][0] * 1000:.2f} ms, total "
                       f"{cls.before['curl'][1] * 1000:.2f} ms (median of 5); iperf3 "
                       f"{cls.before['iperf3']:.2f} Gbit/s")

    def link_tx_dropped(self):
        """Frames the kernel side of the TAP link dropped (netloom did not read them in time)."""
        import json
        p = self.ns.run("ip", "-s", "-j", "link", "show", "dev", TAP)
        return json.loads(p.stdout)[0]["stats64"]["tx"]["dropped"]

    def during(self, name, frames, check_counters, extra_client=None):
        """Runs the flood, the clients during it, then checks RSS and the counters."""
        before = self.netloom.stats()
        dropped_before = self.link_tx_dropped()
        flood = Flooder(self.ns, frames, FLOOD_SYNS)
        curl = self.curl_series(5)
        gbit = self.iperf3_once()
        if extra_client:
            extra_client()
        wait_for(flood.done.is_set, 300, f"the {name} flood to send {FLOOD_SYNS} frames")
        sent, rate = flood.stop()
        memory = rss(self.netloom.process.pid)
        after = self.netloom.stats()
        dropped = self.link_tx_dropped() - dropped_before
        received = counter(after, "main/ip", "ipv4_rx") - counter(before, "main/ip", "ipv4_rx")
        FIGURES.append(f"{name}: {sent} frames at {rate / 1000:.0f} kframes/s "
                       f"({flood.refused} refused by the socket, {dropped} dropped by the link "
                       f"unread, netloom took {received} datagrams); during it curl connect "
                       f"{curl[0] * 1000:.2f} ms, total {curl[1] * 1000:.2f} ms (median of 5), "
                       f"iperf3 {gbit:.2f} Gbit/s; VmRSS {memory['VmRSS'] / 2**20:.1f} MiB, "
                       f"peak {memory['VmHWM'] / 2**20:.1f} MiB")
        self.assertLessEqual(memory["VmHWM"], self.idle_rss + RSS_SLACK,
                             f"{name}: peak RSS more than 16 MiB over idle")
        delta = lambda component, name: (counter(after, component, name) -
                                         counter(before, component, name))
        check_counters(delta)

    # --- Floods ---------------------------------------------------------------------------

    def test_a_syn_flood(self):
        frames = syn_frames(self.eth, self.dst, FLOOD_SYNS, self.rng)

        def check(delta):
            self.assertGreater(delta(TCP, "syn_cookies_sent"), 0, "no SYN cookie sent")
            self.assertGreaterEqual(delta("main/app0/http", "responses_2xx"), 5)

        self.during("SYN flood", frames, check)

    def test_b_ack_flood(self):
        with self.ns.entered():
            idle = [socket.create_connection((NETLOOM, 9), timeout=10) for _ in range(4)]
        try:
            tuples = [(LINUX, s.getsockname()[1], 9) for s in idle]
            frames = ack_frames(self.eth, self.dst, FLOOD_SYNS, self.rng, tuples)

            def still_echo():
                for s in idle:
                    s.sendall(b"y")
                    self.assertEqual(s.recv(1), b"y")

            def check(delta):
                self.assertGreater(delta(TCP, "rst_sent"), 0, "no RST for ACKs to the listener")
                self.assertGreater(delta(TCP, "syn_cookies_rejected") +
                                   delta(TCP, "rst_sent"), FLOOD_SYNS // 4)

            self.during("ACK flood", frames, check, still_echo)
        finally:
            for s in idle:
                s.close()

    def test_c_fragment_flood(self):
        frames = fragment_frames(self.eth, self.dst, FLOOD_SYNS, self.rng)

        def check(delta):
            self.assertGreater(delta("main/ip", "reasm_drop_memory"), 0,
                               "reassembly never had to drop for memory")
            stats = self.netloom.stats()
            self.assertLessEqual(counter(stats, "main/ip", "reasm_bytes_peak"), 1 << 20)

        self.during("fragment flood", frames, check)

    # --- Slots ----------------------------------------------------------------------------

    def exhaust(self, port, bound, component, client):
        """`bound` + 8 idle sockets on `port`: 8 reset at once, `client` refused while the
        others hold their slots, and served once idle_timeout cut them."""
        before = self.netloom.stats()
        idle = []
        with self.ns.entered():
            for _ in range(bound + 8):
                try:
                    idle.append(socket.create_connection((NETLOOM, port), timeout=10))
                except ConnectionResetError:
                    pass  # reset over the bound before connect() returned: refused too
        try:
            stats = wait_for(lambda: (lambda s: s if counter(s, component, "connections_refused")
                                      - counter(before, component, "connections_refused") >= 8
                                      else None)(self.netloom.stats()), 20,
                             f"{component} to refuse the connections over max_connections")
            self.assertEqual(counter(stats, component, "connections_current"), bound)
            self.assertFalse(client(), "a new client was served while every slot was held")
            start = time.monotonic()
            for s in idle:
                s.settimeout(IDLE + 20)
                try:
                    s.recv(1)  # b"": cut by idle_timeout; a reset for those refused
                except ConnectionResetError:
                    pass
                s.close()  # as a client does at EOF: the server holds the slot until then
            cut = time.monotonic() - start
            wait_for(lambda: counter(self.netloom.stats(), component, "connections_current")
                     == 0, 20, f"{component}'s slots to be free")
            self.assertTrue(client(), "no client served after the idle ones timed out")
            after = self.netloom.stats()
            self.assertGreaterEqual(counter(after, component, "timeouts") -
                                    counter(before, component, "timeouts"), bound)
            FIGURES.append(f"slots ({component}): {bound + 8} idle sockets, "
                           f"{counter(after, component, 'connections_refused') - counter(before, component, 'connections_refused')} "
                           f"refused, the rest cut {cut:.1f} s later; a new client then served")
        finally:
            for s in idle:
                s.close()

    def test_d_idle_clients_http(self):
        self.exhaust(80, HTTP_MAX, "main/app0/http", lambda: self.curl_once() is not None)

    def test_e_idle_clients_echo(self):
        def echo_client():
            try:
                with self.ns.entered():
                    s = socket.create_connection((NETLOOM, 7), timeout=5)
                with s:
                    s.sendall(b"z")
                    return s.recv(1) == b"z"
            except OSError:
                return False

        self.exhaust(7, ECHO_MAX, "main/app1/echo", echo_client)


def tearDownModule():
    for line in FIGURES:
        print(f"\nfloods ({ARGS.engine}): {line}", file=sys.stderr)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--netloom", required=True)
    parser.add_argument("--engine", default="tcp_utcp")
    ARGS, rest = parser.parse_known_args()
    started = time.monotonic()
    code = run_tests(rest)
    print(f"\nfloods ({ARGS.engine}): {time.monotonic() - started:.0f} s wall", file=sys.stderr)
    sys.exit(code)
