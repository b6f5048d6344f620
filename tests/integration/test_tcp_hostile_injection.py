#!/usr/bin/env python3
"""Blind injection, ACK validation and overlapping data on an established connection (as root,
in a throw-away namespace; scapy_peer.py has the setup: netloom's echo server on a TAP link,
Scapy playing a host the kernel does not know).

Each case crafts one situation on a connection Scapy drives and asserts what the RFC asks:
RSTs at the edges of the receive window and SYNs in a synchronized state (RFC 5961 3.2, 4.2,
challenge ACKs, rate limited by RFC 5961 7), ACK values past SND.NXT or older than
SND.UNA - MAX.SND.WND (RFC 5961 5.2), segments without ACK (RFC 9293 3.10.7.4), data
overlapping what was delivered or held out of order, carrying different bytes (what the
application reads: bytes already delivered stand; for bytes not yet delivered the copy received
last wins, in both engines: tcp_common's ReassemblyBuffer contract; RFC 9293 leaves it open),
duplicate ACKs with nothing in flight (RFC 5681 3.2), keep-alive probes and data held across
2^32. After each, a Linux client must still get its echo. The case table is printed.
"""
import sys

from netns import run_tests, wait_for
from scapy_peer import ACK, FIN, PSH, RST, SYN, WRAP, HostileBase, Peer, parse_args, seq_add

CHALLENGE_LIMIT = 20  # challenge ACKs per second, engine-wide (RFC 5961 7)


class HostileInjection(HostileBase):
    NS_PREFIX = "nlthi"
    TCP_KEYS = {"challenge_ack_limit": CHALLENGE_LIMIT}

    def test_injection(self):
        self.run_attack(self.attack)

    # --- helpers ---------------------------------------------------------------------------

    def rcv_wnd(self, peer):
        """The window netloom advertised last on `peer` (no window scaling: MSS alone offered)."""
        return peer.from_netloom()[-1].window

    def rejected(self, peer, frames, reply, counters=()):
        """Sends `frames`, then good data: the echo must hold only the good data (a rejected
        segment's bytes never reach the application); netloom's answers to the frames (ACKs of
        the sequence number before them) must be `reply`: 'none' or 'ack'."""
        before = self.tcp_stats() if counters else None
        seq_before = peer.snd_nxt
        mark = self.mark()
        self.send(*frames)
        peer.send_data(b"after the injection")  # asserts the echo
        acks = peer.acks_of(mark, seq_before)
        if reply == "none":
            self.assertEqual(acks, [], "netloom answered the segment")
        else:
            self.assertGreaterEqual(len(acks), 1, "no ACK from netloom for the segment")
        for names, at_least in counters:
            self.expect_counted(before, self.tcp_stats(), at_least, *names)

    def fresh(self):
        peer = Peer(self).open()
        peer.send_data(b"hello")
        return peer

    # --- the cases -------------------------------------------------------------------------

    def attack(self):
        p = self.fresh()
        self.peer = p
        c = self.case
        c("RST one byte left of the window", "RFC 5961 3.2",
          "dropped silently, connection unchanged",
          lambda: self.rejected(p, [p.ack_segment(flags=RST | ACK, seq=seq_add(p.snd_nxt, -1))],
                                "none"))
        c("RST at RCV.NXT+RCV.WND (first byte past the window)", "RFC 5961 3.2",
          "dropped silently",
          lambda: self.rejected(p, [p.ack_segment(
              flags=RST | ACK, seq=seq_add(p.snd_nxt, self.rcv_wnd(p)))], "none"))
        c("RST at the last byte of the window", "RFC 5961 3.2", "challenge ACK, no reset",
          lambda: self.rejected(p, [p.ack_segment(
              flags=RST | ACK, seq=seq_add(p.snd_nxt, self.rcv_wnd(p) - 1))], "ack"))
        c("RST without ACK bit, in window, not exact", "RFC 5961 3.2", "challenge ACK",
          lambda: self.rejected(p, [p.ack_segment(flags=RST, seq=seq_add(p.snd_nxt, 7),
                                                  ack=0)], "ack"))
        c("RST carrying data, in window, not exact", "RFC 5961 3.2; RFC 9293 3.10.7.4",
          "challenge ACK, the data never delivered",
          lambda: self.rejected(p, [p.ack_segment(flags=RST | ACK, seq=seq_add(p.snd_nxt, 3),
                                                  payload=b"BAD rst data")], "ack"))
        c("SYN+ACK on an established connection", "RFC 5961 4.2", "challenge ACK",
          lambda: self.rejected(p, [p.ack_segment(flags=SYN | ACK)], "ack"))
        c("SYN carrying data in the window", "RFC 5961 4.2", "challenge ACK, data dropped",
          lambda: self.rejected(p, [p.ack_segment(flags=SYN, ack=0, payload=b"BAD syn data")],
                                "ack"))
        c("FIN far outside the window", "RFC 9293 3.10.7.4 (first check)",
          "ACK, FIN ignored: the connection still echoes",
          lambda: self.rejected(p, [p.ack_segment(flags=FIN | ACK,
                                                  seq=seq_add(p.snd_nxt, 1 << 30))], "ack"))
        c("data ACKing SND.NXT+1 (one byte never sent)", "RFC 9293 3.10.7.4; RFC 5961 5.2",
          "ACK back, segment dropped",
          lambda: self.rejected(p, [p.ack_segment(flags=PSH | ACK, ack=seq_add(p.rcv_nxt, 1),
                                                  payload=b"BAD ack+1")], "ack",
                                [(("rx_ack_unsent",), 1)]))
        c("data ACKing older than SND.UNA - MAX.SND.WND", "RFC 5961 5.2",
          "ACK back, segment dropped",
          lambda: self.rejected(p, [p.ack_segment(flags=PSH | ACK,
                                                  ack=seq_add(p.rcv_nxt, -(1 << 20)),
                                                  payload=b"BAD old ack")], "ack"))
        c("data with a duplicate ACK (SND.UNA - 1)", "RFC 9293 3.10.7.4 (fifth check)",
          "ACK ignored, the data accepted and echoed", lambda: self.old_ack_data(p))
        c("keep-alive probe (SEG.SEQ = RCV.NXT - 1, one garbage byte)",
          "RFC 1122 4.2.3.6; RFC 9293 3.10.7.4 (first)", "ACK of RCV.NXT, nothing delivered",
          lambda: self.rejected(p, [p.ack_segment(seq=seq_add(p.snd_nxt, -1), payload=b"K")],
                                "ack"))
        c("data without the ACK bit", "RFC 9293 3.10.7.4 (fifth check)",
          "dropped silently",
          lambda: self.rejected(p, [p.ack_segment(flags=PSH, ack=0, payload=b"BAD no ack")],
                                "none"))
        c("segment with no flags at all, carrying data", "RFC 9293 3.10.7.4 (fifth check)",
          "dropped silently",
          lambda: self.rejected(p, [p.ack_segment(flags=0, ack=0, payload=b"BAD null")],
                                "none"))
        c("data overlapping RCV.NXT from the left", "RFC 9293 3.10.7.4 (trim to the window)",
          "only the new bytes delivered, once", lambda: self.left_overlap(p))
        c("out-of-order data in the window", "RFC 9293 3.10.7.4; RFC 5681 4.2",
          "immediate duplicate ACK, delivered when the hole fills", lambda: self.out_of_order(p))
        c("retransmission of delivered bytes with different content", "RFC 9293 3.10.7.4",
          "the bytes delivered first stand; only new bytes taken", lambda: self.rewrite(p))
        c("two held out-of-order segments overlapping with different bytes",
          "RFC 9293 3.10.7.4 (unspecified)", "the copy received last wins (ReassemblyBuffer)",
          lambda: self.overlap_held(p))
        c("hole-filling segment overlapping held data with different bytes",
          "RFC 9293 3.10.7.4 (unspecified)", "the filling copy (received last) wins",
          lambda: self.overlap_fill(p))
        c("out-of-order data across 2^32, then the hole filled", "RFC 9293 3.3.1 (modulo 2^32)",
          "held across the wrap, delivered in order", self.wrap_out_of_order)
        c("50 duplicate ACKs with nothing in flight", "RFC 5681 3.2",
          "nothing sent (no fast retransmit of nothing)", lambda: self.dupack_storm(p))
        c("exact RST without the ACK bit", "RFC 9293 3.10.7.4; RFC 5961 3.2",
          "the connection is reset; later data gets an RST", lambda: self.exact_rst(with_ack=False))
        c("exact RST with an ACK of unsent data", "RFC 9293 3.10.7.4 (RST before ACK check)",
          "the connection is reset", lambda: self.exact_rst(with_ack=True))
        # Last: it spends the engine's challenge ACK allowance for this second.
        c("300 in-window RSTs in a burst", "RFC 5961 7",
          f"challenge ACKs limited to {CHALLENGE_LIMIT}/s, connection intact",
          lambda: self.challenge_rate(p))

    def old_ack_data(self, p):
        seq_before = p.snd_nxt
        self.send(p.ack_segment(flags=PSH | ACK, ack=seq_add(p.rcv_nxt, -1), payload=b"dup"))
        p.snd_nxt = seq_add(seq_before, 3)
        p.sent += b"dup"
        p.wait_echo()

    def left_overlap(self, p):
        old = bytes(p.sent[-5:])
        self.send(p.ack_segment(flags=PSH | ACK, seq=seq_add(p.snd_nxt, -5),
                                payload=b"XXXXX" + b"fresh"))
        p.snd_nxt = seq_add(p.snd_nxt, 5)
        p.sent += b"fresh"
        p.wait_echo()  # the echo equals every byte sent once: the old five stay `old`
        self.assertEqual(p.stream()[-10:], old + b"fresh")

    def out_of_order(self, p):
        mark = self.mark()
        base = p.snd_nxt
        self.send(p.ack_segment(flags=PSH | ACK, seq=seq_add(base, 10), payload=b"B" * 10))
        p.wait_ack(mark, base, "an immediate duplicate ACK for the out-of-order segment")
        self.assertEqual(len(p.stream()), len(p.sent), "held data was delivered early")
        self.send(p.ack_segment(flags=PSH | ACK, seq=base, payload=b"A" * 10))
        p.snd_nxt = seq_add(base, 20)
        p.sent += b"A" * 10 + b"B" * 10
        p.wait_echo()

    def rewrite(self, p):
        base = p.snd_nxt
        p.send_data(b"a" * 10)
        self.send(p.ack_segment(flags=PSH | ACK, seq=base, payload=b"b" * 15))
        p.snd_nxt = seq_add(base, 15)
        p.sent += b"b" * 5
        p.wait_echo()  # a*10 then b*5

    def overlap_held(self, p):
        base = p.snd_nxt
        mark = self.mark()
        self.send(p.ack_segment(flags=PSH | ACK, seq=seq_add(base, 10), payload=b"C" * 10))
        self.send(p.ack_segment(flags=PSH | ACK, seq=seq_add(base, 15), payload=b"D" * 10))
        p.wait_ack(mark, base, "duplicate ACKs for the held segments")
        self.sync()
        self.send(p.ack_segment(flags=PSH | ACK, seq=base, payload=b"A" * 10))
        p.snd_nxt = seq_add(base, 25)
        p.sent += b"A" * 10 + b"C" * 5 + b"D" * 10  # the copy stored last wins
        p.wait_echo()

    def overlap_fill(self, p):
        base = p.snd_nxt
        mark = self.mark()
        self.send(p.ack_segment(flags=PSH | ACK, seq=seq_add(base, 10), payload=b"H" * 10))
        p.wait_ack(mark, base, "a duplicate ACK for the held segment")
        self.send(p.ack_segment(flags=PSH | ACK, seq=base, payload=b"E" * 15))
        p.snd_nxt = seq_add(base, 20)
        p.sent += b"E" * 15 + b"H" * 5  # the copy stored last wins
        p.wait_echo()

    def wrap_out_of_order(self):
        q = Peer(self, isn=WRAP - 12).open()  # RCV.NXT (netloom's) is 2^32 - 11
        mark = self.mark()
        base = q.snd_nxt
        self.send(q.ack_segment(flags=PSH | ACK, seq=seq_add(base, 5), payload=b"W" * 20))
        q.wait_ack(mark, base, "a duplicate ACK for the segment across 2^32")
        self.send(q.ack_segment(flags=PSH | ACK, seq=base, payload=b"V" * 5))
        q.snd_nxt, q.sent = seq_add(base, 25), q.sent + b"V" * 5 + b"W" * 20
        self.assertLess(q.snd_nxt, 100, "the test's sequence numbers did not wrap")
        q.wait_echo()
        q.close_with_rst()

    def dupack_storm(self, p):
        mark = self.mark()
        self.send(*[p.ack_segment() for _ in range(50)])
        self.sync()
        sent = [s for s in p.from_netloom(mark) if s.payload or s.flags & (SYN | FIN | RST)]
        self.assertEqual(sent, [], "netloom sent data or control for duplicate ACKs")
        p.send_data(b"after the storm")

    def exact_rst(self, with_ack):
        q = self.fresh()
        before = self.tcp_stats()
        if with_ack:
            self.send(q.ack_segment(flags=RST | ACK, ack=seq_add(q.rcv_nxt, 1 << 20)))
        else:
            self.send(q.ack_segment(flags=RST, ack=0))
        wait_for(lambda: self.tcp_stats()["connections_current"] <
                 before["connections_current"], 10, "the exact RST to end the connection")
        mark = self.mark()
        self.send(q.ack_segment(flags=PSH | ACK, payload=b"anyone?"))
        self.wait_seen(mark, "an RST for data after the reset",
                       lambda s: s.dport == q.sport and s.flags & RST)

    def challenge_rate(self, p):
        before = self.tcp_stats()
        seq_before = p.snd_nxt
        mark = self.mark()
        self.send(*[p.ack_segment(flags=RST | ACK, seq=seq_add(p.snd_nxt, 1 + i % 1000))
                    for i in range(300)])
        self.sync()
        challenges = len(p.acks_of(mark, seq_before))
        # The burst may straddle a second boundary of the engine's clock: two allowances.
        self.assertGreaterEqual(challenges, 1)
        self.assertLessEqual(challenges, 2 * CHALLENGE_LIMIT)
        counted = self.delta(before, self.tcp_stats(), "challenge_acks")
        if counted is not None:
            self.assertLessEqual(counted, 2 * CHALLENGE_LIMIT)
        p.send_data(b"after the burst")



if __name__ == "__main__":
    sys.exit(run_tests(parse_args()))
