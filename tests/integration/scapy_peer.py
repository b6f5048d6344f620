"""Scapy plumbing shared by the hostile-peer tests (test_tcp_hostile*.py).

netloom runs on a TAP link (kernel side 10.73.0.1/16, netloom 10.73.0.2) in a throw-away
namespace. Scapy, inside the namespace, plays hosts the kernel knows nothing about (10.73.0.50
and others, with their own MACs, announced to netloom by ARP), so the kernel never answers
netloom's segments for them and Scapy alone drives those connections, sequence numbers
included; a sniffer records every TCP segment netloom sends (and answers its ARP requests for
those hosts). A Linux socket client in the namespace is the "real client" each case ends with.

Contract: a test file subclasses `HostileBase`, sets the class attributes (namespace prefix,
apps, engine keys), and calls `self.run_attack(body)` from its single test method; one netloom
run serves every case of the file. `body` calls `self.case(name, rfc, expected, function)` for
each crafted situation: the function asserts the behaviour, then a Linux client's sha256-checked
echo must succeed; the case table (one line per case, with the result) is printed at the end.
`Peer` drives one connection segment by segment. Waits are for a segment or a counter, with a
timeout, never a sleep.
"""
import collections
import hashlib
import importlib.util
import json
import os
import random
import socket
import sys
import tempfile
import threading
import time
import unittest

# Debian's python3-scapy is installed for /usr/bin/python3; another python3 first on PATH
# (pyenv, a venv) may lack it: run the test file with the system interpreter then.
if (importlib.util.find_spec("scapy") is None and os.path.exists("/usr/bin/python3")
        and os.path.realpath(sys.executable) != os.path.realpath("/usr/bin/python3")
        and not os.environ.get("NETLOOM_TEST_REEXEC")):
    os.environ["NETLOOM_TEST_REEXEC"] = "1"
    os.execv("/usr/bin/python3", ["/usr/bin/python3", *sys.argv])

from netns import (Background, Namespace, Netloom, receive_all, require_plugins,  # noqa: E402
                   require_root, skip, tcp_config, tshark_readable, wait_for)

ARGS = None  # the test file's parsed arguments (netloom, engine); set by its __main__
LINUX = "10.73.0.1"
NETLOOM = "10.73.0.2"
NETLOOM_MAC = "02:00:00:00:73:02"
PEER = "10.73.0.50"  # the host Scapy plays
PEER_MAC = "02:00:00:00:73:50"
ECHO_PORT = 7
FIN, SYN, RST, PSH, ACK, URG = 0x01, 0x02, 0x04, 0x08, 0x10, 0x20
WRAP = 1 << 32
SO_RCVBUFFORCE = 33  # socket.h: SO_RCVBUF past net.core.rmem_max (root)

Seen = collections.namedtuple("Seen", "index src dst sport dport seq ack flags payload kinds "
                                      "window options time")


def seq_add(a, b):
    return (a + b) % WRAP


def seq_lt(a, b):
    return 0 < (b - a) % WRAP < (1 << 31)


def parse_args():
    """--netloom, --engine; the rest goes to unittest."""
    import argparse
    parser = argparse.ArgumentParser()
    parser.add_argument("--netloom", required=True)
    parser.add_argument("--engine", default="tcp_utcp")
    global ARGS
    ARGS, rest = parser.parse_known_args()
    return rest


class HostileBase(unittest.TestCase):
    NS_PREFIX = "nlth"
    TAP = "nlhtcp0"
    APPS = [{"use": "echo", "role": "server", "port": ECHO_PORT}]
    TCP_KEYS = {}
    PLUGINS = ("echo",)
    LIMIT = 300  # run.duration, a hang guard
    FAKE_HOSTS = {}  # more hosts Scapy plays: ip -> mac (ARP answered for them)
    PCAP = True

    def setUp(self):
        require_root(self, "ping", "tshark")
        if importlib.util.find_spec("scapy") is None:
            skip(self, "tool", "needs Scapy (python3-scapy; run scripts/setup.sh)")
        require_plugins(self, ARGS.netloom, ARGS.engine, "ipv4", "tap", "pcap", *self.PLUGINS)

    def prepare(self, tmp):
        """Hook: files the apps need, written before netloom starts."""

    def run_attack(self, body):
        start = time.monotonic()
        self.cases = []
        with Namespace(self.NS_PREFIX) as ns, tempfile.TemporaryDirectory() as tmp:
            os.chmod(tmp, 0o755)
            ns.add_tap(self.TAP, LINUX + "/16")
            ns.run("ip", "link", "set", self.TAP, "txqueuelen", "10000")
            self.tmp = tmp
            self.prepare(tmp)
            pcap = os.path.join(tmp, "hostile.pcap") if self.PCAP else None
            config = os.path.join(tmp, "hostile.yaml")
            with open(config, "w") as f:
                f.write(tcp_config(engine=ARGS.engine, tap=self.TAP, mac=NETLOOM_MAC,
                                   address=NETLOOM + "/16", apps=self.APPS, limit=self.LIMIT,
                                   pcap=pcap, log_level="warn", tcp_keys=self.TCP_KEYS))
            self.ns = ns
            self.missing_counters = []
            self.netloom = Netloom(ns, ARGS.netloom, config, tmp, "hostile")
            self.netloom.wait_running()
            if not self.netloom.alive():
                self.fail("netloom exited early:\n" + self.netloom.output())
            try:
                with ns.entered():
                    # Imported inside the namespace: Scapy reads the interfaces of the namespace
                    # it is imported in.
                    from scapy.all import conf
                    self.l2 = conf.L2socket(iface=self.TAP)
                    self.l2_replies = conf.L2socket(iface=self.TAP)
                    try:
                        self.start_watching()
                        try:
                            self.announce(PEER, PEER_MAC)
                            for ip, mac in self.FAKE_HOSTS.items():
                                self.announce(ip, mac)
                            self.sync()
                            body()
                        finally:
                            self.sniffer.stop()
                            self.capture.close()
                    finally:
                        self.l2.close()
                        self.l2_replies.close()
            except BaseException:
                self.netloom.stop()
                print(self.netloom.output()[-20000:], file=sys.stderr)
                raise
            finally:
                self.print_case_table()
            self.assertTrue(self.netloom.alive(), "netloom died:\n" + self.netloom.output())
            code, stats = self.netloom.stop()
            self.assertEqual(code, 0, self.netloom.output()[-20000:])
            print(json.dumps(stats.get("main/tcp"), indent=1, sort_keys=True), file=sys.stderr)
            if pcap:
                tshark_readable(self, pcap)
            self.assertEqual(self.missing_counters, [],
                             "counters the engine should report but does not")
        print(f"{type(self).__name__}[{ARGS.engine}]: {len(self.cases)} cases, "
              f"{time.monotonic() - start:.1f} s", file=sys.stderr)

    # --- cases -----------------------------------------------------------------------------

    def case(self, name, rfc, expected, function, linux_check=True):
        """One crafted situation: `function()` asserts `expected` (the rule of `rfc`); then a
        Linux client must still get a sha256-checked echo. Recorded for the case table.
        NETLOOM_HOSTILE_ONLY=text runs only the cases whose name contains text (debugging)."""
        only = os.environ.get("NETLOOM_HOSTILE_ONLY")
        if only and only not in name:
            return
        result = "pass"
        with self.subTest(name):
            try:
                outcome = function()  # a string says which of the allowed behaviours it was
                if isinstance(outcome, str):
                    result = f"pass ({outcome})"
                if linux_check:
                    self.linux_echo(4096)
            except BaseException as e:
                result = "FAIL: " + str(e).splitlines()[0][:100] if str(e) else "FAIL"
                raise
            finally:
                self.cases.append((name, rfc, expected, result))

    def print_case_table(self):
        if not self.cases:
            return
        print(f"\ncase table [{ARGS.engine}] ({len(self.cases)} cases):", file=sys.stderr)
        for name, rfc, expected, result in self.cases:
            print(f"CASE | {name} | {rfc} | {expected} | {result}", file=sys.stderr)

    # --- plumbing --------------------------------------------------------------------------

    def tcp_stats(self):
        return self.netloom.stats()["main/tcp"]

    def delta(self, before, after, *names):
        """after - before of the first of `names` the engine reports; None (and noted) when it
        reports none of them, so the behaviour checks still run."""
        for name in names:
            if name in after:
                return after[name] - before.get(name, 0)
        if names[0] not in self.missing_counters:
            self.missing_counters.append(names[0])
        return None

    def expect_counted(self, before, after, at_least, *names):
        d = self.delta(before, after, *names)
        if d is not None:
            self.assertGreaterEqual(d, at_least, f"{names[0]}: {before.get(names[0])} -> "
                                                 f"{after.get(names[0])}")

    def ping(self):
        p = self.ns.run("ping", "-n", "-q", "-c", "1", "-W", "2", NETLOOM, check=False, timeout=10)
        return p.returncode == 0

    def sync(self, sniffed=True):
        """Returns once netloom has taken in every frame sent so far and (`sniffed`) the sniffer
        has seen all it sent in answer: the TAP is one queue, netloom answers what it took in,
        in order, before the ping, and the sniffer sees the ping's reply after those answers.
        (A flood, whose answers the sniffer cannot keep up with, passes sniffed=False.)"""
        replies = self.ping_replies
        wait_for(self.ping, 30, "netloom to answer a ping", interval=0)
        if sniffed:
            wait_for(lambda: self.ping_replies > replies, 10, "the sniffer to see the ping reply")

    def send(self, *frames):
        for frame in frames:
            self.l2.send(frame)

    def frame(self, src=PEER, src_mac=PEER_MAC):
        from scapy.all import IP, Ether
        return Ether(src=src_mac, dst=NETLOOM_MAC) / IP(src=src, dst=NETLOOM)

    def segment(self, sport, dport=ECHO_PORT, seq=0, ack=0, flags=ACK, payload=b"",
                window=65535, options=None, src=PEER, src_mac=PEER_MAC, **tcp_fields):
        from scapy.all import TCP, Raw
        tcp = TCP(sport=sport, dport=dport, seq=seq, ack=ack, flags=flags, window=window,
                  options=options or [], **tcp_fields)
        packet = self.frame(src, src_mac) / tcp
        if payload:
            packet = packet / Raw(payload)
        return packet

    def raw_options_segment(self, sport, option_bytes, payload=b"", dport=ECHO_PORT, seq=0,
                            ack=0, flags=SYN, window=65535, **fields):
        """A segment whose options are `option_bytes` written as they are (padded to 4 bytes
        with EOL): Scapy refuses to build malformed options itself."""
        from scapy.all import TCP, Raw
        padded = option_bytes + b"\x00" * (-len(option_bytes) % 4)
        return (self.frame() / TCP(sport=sport, dport=dport, seq=seq, ack=ack, flags=flags,
                                   window=window, dataofs=5 + len(padded) // 4, **fields) /
                Raw(padded + payload))

    def with_bad_checksum(self, packet):
        from scapy.all import TCP, Ether
        good = Ether(bytes(packet))[TCP].chksum
        packet = packet.copy()
        packet[TCP].chksum = good ^ 0x0F0F
        return packet

    def announce(self, ip, mac):
        """An ARP request for netloom from `ip`: netloom learns `ip` -> `mac` (RFC 826)."""
        from scapy.all import ARP, Ether
        self.send(Ether(src=mac, dst="ff:ff:ff:ff:ff:ff") /
                  ARP(op=1, hwsrc=mac, psrc=ip, pdst=NETLOOM))

    # --- watching netloom ------------------------------------------------------------------

    def start_watching(self):
        from scapy.all import ARP, ICMP, TCP, AsyncSniffer, Ether, IP, conf
        self.seen = []
        self.ping_replies = 0
        self.seen_lock = threading.Lock()
        fake = {PEER: PEER_MAC, **self.FAKE_HOSTS}
        started = threading.Event()

        def on_frame(p):
            if p.haslayer(ARP) and p[ARP].op == 1 and p[ARP].pdst in fake:
                mac = fake[p[ARP].pdst]
                self.l2_replies.send(Ether(src=mac, dst=p[ARP].hwsrc) /
                                     ARP(op=2, hwsrc=mac, psrc=p[ARP].pdst, hwdst=p[ARP].hwsrc,
                                         pdst=p[ARP].psrc))
            elif p.haslayer(ICMP) and p[ICMP].type == 0:
                self.ping_replies += 1
            elif p.haslayer(TCP) and p.haslayer(IP):
                t = p[TCP]
                kinds = [o[0] for o in t.options]
                with self.seen_lock:
                    self.seen.append(Seen(len(self.seen), p[IP].src, p[IP].dst, t.sport, t.dport,
                                          t.seq, t.ack, int(t.flags), bytes(t.payload), kinds,
                                          t.window, list(t.options), time.monotonic()))

        # The capture socket also sees every frame Scapy sends (bursts of hundreds): with the
        # default 208 KiB buffer a lagging sniffer thread would lose netloom's answers.
        self.capture = conf.L2listen(iface=self.TAP)
        self.capture.ins.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 64 << 20)
        self.sniffer = AsyncSniffer(opened_socket=self.capture, store=False,
                                    started_callback=started.set,
                                    lfilter=lambda p: p.haslayer(Ether) and
                                    p[Ether].src == NETLOOM_MAC, prn=on_frame)
        self.sniffer.start()
        wait_for(started.is_set, 10, "the capture to start")

    def seen_since(self, mark, dport=None):
        with self.seen_lock:
            return [s for s in self.seen[mark:] if dport is None or s.dport == dport]

    def mark(self):
        with self.seen_lock:
            return len(self.seen)

    def wait_seen(self, mark, what, predicate, timeout=10):
        return wait_for(lambda: [s for s in self.seen_since(mark) if predicate(s)], timeout, what)

    def fresh_port(self):
        """A source port not used before in this run (so no old segment matches it)."""
        self._port = getattr(self, "_port", 20000) + 1
        return self._port

    # --- Linux clients ---------------------------------------------------------------------

    def linux_echo(self, size, port=ECHO_PORT):
        """A Linux client sends `size` bytes, half-closes, reads the whole echo and EOF."""
        with self.ns.entered():
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        payload = os.urandom(size)
        with sock:
            sock.settimeout(30)
            sock.connect((NETLOOM, port))

            def send_then_shut():
                sock.sendall(payload)
                sock.shutdown(socket.SHUT_WR)

            sender = Background(send_then_shut)
            count, sha, _ = receive_all(sock)
            sender.result(30)
        self.assertEqual((count, sha), (size, hashlib.sha256(payload).hexdigest()),
                         "a Linux client's echo failed after the case")


class Peer:
    """A connection from PEER:sport to netloom's port `dport`, driven segment by segment.
    `timestamps`: offer TSopt (RFC 7323 3) and, once netloom agrees, put one on every segment
    (TSval counting up, TSecr echoing netloom's latest)."""

    def __init__(self, test, sport=None, isn=None, dport=ECHO_PORT, window=65535):
        self.t = test
        self.sport = sport or test.fresh_port()
        self.isn = random.getrandbits(32) if isn is None else isn
        self.dport = dport
        self.window = window
        self.snd_nxt = seq_add(self.isn, 1)
        self.sent = bytearray()  # every byte netloom accepted, in order
        self.tsval = None  # our clock when timestamps are on
        self.ts_recent = 0

    def syn(self, options=None, **fields):
        return self.t.segment(self.sport, dport=self.dport, seq=self.isn, flags=SYN,
                              window=self.window,
                              options=[("MSS", 1460)] if options is None else options, **fields)

    def open(self, options=None, complete=True):
        """SYN with `options` (MSS 1460 when None), the SYN-ACK, and (complete) the ACK."""
        t = self.t
        mark = t.mark()
        t.send(self.syn(options))
        self.synack = t.wait_seen(mark, f"netloom's SYN-ACK to port {self.sport}",
                                  lambda s: s.dport == self.sport and s.flags & (SYN | ACK) ==
                                  SYN | ACK)[0]
        t.assertEqual(self.synack.ack, self.snd_nxt, "the SYN-ACK acknowledges our SYN")
        offered = {o[0] for o in (options or [("MSS", 1460)])}
        # Options we did not offer never come back (RFC 7323 2.2, 3.2; RFC 2018 2).
        t.assertLessEqual(set(self.synack.kinds) - {"MSS", "NOP", "EOL"}, offered, self.synack)
        if "Timestamp" in self.synack.kinds:
            self.tsval = 1000
            self.ts_recent = dict(self.synack.options)["Timestamp"][0]
        self.irs = self.synack.seq
        self.rcv_nxt = seq_add(self.synack.seq, 1)
        if complete:
            t.send(self.ack_segment())
        return self

    def ts_option(self):
        self.tsval = (self.tsval + 1) % WRAP
        return [("Timestamp", (self.tsval, self.ts_recent))]

    def ack_segment(self, flags=ACK, seq=None, ack=None, payload=b"", options=None, **fields):
        if options is None and self.tsval is not None:
            options = self.ts_option()
        fields.setdefault("window", self.window)
        return self.t.segment(self.sport, dport=self.dport,
                              seq=self.snd_nxt if seq is None else seq,
                              ack=self.rcv_nxt if ack is None else ack, flags=flags,
                              payload=payload, options=options, **fields)

    def from_netloom(self, mark=0):
        return self.t.seen_since(mark, self.sport)

    def stream(self):
        """Bytes netloom sent on this connection, in sequence order, up to the first hole."""
        pieces = {}
        for s in self.from_netloom():
            if s.payload:
                pieces.setdefault((s.seq - self.irs - 1) % WRAP, s.payload)
        stream = bytearray()
        while True:
            extending = [p[len(stream) - o:] for o, p in pieces.items()
                         if o <= len(stream) < o + len(p)]
            if not extending:
                return bytes(stream)
            stream += max(extending, key=len)

    echo_stream = stream

    def send_data(self, payload, segment_size=None, expect_echo=True):
        """Sends `payload` in order; it must be echoed. Returns the mark before sending."""
        mark = self.t.mark()
        size = segment_size or len(payload)
        for i in range(0, len(payload), size):
            chunk = payload[i:i + size]
            self.t.send(self.ack_segment(flags=PSH | ACK, payload=chunk))
            self.snd_nxt = seq_add(self.snd_nxt, len(chunk))
        self.sent += payload
        if expect_echo:
            self.wait_echo()
        return mark

    def wait_echo(self, length=None, timeout=15):
        """Until netloom has sent `length` bytes (default: all we sent), ACKing as they come;
        the echo must equal what we sent."""
        want = len(self.sent) if length is None else length

        def echoed_all():
            # ACK what has come back, as a real peer would: with Nagle on (RFC 896) netloom
            # holds a small segment back until its previous data is acknowledged.
            self.ack_stream()
            return len(self.stream()) >= want

        wait_for(echoed_all, timeout, f"{want} bytes from netloom on port {self.sport}")
        echoed = self.stream()
        if length is None:
            self.t.assertEqual(echoed[:len(self.sent)], bytes(self.sent),
                               "the echo differs from the bytes netloom should have accepted")
        self.ack_stream(force=True)  # so netloom has nothing to retransmit
        return echoed

    def ack_stream(self, force=False):
        ack = seq_add(self.irs, 1 + len(self.stream()))
        if force or ack != self.rcv_nxt:
            self.rcv_nxt = ack
            self.t.send(self.ack_segment())

    def acks_of(self, mark, seq):
        """Data-less ACKs from netloom since `mark` acknowledging exactly `seq`."""
        return [s for s in self.from_netloom(mark)
                if s.flags & ACK and not s.flags & (SYN | RST | FIN) and not s.payload
                and s.ack == seq]

    def wait_ack(self, mark, seq, what, timeout=10):
        return self.t.wait_seen(mark, what, lambda s: s.dport == self.sport and s.flags & ACK
                                and not s.flags & (SYN | RST) and s.ack == seq, timeout)

    def resets(self, mark):
        return [s for s in self.from_netloom(mark) if s.flags & RST]

    def close_with_rst(self):
        self.t.send(self.ack_segment(flags=RST | ACK))
