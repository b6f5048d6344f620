#!/usr/bin/env python3
"""Hostile TCP segments against netloom's TCP engine (as root, in a throw-away namespace).

netloom runs on a TAP link with an echo server on port 7 and small listen queues (backlog 16,
syn_backlog 64, SYN cookies on); Scapy plays hosts the kernel knows nothing about (the setup
and the plumbing are scapy_peer.py's, shared with the test_tcp_hostile_*.py files, which hold
the crafted cases added since: injection, options, states, window).

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
import hashlib
import random
import sys
import threading

from netns import Background, run_tests, wait_for
from scapy_peer import (ACK, ECHO_PORT, FIN, NETLOOM, NETLOOM_MAC, PSH, RST, SYN, WRAP,
                        HostileBase, Peer, parse_args, seq_add)

CLOSED_PORT = 9
BACKLOG = 16
SYN_BACKLOG = 64
FLOOD = 3000
BATCH = 250
FLOODERS = [(f"10.73.1.{i}", f"02:00:00:01:73:{i:02x}") for i in range(1, 17)]


class HostileTcp(HostileBase):
    TCP_KEYS = {"backlog": BACKLOG, "syn_backlog": SYN_BACKLOG, "syn_cookies": True}
    FAKE_HOSTS = dict(FLOODERS)

    def test_netloom_survives_hostile_segments(self):
        self.run_attack(self.attack)

    # --- the attacks ---------------------------------------------------------------------

    def attack(self):
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
        marker = Peer(self, 41099, rng.getrandbits(32))
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
        peer = Peer(self, 43001, random.getrandbits(32))
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
                peer = Peer(self, port, random.getrandbits(32))
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
        peer = Peer(self, 45001, isn)
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

    def syn_flood(self):
        from scapy.all import IP, TCP, Ether
        self.sync(sniffed=False)
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
            self.sync(sniffed=False)
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
    sys.exit(run_tests(parse_args()))
