#!/usr/bin/env python3
"""Hostile TCP segments against netloom's TCP engine (as root, in a throw-away namespace).

netloom runs on a TAP link (kernel side 10.73.0.1/24, netloom 10.73.0.2/24) with an echo
server on port 7 and small listen queues (backlog 16, syn_backlog 64, SYN cookies on). Scapy,
inside the namespace, plays hosts the kernel knows nothing about (10.73.0.50 and a few more, with
their own MACs, announced to netloom by ARP), so the kernel never answers netloom's segments for
them and Scapy alone drives those connections, sequence numbers included. Scapy also watches
what netloom sends (and answers its ARP requests for those hosts).

Against the listener: SYNs with a bad checksum, a data offset below 5 or past the segment, an
option of length 0 or running past the header, and SYN+FIN get no SYN-ACK and are counted; a SYN
or an ACK to a closed port gets the RST of RFC 9293 3.10.7.1. On an established connection:
a bad checksum, bad data offsets, an ACK of unsent data (an ACK back, RFC 9293 3.10.7.4),
out-of-window RST (silently dropped), an in-window RST that is not exact and a SYN in or out of
the window (challenge ACKs, RFC 5961 3.2 and 4.2), and out-of-window data (an ACK back) must each
leave the connection working: data sent after each is echoed, and the echo never contains the
bytes of a rejected segment. An exact RST ends it. A connection whose initial sequence number
is 1500 bytes short of 2^32 carries 3000 bytes across the wrap and closes cleanly. After all
that, a Linux client still gets its echo; and during a flood of 3000 SYNs from spoofed ports a
Linux client still connects, through a SYN cookie. The counters of the engine must show it all.
The capture is malformed on purpose: tshark only has to read it."""
import argparse
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
import unittest

# Debian's python3-scapy is installed for /usr/bin/python3; another python3 first on PATH
# (pyenv, a venv) may lack it: run this file with the system interpreter then.
if (importlib.util.find_spec("scapy") is None and os.path.exists("/usr/bin/python3")
        and os.path.realpath(sys.executable) != os.path.realpath("/usr/bin/python3")
        and not os.environ.get("NETLOOM_TEST_REEXEC")):
    os.environ["NETLOOM_TEST_REEXEC"] = "1"
    os.execv("/usr/bin/python3", ["/usr/bin/python3", *sys.argv])

from netns import (Background, Namespace, Netloom, receive_all, require_plugins, require_root,
                   run_tests, skip, tcp_config, tshark_readable, wait_for)

ARGS = None
TAP = "nlhtcp0"
LINUX = "10.73.0.1"
NETLOOM = "10.73.0.2"
NETLOOM_MAC = "02:00:00:00:73:02"
PEER = "10.73.0.50"  # the host Scapy plays
PEER_MAC = "02:00:00:00:73:50"
FLOODERS = [(f"10.73.1.{i}", f"02:00:00:01:73:{i:02x}") for i in range(1, 17)]
ECHO_PORT = 7
CLOSED_PORT = 9
BACKLOG = 16
SYN_BACKLOG = 64
FLOOD = 3000
BATCH = 250
LIMIT = 300  # run.duration, a hang guard
FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10
WRAP = 1 << 32

Seen = collections.namedtuple("Seen", "index src dst sport dport seq ack flags payload kinds")


def seq_add(a, b):
    return (a + b) % WRAP


class HostileTcp(unittest.TestCase):
    def setUp(self):
        require_root(self, "ping", "tshark")
        if importlib.util.find_spec("scapy") is None:
            skip(self, "tool", "needs Scapy (python3-scapy; run scripts/setup.sh)")
        require_plugins(self, ARGS.netloom, ARGS.engine, "echo", "ipv4", "tap", "pcap")

    def test_netloom_survives_hostile_segments(self):
        with Namespace("nlth") as ns, tempfile.TemporaryDirectory() as tmp:
            os.chmod(tmp, 0o755)
            ns.add_tap(TAP, LINUX + "/16")
            ns.run("ip", "link", "set", TAP, "txqueuelen", "10000")
            pcap = os.path.join(tmp, "hostile.pcap")
            config = os.path.join(tmp, "hostile.yaml")
            with open(config, "w") as f:
                f.write(tcp_config(
                    engine=ARGS.engine, tap=TAP, mac=NETLOOM_MAC, address=NETLOOM + "/16",
                    apps=[{"use": "echo", "role": "server", "port": ECHO_PORT}],
                    limit=LIMIT, pcap=pcap, log_level="warn",
                    tcp_keys={"backlog": BACKLOG, "syn_backlog": SYN_BACKLOG,
                              "syn_cookies": True}))
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
                    self.l2 = conf.L2socket(iface=TAP)
                    self.l2_replies = conf.L2socket(iface=TAP)
                    try:
                        self.attack()
                    finally:
                        self.l2.close()
                        self.l2_replies.close()
            except BaseException:
                self.netloom.stop()
                print(self.netloom.output()[-20000:], file=sys.stderr)
                raise
            self.assertTrue(self.netloom.alive(), "netloom died:\n" + self.netloom.output())
            code, stats = self.netloom.stop()
            self.assertEqual(code, 0, self.netloom.output()[-20000:])
            print(json.dumps(stats.get("main/tcp"), indent=1, sort_keys=True), file=sys.stderr)
            tshark_readable(self, pcap)
            self.assertEqual(self.missing_counters, [],
                             "counters the engine should report but does not")

    # --- plumbing ------------------------------------------------------------------------

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

    def sync(self):
        """Returns once netloom has taken in every frame sent so far (the TAP is one queue)."""
        wait_for(self.ping, 30, "netloom to answer a ping", interval=0)

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

    # --- watching netloom ----------------------------------------------------------------

    def start_watching(self):
        from scapy.all import ARP, TCP, AsyncSniffer, Ether, IP
        self.seen = []
        self.seen_lock = threading.Lock()
        fake = {PEER: PEER_MAC, **dict(FLOODERS)}
        started = threading.Event()

        def on_frame(p):
            if p.haslayer(ARP) and p[ARP].op == 1 and p[ARP].pdst in fake:
                mac = fake[p[ARP].pdst]
                self.l2_replies.send(Ether(src=mac, dst=p[ARP].hwsrc) /
                                     ARP(op=2, hwsrc=mac, psrc=p[ARP].pdst, hwdst=p[ARP].hwsrc,
                                         pdst=p[ARP].psrc))
            elif p.haslayer(TCP) and p.haslayer(IP):
                t = p[TCP]
                kinds = [o[0] for o in t.options]
                with self.seen_lock:
                    self.seen.append(Seen(len(self.seen), p[IP].src, p[IP].dst, t.sport, t.dport,
                                          t.seq, t.ack, int(t.flags), bytes(t.payload), kinds))

        self.sniffer = AsyncSniffer(iface=TAP, store=False, started_callback=started.set,
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

    # --- a connection Scapy drives -------------------------------------------------------

    class Peer:
        """A connection from PEER:sport to netloom's echo port, driven segment by segment."""

        def __init__(self, test, sport, isn):
            self.t, self.sport, self.isn = test, sport, isn
            self.snd_nxt = seq_add(isn, 1)
            self.sent = bytearray()  # every byte netloom accepted, in order

        def open(self):
            t = self.t
            mark = t.mark()
            t.send(t.segment(self.sport, seq=self.isn, flags=SYN, options=[("MSS", 1460)]))
            synack = t.wait_seen(mark, f"netloom's SYN-ACK to port {self.sport}",
                                 lambda s: s.dport == self.sport and s.flags & (SYN | ACK) ==
                                 SYN | ACK)[0]
            t.assertEqual(synack.ack, self.snd_nxt, "the SYN-ACK acknowledges our SYN")
            # Only MSS was offered: nothing else may come back (RFC 7323 2.2, 3.2; RFC 2018 2).
            t.assertLessEqual(set(synack.kinds), {"MSS", "NOP", "EOL"}, synack)
            self.irs = synack.seq
            self.rcv_nxt = seq_add(synack.seq, 1)
            t.send(self.ack_segment())

        def ack_segment(self, flags=ACK, seq=None, ack=None, payload=b"", **fields):
            return self.t.segment(self.sport, seq=self.snd_nxt if seq is None else seq,
                                  ack=self.rcv_nxt if ack is None else ack, flags=flags,
                                  payload=payload, **fields)

        def echo_stream(self):
            """Bytes netloom sent on this connection, in sequence order, up to the first hole."""
            pieces = {}
            for s in self.t.seen_since(0, self.sport):
                if s.payload:
                    pieces[(s.seq - self.irs - 1) % WRAP] = s.payload
            stream = bytearray()
            while True:
                extending = [p[len(stream) - o:] for o, p in pieces.items()
                             if o <= len(stream) < o + len(p)]
                if not extending:
                    return bytes(stream)
                stream += max(extending, key=len)

        def send_data(self, payload, segment_size=None):
            """Sends `payload` in order; it must be echoed. Returns the mark before sending."""
            mark = self.t.mark()
            size = segment_size or len(payload)
            for i in range(0, len(payload), size):
                chunk = payload[i:i + size]
                self.t.send(self.ack_segment(flags=PSH | ACK, payload=chunk))
                self.snd_nxt = seq_add(self.snd_nxt, len(chunk))
            self.sent += payload
            self.wait_echo()
            return mark

        def wait_echo(self):
            def echoed_all():
                # ACK what has come back, as a real peer would: with Nagle on (RFC 896) netloom
                # holds a small segment back until its previous data is acknowledged.
                ack = seq_add(self.irs, 1 + len(self.echo_stream()))
                if ack != self.rcv_nxt:
                    self.rcv_nxt = ack
                    self.t.send(self.ack_segment())
                return len(self.echo_stream()) >= len(self.sent)

            wait_for(echoed_all, 15, f"the echo of {len(self.sent)} bytes on port {self.sport}")
            echoed = self.echo_stream()
            self.t.assertEqual(echoed[:len(self.sent)], bytes(self.sent),
                               "the echo differs from the bytes netloom should have accepted")
            self.rcv_nxt = seq_add(self.irs, 1 + len(echoed))
            self.t.send(self.ack_segment())  # so netloom has nothing to retransmit

        def acks_of(self, mark, seq):
            """Data-less ACKs from netloom since `mark` acknowledging exactly `seq`."""
            return [s for s in self.t.seen_since(mark, self.sport)
                    if s.flags & ACK and not s.flags & (SYN | RST | FIN) and not s.payload
                    and s.ack == seq]

    # --- the attacks ---------------------------------------------------------------------

    def attack(self):
        self.start_watching()
        try:
            self.announce(PEER, PEER_MAC)
            self.sync()
            with self.subTest("malformed SYNs and SYN+FIN to the listener"):
                self.listener_attacks()
            with self.subTest("closed port"):
                self.closed_port()
            with self.subTest("hostile segments on an established connection"):
                self.established_attacks()
            with self.subTest("bad options on an established connection"):
                self.established_bad_options()
            with self.subTest("sequence numbers across 2^32"):
                self.sequence_wrap()
        finally:
            self.sniffer.stop()
        with self.subTest("a Linux client is still served"):
            self.linux_echo(256 * 1024)
        with self.subTest("SYN flood with a Linux client connecting meanwhile"):
            self.syn_flood()

    def listener_attacks(self):
        from scapy.all import Raw, TCP
        rng = random.Random(1)
        bad = {
            "bad checksum": self.with_bad_checksum(self.segment(41001, seq=rng.getrandbits(32),
                                                                flags=SYN)),
            "data offset 4": self.segment(41002, seq=rng.getrandbits(32), flags=SYN, dataofs=4),
            "data offset past the end": self.segment(41003, seq=rng.getrandbits(32), flags=SYN,
                                                     dataofs=15),
            # Options written as raw header bytes: Scapy refuses to build these.
            "option length 0": self.frame() / TCP(sport=41004, dport=ECHO_PORT, flags=SYN,
                                                  seq=rng.getrandbits(32), dataofs=6) /
                               Raw(b"\x02\x00\x05\xb4"),
            "option past the header": self.frame() / TCP(sport=41005, dport=ECHO_PORT, flags=SYN,
                                                         seq=rng.getrandbits(32), dataofs=6) /
                                      Raw(b"\x01\x01\x08\x0a"),
            "SYN+FIN": self.segment(41006, seq=rng.getrandbits(32), flags=SYN | FIN),
        }
        before = self.tcp_stats()
        mark = self.mark()
        self.send(*bad.values())
        # A good SYN after them: once it is answered, netloom has judged every bad one.
        marker = self.Peer(self, 41099, rng.getrandbits(32))
        marker.open()
        after = self.tcp_stats()
        answered = {s.dport for s in self.seen_since(mark) if s.flags & SYN}
        for (what, _), port in zip(bad.items(), range(41001, 41007)):
            with self.subTest(what):
                self.assertNotIn(port, answered, f"netloom answered a SYN with {what}")
        self.expect_counted(before, after, 1, "rx_bad_checksum")
        self.expect_counted(before, after, 2, "rx_malformed")  # the two data offsets
        self.expect_counted(before, after, 2, "rx_bad_options")
        self.expect_counted(before, after, 1, "rx_syn_fin")
        self.send(marker.ack_segment(flags=RST | ACK))

    def closed_port(self):
        before = self.tcp_stats()
        mark = self.mark()
        self.send(self.segment(42001, dport=CLOSED_PORT, seq=123456, flags=SYN))
        self.send(self.segment(42002, dport=CLOSED_PORT, seq=777, ack=987654, flags=ACK,
                               payload=b"anyone?"))
        # RFC 9293 3.10.7.1: no ACK in the segment: <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>
        # (a SYN counts for one); an ACK in it: <SEQ=SEG.ACK><CTL=RST>.
        rst1 = self.wait_seen(mark, "an RST for the SYN to a closed port",
                              lambda s: s.dport == 42001 and s.flags & RST)[0]
        self.assertEqual((rst1.seq, rst1.ack, rst1.flags & (RST | ACK)), (0, 123457, RST | ACK))
        rst2 = self.wait_seen(mark, "an RST for the ACK to a closed port",
                              lambda s: s.dport == 42002 and s.flags & RST)[0]
        self.assertEqual((rst2.seq, rst2.flags & (RST | ACK)), (987654, RST))
        # Exactly the two RSTs above: nothing else is going on.
        self.assertEqual(self.delta(before, self.tcp_stats(), "rst_sent"), 2)

    def established_attacks(self):
        peer = self.Peer(self, 43001, random.getrandbits(32))
        peer.open()
        peer.send_data(b"hello, netloom")

        def case(name, bad_frames, replies, counters=()):
            """Sends `bad_frames`, then good data; checks the echo, the ACKs netloom sent back
            for the bad frames (`replies`: 'none' or 'ack') and `counters` (name, at least)."""
            with self.subTest(name):
                before = self.tcp_stats()
                seq_before = peer.snd_nxt
                mark = self.mark()
                self.send(*bad_frames)
                peer.send_data(f"after {name}".encode())  # checks the echo too
                after = self.tcp_stats()
                acks = peer.acks_of(mark, seq_before)
                if replies == "none":
                    self.assertEqual(acks, [], f"netloom answered {name}")
                else:
                    self.assertGreaterEqual(len(acks), 1, f"no ACK from netloom for {name}")
                for counter_names, at_least in counters:
                    self.expect_counted(before, after, at_least, *counter_names)

        far = 1 << 30
        case("bad checksum",
             [self.with_bad_checksum(peer.ack_segment(flags=PSH | ACK, payload=b"BAD checksum"))],
             "none", [(("rx_bad_checksum",), 1)])
        case("data offset 4", [peer.ack_segment(flags=PSH | ACK, payload=b"BAD offset", dataofs=4)],
             "none", [(("rx_malformed",), 1)])
        case("data offset past the end",
             [peer.ack_segment(flags=PSH | ACK, payload=b"BAD", dataofs=15)], "none",
             [(("rx_malformed",), 1)])
        # RFC 9293 3.10.7.4 (and RFC 5961 5.2): SEG.ACK > SND.NXT: send an ACK, drop the segment.
        case("ACK of unsent data",
             [peer.ack_segment(flags=PSH | ACK, ack=seq_add(peer.rcv_nxt, 100000),
                               payload=b"BAD ack")], "ack", [(("rx_ack_unsent",), 1)])
        # RFC 5961 3.2: an RST outside the window is dropped silently...
        case("out-of-window RST",
             [peer.ack_segment(flags=RST | ACK, seq=seq_add(peer.snd_nxt, far))], "none",
             [(("rx_rst_ignored",), 1)])
        # ... one inside it but not at RCV.NXT gets a challenge ACK and changes nothing.
        case("in-window RST, not exact",
             [peer.ack_segment(flags=RST | ACK, seq=seq_add(peer.snd_nxt, 10))], "ack",
             [(("challenge_acks",), 1)])
        # RFC 5961 4.2: a SYN in a synchronized state gets a challenge ACK, wherever it is.
        case("SYN in the window", [peer.ack_segment(flags=SYN, ack=0)], "ack",
             [(("challenge_acks",), 1)])
        case("SYN out of the window", [peer.ack_segment(flags=SYN, seq=seq_add(peer.snd_nxt, far),
                                                        ack=0)], "ack",
             [(("challenge_acks",), 1)])
        # RFC 9293 3.10.7.4: an unacceptable segment gets an ACK and is dropped.
        case("out-of-window data",
             [peer.ack_segment(flags=PSH | ACK, seq=seq_add(peer.snd_nxt, far),
                               payload=b"BAD far away")], "ack",
             [(("rx_unacceptable", "rx_out_of_window"), 1)])
        case("data before the window",
             [peer.ack_segment(flags=PSH | ACK, seq=seq_add(peer.snd_nxt, -far),
                               payload=b"BAD long ago")], "ack", [])

        # An exact RST ends the connection; what comes after it on that 4-tuple meets a closed
        # port (RFC 9293 3.10.7.1).
        before = self.tcp_stats()
        self.send(peer.ack_segment(flags=RST | ACK))
        self.sync()
        after = self.tcp_stats()
        self.assertEqual(after["connections_current"], before["connections_current"] - 1,
                         "the exact RST did not end the connection")
        mark = self.mark()
        self.send(peer.ack_segment(flags=PSH | ACK, payload=b"still there?"))
        rst = self.wait_seen(mark, "an RST for data after the reset",
                             lambda s: s.dport == peer.sport and s.flags & RST)[0]
        self.assertEqual(rst.seq, peer.rcv_nxt)

    def established_bad_options(self):
        # RFC 9293 3.1 leaves the choice between ignoring the options and resetting; either
        # way the segment's data must not be taken and the event must be counted.
        from scapy.all import Raw, TCP
        for port, name, options in [(44001, "option length 0", b"\x08\x00\x01\x01"),
                                    (44002, "option past the header", b"\x01\x01\x08\x0a")]:
            with self.subTest(name):
                peer = self.Peer(self, port, random.getrandbits(32))
                peer.open()
                peer.send_data(b"before")
                before = self.tcp_stats()
                mark = self.mark()
                self.send(self.frame() / TCP(sport=peer.sport, dport=ECHO_PORT, seq=peer.snd_nxt,
                                             ack=peer.rcv_nxt, flags=PSH | ACK, window=65535,
                                             dataofs=6) / Raw(options + b"BAD options"))
                self.sync()
                self.expect_counted(before, self.tcp_stats(), 1, "rx_bad_options")
                reset = [s for s in self.seen_since(mark, peer.sport) if s.flags & RST]
                if reset:
                    self.assertNotIn(b"BAD", peer.echo_stream())
                else:
                    peer.send_data(b"after")  # the echo must not hold the rejected bytes
                    self.send(peer.ack_segment(flags=RST | ACK))

    def sequence_wrap(self):
        isn = WRAP - 1500
        peer = self.Peer(self, 45001, isn)
        peer.open()
        payload = hashlib.sha256(b"wrap").digest() * 94  # 3008 bytes
        mark = peer.send_data(payload, segment_size=1000)  # crosses 2^32 in the second segment
        final = seq_add(isn, 1 + len(payload))
        self.assertLess(final, 2000, "the test's sequence numbers did not wrap")
        acks = [s.ack for s in self.seen_since(mark, peer.sport) if s.flags & ACK]
        self.assertIn(final, acks, "netloom never acknowledged the last byte after the wrap")
        # Close from our side: netloom acknowledges the FIN, its echo server closes in turn.
        mark = self.mark()
        self.send(peer.ack_segment(flags=FIN | ACK))
        fin = self.wait_seen(mark, "netloom's FIN after ours",
                             lambda s: s.dport == peer.sport and s.flags & FIN)[0]
        self.assertEqual(fin.ack, seq_add(final, 1), "netloom's FIN does not acknowledge ours")
        before = self.tcp_stats()
        self.send(peer.ack_segment(seq=seq_add(final, 1), ack=seq_add(fin.seq, 1)))
        wait_for(lambda: self.tcp_stats()["connections_current"] <
                 before["connections_current"], 10, "netloom to close the wrapped connection")

    # --- Linux clients ---------------------------------------------------------------------

    def linux_echo(self, size):
        """A Linux client sends `size` bytes, half-closes, reads the whole echo and EOF."""
        with self.ns.entered():
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        payload = os.urandom(size)
        with sock:
            sock.settimeout(30)
            sock.connect((NETLOOM, ECHO_PORT))

            def send_then_shut():
                sock.sendall(payload)
                sock.shutdown(socket.SHUT_WR)

            sender = Background(send_then_shut)
            count, sha, _ = receive_all(sock)
            sender.result(30)
        self.assertEqual((count, sha), (size, hashlib.sha256(payload).hexdigest()))

    def syn_flood(self):
        from scapy.all import IP, TCP, Ether
        for ip, mac in FLOODERS:
            self.announce(ip, mac)
        self.sync()
        before = self.tcp_stats()
        rng = random.Random(5)
        ports = rng.sample(range(1024, 65536), FLOOD)
        frames = [bytes(Ether(src=mac, dst=NETLOOM_MAC) / IP(src=ip, dst=NETLOOM) /
                        TCP(sport=port, dport=ECHO_PORT, flags="S", seq=rng.getrandbits(32),
                            window=65535, options=[("MSS", 1460)]))
                  for port, (ip, mac) in zip(ports, FLOODERS * (FLOOD // len(FLOODERS) + 1))]
        linux_started = threading.Event()
        linux = None
        for i in range(0, FLOOD, BATCH):
            for frame in frames[i:i + BATCH]:
                self.l2.send(frame)
            self.sync()
            if linux is None and i + BATCH >= FLOOD // 3:
                # The queue of half-open connections is full by now: the Linux client's SYN
                # can only be answered with a cookie.
                linux = Background(lambda: (linux_started.set(), self.linux_echo(64 * 1024)))
                wait_for(linux_started.is_set, 10, "the Linux client to start")
        linux.result(60)
        after = self.tcp_stats()
        self.expect_counted(before, after, 1, "syn_cookies_sent")
        self.expect_counted(before, after, 1, "syn_cookies_accepted")
        held = after["connections_current"]
        growth = {name: self.delta(before, after, name)
                  for name in ("syn_cookies_sent", "syn_cookies_accepted", "listen_overflows")}
        print(f"SYN flood: {FLOOD} SYNs; syn_cookies_sent +{growth['syn_cookies_sent']}, "
              f"syn_cookies_accepted +{growth['syn_cookies_accepted']}, "
              f"listen_overflows +{growth['listen_overflows']}, "
              f"connections_current {held}, memory_bytes_current "
              f"{after.get('memory_bytes_current')}", file=sys.stderr)
        # Half-open connections are bounded by the SYN backlog, whatever the flood.
        self.assertLessEqual(held, SYN_BACKLOG + BACKLOG + 8, after)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--netloom", required=True)
    parser.add_argument("--engine", default="tcp_utcp")
    ARGS, rest = parser.parse_known_args()
    sys.exit(run_tests(rest))
