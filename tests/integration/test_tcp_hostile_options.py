#!/usr/bin/env python3
"""Malformed, contradicting and out-of-place TCP options, PAWS and SACK abuse (as root, in a
throw-away namespace; scapy_peer.py has the setup: netloom's echo server on a TAP link, Scapy
playing a host the kernel does not know).

SYNs to the listener carry options that are missing, zero, overlong, repeated, of a wrong
length, unknown or after EOL (RFC 9293 3.1, 3.7.1; RFC 1122 4.2.2.5, 4.2.2.6; RFC 7323 2.3);
established connections get timestamps that go backwards (PAWS, RFC 7323 5.3), options a
segment may not carry (RFC 7323 2.2, 3.2; RFC 9293 3.7.1), and SACK blocks outside the window,
reversed, empty, malformed or never negotiated (RFC 2018), and SACKed data that is never
acknowledged (reneging, RFC 2018 8). Each case asserts the RFC's rule; after each a Linux client
must still get its echo. The case table is printed.
"""
import os
import sys
import time

from netns import wait_for, run_tests
from scapy_peer import ACK, PSH, RST, SYN, WRAP, HostileBase, Peer, parse_args, seq_add

WS, TS, SACK_OK = ("WScale", 7), ("Timestamp", (1, 0)), ("SAckOK", b"")


class HostileOptions(HostileBase):
    NS_PREFIX = "nltho"
    # The SACK cases hold echo data unacknowledged for a moment: 1 s (RFC 6298 2.4) keeps a
    # timeout from retransmitting it while they check that a bogus SACK block did not.
    TCP_KEYS = {"rto_min": "1s"}

    def test_options(self):
        self.run_attack(self.attack)

    # --- helpers ---------------------------------------------------------------------------

    def syn_raw(self, option_bytes):
        """A SYN with raw `option_bytes` from a fresh port: (peer, SYN-ACK or None,
        rx_bad_options counted)."""
        p = Peer(self)
        before = self.tcp_stats()
        mark = self.mark()
        self.send(self.raw_options_segment(p.sport, option_bytes, seq=p.isn))
        self.sync()
        synacks = [s for s in p.from_netloom(mark) if s.flags & SYN]
        bad = self.delta(before, self.tcp_stats(), "rx_bad_options")
        return p, (synacks[0] if synacks else None), bad

    def complete(self, p, synack, size=3000):
        """Finishes the handshake netloom answered with `synack` and echoes `size` bytes."""
        p.synack, p.irs, p.rcv_nxt = synack, synack.seq, seq_add(synack.seq, 1)
        self.send(p.ack_segment())
        return p.send_data(os.urandom(size), segment_size=500)

    def malformed_syn(self, option_bytes, kind):
        """A SYN with a malformed option: dropped and counted, or answered without that option
        (RFC 9293 3.1: the option cannot be trusted); if answered the connection works."""
        p, synack, bad = self.syn_raw(option_bytes)
        if synack is None:
            self.assertGreaterEqual(bad or 0, 1, "dropped but not counted")
            return "dropped, counted"
        self.assertNotIn(kind, synack.kinds, "netloom agreed to a malformed option")
        self.complete(p, synack)
        return "answered without it"

    def accepted_syn(self, option_bytes, max_payload=1460):
        """A SYN netloom must answer; its data segments stay within `max_payload`."""
        p, synack, _ = self.syn_raw(option_bytes)
        self.assertIsNotNone(synack, "no SYN-ACK")
        mark = self.complete(p, synack, size=3000)
        sizes = [len(s.payload) for s in p.from_netloom(mark) if s.payload]
        self.assertTrue(sizes)
        self.assertLessEqual(max(sizes), max_payload, sizes)
        return f"largest segment {max(sizes)} bytes"

    def established(self, options):
        p = Peer(self).open(options=options)
        p.send_data(b"hello")
        return p

    def rejected(self, p, frame, reply):
        """`frame` must be dropped ('ack': with an ACK back); good data after it is echoed
        and the echo never holds the frame's bytes."""
        seq_before = p.snd_nxt
        mark = self.mark()
        self.send(frame)
        p.send_data(b"after the segment")
        acks = p.acks_of(mark, seq_before)
        if reply == "ack":
            self.assertGreaterEqual(len(acks), 1, "no ACK for the dropped segment")

    def accepted_data(self, p, frame, payload):
        """`frame` (carrying `payload` at SND.NXT) must be taken: the echo holds it."""
        self.send(frame)
        p.snd_nxt = seq_add(p.snd_nxt, len(payload))
        p.sent += payload
        p.wait_echo()

    def in_flight(self, options):
        """A connection with echo data from netloom sent and not acknowledged: (peer, first
        unacknowledged sequence number, end of what netloom sent)."""
        p = self.established(options)
        p.send_data(os.urandom(1460 * 4), segment_size=1460, expect_echo=False)
        wait_for(lambda: len(p.stream()) >= 1460 * 2, 10, "echo data in flight")
        una = p.rcv_nxt
        end = seq_add(p.irs, 1 + len(p.stream()))
        return p, una, end

    def left_edge_resent(self, p, mark, una):
        """Segments since `mark` resending SND.UNA: what a SACK block believed (data above
        SND.UNA delivered) makes a SACK sender do (RFC 6675 IsLost). A tail loss probe (RFC
        8985) resends the last segment instead, which is not counted here."""
        return [s for s in p.from_netloom(mark) if s.payload and s.seq == una]

    # --- the cases -------------------------------------------------------------------------

    def attack(self):
        c = self.case
        mss = lambda v: bytes([2, 4, v >> 8, v & 0xFF])  # noqa: E731
        c("SYN without an MSS option", "RFC 9293 3.7.1; RFC 1122 4.2.2.6",
          "segments of at most 536 bytes", lambda: self.accepted_syn(b"", 536))
        c("SYN with MSS 0", "RFC 9293 3.7.1 (no value below 1 is usable)",
          "answered; the echo still arrives (MSS clamped)", lambda: self.accepted_syn(mss(0)))
        c("SYN with MSS 1", "RFC 9293 3.7.1", "the echo arrives, in small segments",
          lambda: self.accepted_syn(mss(1)))
        c("SYN with MSS 65535 (above the link MTU)", "RFC 9293 3.7.1 (Eff.snd.MSS <= MTU - 40)",
          "segments of at most 1460 bytes", lambda: self.accepted_syn(mss(65535), 1460))
        c("SYN with two MSS options (536, 1460)", "RFC 9293 3.1 (contradicting options)",
          "answered; segments never exceed the larger", lambda: self.accepted_syn(
              mss(536) + mss(1460)))
        c("SYN with window scale 20", "RFC 7323 2.3 (use 14)",
          "flight never exceeds window << 14", self.wscale_over_14)
        c("window scale 14 with a 65535 window (a 1 GiB window)", "RFC 7323 2.2, 2.3",
          "64 KiB echoed (no overflow)", self.wscale_1gib)
        c("SYN with a window scale option of length 4", "RFC 9293 3.1",
          "dropped and counted, or answered without window scaling",
          lambda: self.malformed_syn(mss(1460) + b"\x03\x04\x07\x00", "WScale"))
        c("SYN with a timestamps option of length 8", "RFC 9293 3.1; RFC 7323 3.2",
          "dropped and counted, or answered without timestamps",
          lambda: self.malformed_syn(mss(1460) + b"\x08\x08" + bytes(6), "Timestamp"))
        c("SYN with SACK-permitted of length 3", "RFC 9293 3.1; RFC 2018 2",
          "dropped and counted, or answered without SACK",
          lambda: self.malformed_syn(mss(1460) + b"\x04\x03\x00", "SAckOK"))
        c("SYN with an MSS option of length 3", "RFC 9293 3.1",
          "dropped and counted, or answered without trusting it",
          lambda: self.malformed_syn(b"\x02\x03\x05\x01\x01\x01", "x"))
        c("SYN with an unknown option (kind 99, length 6)", "RFC 9293 3.1; RFC 1122 4.2.2.5",
          "ignored: answered, works", lambda: self.accepted_syn(
              mss(1460) + b"\x63\x06abcd"))
        c("SYN with an unknown option of length 2", "RFC 1122 4.2.2.5", "ignored",
          lambda: self.accepted_syn(b"\xfd\x02" + mss(1460)))
        c("SYN with garbage after EOL", "RFC 9293 3.1 (EOL ends the list)",
          "the options before EOL hold", lambda: self.accepted_syn(
              mss(536) + b"\x00\x02\x04\xff\xff\x03\x03\x0e", 536))
        c("SYN with 40 bytes of NOP", "RFC 9293 3.1", "answered, default MSS 536",
          lambda: self.accepted_syn(b"\x01" * 40, 536))
        # Timestamps (RFC 7323)
        c("PAWS: data with TSval older than TS.Recent", "RFC 7323 5.3 (R1)",
          "dropped with an ACK", self.paws_old)
        c("PAWS: exact RST with an old TSval", "RFC 7323 5.3; RFC 5961 3.2",
          "RSTs are not subject to PAWS: connection reset", self.paws_rst)
        c("TSval jumping forward by 2^30", "RFC 7323 5.3 (comparisons modulo 2^32)",
          "accepted", self.ts_jump)
        c("TSval wrapping past 2^32", "RFC 7323 5.3 (comparisons modulo 2^32)",
          "accepted on both sides of the wrap", self.ts_wrap)
        c("data without TSopt on a timestamps connection", "RFC 7323 3.2 (SHOULD drop)",
          "dropped, or taken and echoed: never half-taken", self.ts_missing)
        c("TSopt on a connection that did not negotiate it", "RFC 7323 3.2",
          "ignored: the data is taken", self.ts_unnegotiated)
        c("window scale option on an established segment", "RFC 7323 2.2",
          "ignored: the data is taken", lambda: self.option_ignored(("WScale", 14)))
        c("MSS option on an established segment", "RFC 9293 3.7.1 (SYN only)",
          "ignored: the data is taken; segments still up to 1460", lambda: self.option_ignored(
              ("MSS", 100)))
        c("SACK-permitted on an established segment", "RFC 2018 2 (SYN only)",
          "ignored: the data is taken", lambda: self.option_ignored(SACK_OK))
        # SACK (RFC 2018)
        sack = [("MSS", 1460), SACK_OK]
        c("SACK block above SND.NXT", "RFC 2018 3; RFC 6675 (only sent data can be SACKed)",
          "ignored: SND.UNA not resent", lambda: self.sack_case(sack, "above"))
        c("SACK block below SND.UNA", "RFC 2018 3; RFC 2883", "ignored: SND.UNA not resent",
          lambda: self.sack_case(sack, "below"))
        c("reversed SACK block (left > right)", "RFC 2018 3", "ignored: SND.UNA not resent",
          lambda: self.sack_case(sack, "reversed"))
        c("empty SACK block (left = right)", "RFC 2018 3", "ignored: SND.UNA not resent",
          lambda: self.sack_case(sack, "empty"))
        c("SACK option of length 12 (not 2+8n)", "RFC 2018 3; RFC 9293 3.1",
          "malformed: ignored or dropped, SND.UNA not resent", self.sack_bad_length)
        c("SACK blocks without SACK-permitted", "RFC 2018 2", "ignored: SND.UNA not resent",
          lambda: self.sack_case([("MSS", 1460)], "middle"))
        c("SACKed data never acknowledged (reneging)", "RFC 2018 8",
          "the left edge is retransmitted after a timeout", self.sack_renege)

    def wscale_over_14(self):
        p = Peer(self, window=1)  # 1 << 14 bytes if the shift is clamped to 14
        p.open(options=[("MSS", 1460), ("WScale", 20)])
        self.assertIn("WScale", p.synack.kinds)
        size = 64 * 1024
        p.send_data(os.urandom(size), segment_size=1460, expect_echo=False)
        acked = []  # (time, ack) of what we acknowledged

        def step():
            before, sent_at = p.rcv_nxt, time.monotonic()  # taken before the ACK leaves
            p.ack_stream()
            if p.rcv_nxt != before:
                acked.append((sent_at, p.rcv_nxt))
            return len(p.stream()) >= size

        acked.append((0, p.rcv_nxt))
        wait_for(step, 20, "the echo under a scaled window")
        for s in p.from_netloom():
            if s.payload and acked:
                latest = max((a for t, a in acked if t < s.time), key=lambda a: (a - p.irs)
                             % WRAP, default=acked[0][1])
                flight = (s.seq + len(s.payload) - latest) % WRAP
                self.assertLessEqual(flight, 1 << 14, "sent past a window scaled by 14")
        p.wait_echo()

    def wscale_1gib(self):
        p = Peer(self).open(options=[("MSS", 1460), ("WScale", 14)])
        p.send_data(os.urandom(64 * 1024), segment_size=1460)

    def paws_old(self):
        p = self.established([("MSS", 1460), TS])
        stale = [("Timestamp", (p.tsval - 3, p.ts_recent))]  # older than the last we sent
        self.rejected(p, p.ack_segment(flags=PSH | ACK, payload=b"BAD old tsval",
                                       options=stale), "ack")

    def paws_rst(self):
        p = self.established([("MSS", 1460), TS])
        before = self.tcp_stats()
        self.send(p.ack_segment(flags=RST | ACK, options=[("Timestamp", (p.tsval - 3, 0))]))
        wait_for(lambda: self.tcp_stats()["connections_current"] <
                 before["connections_current"], 10, "the RST to end the connection")

    def ts_jump(self):
        p = self.established([("MSS", 1460), TS])
        p.tsval = (p.tsval + (1 << 30)) % WRAP
        self.accepted_data(p, p.ack_segment(flags=PSH | ACK, payload=b"jump"), b"jump")

    def ts_wrap(self):
        p = self.established([("MSS", 1460), TS])
        for step in range(3):  # forward in steps below 2^31, each a newer TSval
            p.tsval = (p.tsval + (1 << 30)) % WRAP
            self.accepted_data(p, p.ack_segment(flags=PSH | ACK, payload=b"step"), b"step")
        p.tsval = WRAP - 3
        for word in (b"before", b"across", b"after!"):  # TSval 2^32-2, 2^32-1, 0 ...
            self.accepted_data(p, p.ack_segment(flags=PSH | ACK, payload=word), word)
        self.assertLess(p.tsval, 1000, "the test's TSvals did not wrap")

    def ts_missing(self):
        p = self.established([("MSS", 1460), TS])
        mark = self.mark()
        self.send(p.ack_segment(flags=PSH | ACK, payload=b"no tsopt", options=[]))
        self.sync()
        taken = any(s.ack == seq_add(p.snd_nxt, 8) for s in p.from_netloom(mark))
        if taken:
            p.snd_nxt = seq_add(p.snd_nxt, 8)
            p.sent += b"no tsopt"
        p.send_data(b"then with it")
        return "taken" if taken else "dropped"

    def ts_unnegotiated(self):
        p = self.established([("MSS", 1460)])
        self.accepted_data(p, p.ack_segment(flags=PSH | ACK, payload=b"ts?",
                                            options=[("Timestamp", (5, 7))]), b"ts?")

    def option_ignored(self, option):
        p = self.established([("MSS", 1460)])
        self.accepted_data(p, p.ack_segment(flags=PSH | ACK, payload=b"opt", options=[option]),
                           b"opt")
        mark = p.send_data(os.urandom(3000), segment_size=1000)
        self.assertGreater(max(len(s.payload) for s in p.from_netloom(mark)), 100,
                           "an MSS option on a non-SYN segment was obeyed")

    def sack_case(self, options, where):
        p, una, end = self.in_flight(options)
        blocks = {"above": (seq_add(end, 1000), seq_add(end, 9000)),
                  "below": (seq_add(una, -9000), seq_add(una, -1000)),
                  "reversed": (seq_add(una, 2920), seq_add(una, 1460)),
                  "empty": (seq_add(una, 1460), seq_add(una, 1460)),
                  "middle": (seq_add(una, 1460), end)}[where]
        mark = self.mark()
        self.send(p.ack_segment(ack=una, options=[("NOP", None), ("NOP", None),
                                                  ("SAck", blocks)]))
        self.sync()
        self.assertEqual(self.left_edge_resent(p, mark, una), [],
                         "a bogus SACK block made netloom retransmit")
        self.assertEqual(p.resets(mark), [])
        p.wait_echo()

    def sack_bad_length(self):
        p, una, end = self.in_flight([("MSS", 1460), SACK_OK])
        mark = self.mark()
        block = seq_add(una, 1460).to_bytes(4, "big") + end.to_bytes(4, "big")
        self.send(self.raw_options_segment(p.sport, b"\x01\x01\x05\x0c" + block + b"\x00\x00",
                                           seq=p.snd_nxt, ack=una, flags=ACK))
        self.sync()
        self.assertEqual(self.left_edge_resent(p, mark, una), [])
        self.assertEqual(p.resets(mark), [])
        p.wait_echo()

    def sack_renege(self):
        p, una, end = self.in_flight([("MSS", 1460), SACK_OK])
        mark = self.mark()
        self.send(p.ack_segment(ack=una, options=[("NOP", None), ("NOP", None),
                                                  ("SAck", (seq_add(una, 1460), end))]))
        self.wait_seen(mark, "the left edge retransmitted",
                       lambda s: s.dport == p.sport and s.payload and s.seq == una, timeout=15)
        p.wait_echo()


if __name__ == "__main__":
    sys.exit(run_tests(parse_args()))
