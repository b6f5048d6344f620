#!/usr/bin/env python3
"""Hostile receive windows and urgent pointers (as root, in a throw-away namespace;
scapy_peer.py has the setup: netloom's echo server on a TAP link, Scapy playing a host the
kernel does not know).

A peer holds its window at zero while netloom has data to send (persist probes keep coming,
backed off, and the connection survives: RFC 9293 3.8.6.1, RFC 1122 4.2.2.17; held here for the
first five probes, a few seconds; the minutes-long hold runs under a virtual clock in
tests/tcp_engines/hostile_window_test.cpp), shrinks the window under data in flight (RFC 9293
3.8.6.2.1, RFC 1122 4.2.2.16), and offers windows in segments whose window must not be used
(RFC 9293 3.10.7.4: SND.WL1/WL2). Urgent pointers in every odd form must leave the data inline
and intact (RFC 6093 4, 5; RFC 9293 3.8.5). After each case a Linux client must still get its
echo. The case table is printed.
"""
import os
import sys

from netns import run_tests, wait_for
from scapy_peer import ACK, PSH, URG, HostileBase, Peer, parse_args, seq_add, seq_lt

PROBES = 5


class HostileWindow(HostileBase):
    NS_PREFIX = "nlthw"

    def test_window(self):
        self.run_attack(self.attack)

    # --- helpers ---------------------------------------------------------------------------

    def data_from(self, p, mark):
        return [s for s in p.from_netloom(mark) if s.payload]

    def closed_window(self, size=4000):
        """A connection whose peer (we) advertised a zero window from the SYN on, with `size`
        bytes sent to the echo server: netloom holds their echo."""
        p = Peer(self, window=0).open()
        p.send_data(os.urandom(size), segment_size=1000, expect_echo=False)
        return p

    def open_window(self, p):
        p.window = 65535
        self.send(p.ack_segment())
        p.wait_echo()

    def answer_probes(self, p, count, timeout):
        """Answers netloom's zero-window probes with a zero-window ACK (the probe byte is not
        taken) until `count` have come; returns their arrival times."""
        answered = set()

        def probes():
            fresh = [s for s in self.data_from(p, 0) if s.index not in answered]
            for s in fresh:
                answered.add(s.index)
                self.send(p.ack_segment())
            return len(answered) >= count

        wait_for(probes, timeout, f"{count} zero-window probes")
        return [s.time for s in self.data_from(p, 0)][:count], self.data_from(p, 0)[:count]

    # --- the cases -------------------------------------------------------------------------

    def attack(self):
        c = self.case
        c("zero window held through five probes", "RFC 9293 3.8.6.1; RFC 1122 4.2.2.17",
          "probes keep coming, backed off, one byte each; the connection survives",
          self.zero_window_held)
        c("zero-window probes taken one byte at a time", "RFC 9293 3.8.6.1; RFC 1122 4.2.2.17",
          "probing continues from the next byte; the stream stays exact", self.probes_taken)
        c("window retracted to zero under data in flight", "RFC 9293 3.8.6.2.1; RFC 1122 "
          "4.2.2.16", "no new data past the edge; all delivered once reopened",
          lambda: self.shrink(0))
        c("window shrunk from 20000 to 1000 bytes", "RFC 1122 4.2.2.16",
          "no new data past the new right edge; all delivered", lambda: self.shrink(1000))
        c("window offered by an unacceptable (old) segment", "RFC 9293 3.10.7.4 (first check)",
          "ACK back, window not used", self.unacceptable_window)
        c("window offered by a reordered older segment", "RFC 9293 3.10.7.4 (SND.WL1 rule)",
          "window not used", self.stale_window)
        c("URG with the pointer inside the segment", "RFC 6093 5; RFC 9293 3.8.5",
          "data delivered inline, intact", lambda: self.urgent(URG | PSH | ACK, 4))
        c("URG with the pointer past the segment", "RFC 6093 4; RFC 9293 3.8.5",
          "data delivered inline", lambda: self.urgent(URG | PSH | ACK, 5000))
        c("URG with pointer 0", "RFC 6093 4", "data delivered inline",
          lambda: self.urgent(URG | PSH | ACK, 0))
        c("URG with pointer 65535", "RFC 6093 4", "data delivered inline",
          lambda: self.urgent(URG | PSH | ACK, 65535))
        c("urgent pointer without the URG flag", "RFC 9293 3.1 (pointer only with URG)",
          "ignored, data inline", lambda: self.urgent(PSH | ACK, 3))
        c("URG on a segment without data", "RFC 9293 3.10.7.4 (sixth)",
          "no crash; nothing delivered", self.urgent_empty)

    def zero_window_held(self):
        p = self.closed_window()
        times, probes = self.answer_probes(p, PROBES, 30)
        for s in probes:
            self.assertEqual(len(s.payload), 1, "a zero-window probe carries one byte")
        gaps = [b - a for a, b in zip(times, times[1:])]
        # Backed off (RFC 1122 4.2.2.17: exponential): each gap at least ~the one before
        # (some slack for the loaded machine's scheduling).
        for a, b in zip(gaps, gaps[1:]):
            self.assertGreater(b, a * 0.8, f"probe gaps do not back off: {gaps}")
        self.assertGreater(gaps[-1], gaps[0] * 2, f"probe gaps do not back off: {gaps}")
        self.open_window(p)
        return "probe gaps " + ", ".join(f"{g:.2f}" for g in gaps) + " s"

    def probes_taken(self):
        p = self.closed_window()
        taken = set()

        def take_probes():
            for s in self.data_from(p, 0):
                if s.index not in taken:
                    taken.add(s.index)
                    p.ack_stream()  # the byte is taken; the window stays zero
            return len(taken) >= 3

        wait_for(take_probes, 20, "three zero-window probes")
        self.assertGreaterEqual(len(p.stream()), 2, "the probes did not move on")
        self.open_window(p)  # the echo must be every byte sent, once, in order

    def shrink(self, new_window):
        p = Peer(self, window=20000).open()
        p.send_data(os.urandom(16000), segment_size=1000, expect_echo=False)
        wait_for(lambda: len(p.stream()) >= 4000, 10, "echo data in flight")
        una = p.rcv_nxt  # we acknowledge nothing of it: the right edge moves left
        p.window = new_window
        edge = seq_add(una, new_window)
        self.send(p.ack_segment())
        self.sync()
        mark = self.mark()
        sent_end = seq_add(p.irs, 1 + len(p.stream()))
        self.sync()
        # New data (past what was sent before) must stay within the new edge; a one-byte
        # probe at the old edge is allowed when the window is zero.
        for s in self.data_from(p, mark):
            end = seq_add(s.seq, len(s.payload))
            if seq_lt(sent_end, end) and not (new_window == 0 and len(s.payload) == 1):
                self.assertFalse(seq_lt(edge, end), f"sent past the shrunken window: {s}")
        self.open_window(p)

    def unacceptable_window(self):
        p = self.closed_window()
        mark = self.mark()
        self.send(p.ack_segment(seq=seq_add(p.snd_nxt, -2000), window=65535))
        p.wait_ack(mark, p.snd_nxt, "an ACK for the unacceptable segment")
        self.sync()
        self.assertEqual([s for s in self.data_from(p, mark) if len(s.payload) > 1], [],
                         "netloom used the window of an unacceptable segment")
        self.open_window(p)

    def stale_window(self):
        p = self.closed_window()
        self.send(p.ack_segment())  # SND.WL1 = SND.NXT now, window zero
        self.sync()
        mark = self.mark()
        # 10 bytes already taken and 10 new: acceptable, but SEG.SEQ < SND.WL1, so its
        # window is not used.
        old = bytes(p.sent[-10:])
        self.send(p.ack_segment(flags=PSH | ACK, seq=seq_add(p.snd_nxt, -10),
                                payload=old + b"0123456789", window=65535))
        p.snd_nxt = seq_add(p.snd_nxt, 10)
        p.sent += b"0123456789"
        p.wait_ack(mark, p.snd_nxt, "an ACK of the new bytes")
        self.sync()
        self.assertEqual([s for s in self.data_from(p, mark) if len(s.payload) > 1], [],
                         "netloom used the window of an older segment")
        self.open_window(p)

    def urgent(self, flags, pointer):
        p = Peer(self).open()
        payload = b"urgent!" + os.urandom(100)
        self.send(p.ack_segment(flags=flags, payload=payload, urgptr=pointer))
        p.snd_nxt = seq_add(p.snd_nxt, len(payload))
        p.sent += payload
        p.wait_echo()
        p.send_data(b"and then")

    def urgent_empty(self):
        p = Peer(self).open()
        p.send_data(b"before")
        self.send(p.ack_segment(flags=URG | ACK, urgptr=10))
        self.sync()
        p.send_data(b"after")


if __name__ == "__main__":
    sys.exit(run_tests(parse_args()))
