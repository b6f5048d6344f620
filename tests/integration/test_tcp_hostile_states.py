#!/usr/bin/env python3
"""Hostile segments to every TCP state (as root, in a throw-away namespace; scapy_peer.py has
the setup). Scapy drives each connection into the state under test and sends one crafted
segment (or a storm of them), asserting what RFC 9293 3.10.7 and RFC 5961 ask there; a Linux
client's echo must succeed after every case. The case table is printed.

How each state is reached (netloom's side): LISTEN is the echo port; SYN-RECEIVED a SYN whose
SYN-ACK is not acknowledged; FIN-WAIT-1 an HTTP/1.0 request to the http server (it answers and
closes) with the response acknowledged but not the FIN; FIN-WAIT-2 that FIN acknowledged;
CLOSING our FIN instead of the ACK; TIME-WAIT both FINs acknowledged (msl 5 s: TIME-WAIT lasts
10 s); CLOSE-WAIT data and FIN to the echo server while we advertise a zero window (sndbuf is
4 KiB, so the echo app blocks writing and never closes); LAST-ACK that window reopened, the echo
and netloom's FIN received, the FIN not acknowledged.
"""
import os
import sys

from netns import run_tests, wait_for
from scapy_peer import (ACK, ECHO_PORT, FIN, PSH, RST, SYN, HostileBase, Peer, parse_args,
                        seq_add, seq_lt)

HTTP_PORT = 80
REQUEST = b"GET / HTTP/1.0\r\n\r\n"


class HostileStates(HostileBase):
    NS_PREFIX = "nlths"
    PLUGINS = ("echo", "http")
    # The default challenge ACK budget (1000/s, engine-wide): the cases here must not run out of
    # it (utcp answers unacceptable segments in TIME-WAIT from it too); the limit itself is a
    # case in test_tcp_hostile_injection.py.
    TCP_KEYS = {"msl": "5s", "sndbuf": "4KiB", "rcvbuf": "16KiB"}

    def prepare(self, tmp):
        www = os.path.join(tmp, "www")
        os.mkdir(www)
        with open(os.path.join(www, "index.html"), "w") as f:
            f.write("<p>hostile states</p>\n")
        self.APPS = [{"use": "echo", "role": "server", "port": ECHO_PORT},
                     {"use": "http", "port": HTTP_PORT, "root": www}]

    def test_states(self):
        self.run_attack(self.attack)

    # --- reaching the states ---------------------------------------------------------------

    def syn_received(self):
        return Peer(self).open(complete=False)

    def fin_wait_1(self):
        """netloom's http server answered and closed; its FIN is not acknowledged."""
        p = Peer(self, dport=HTTP_PORT).open()
        mark = self.mark()
        p.send_data(REQUEST, expect_echo=False)
        fin = self.wait_seen(mark, "the http server's FIN",
                             lambda s: s.dport == p.sport and s.flags & FIN)[0]
        p.fin = seq_add(fin.seq, len(fin.payload))
        wait_for(lambda: len(p.stream()) >= (p.fin - p.irs - 1) % (1 << 32), 10,
                 "the whole response")
        p.rcv_nxt = p.fin
        self.send(p.ack_segment())  # the response, not the FIN
        return p

    def fin_wait_2(self):
        p = self.fin_wait_1()
        p.rcv_nxt = seq_add(p.fin, 1)
        self.send(p.ack_segment())
        self.sync()
        return p

    def closing(self):
        p = self.fin_wait_1()
        mark = self.mark()
        self.send(p.ack_segment(flags=FIN | ACK))
        p.snd_nxt = seq_add(p.snd_nxt, 1)
        p.wait_ack(mark, p.snd_nxt, "netloom's ACK of our FIN in CLOSING")
        return p

    def time_wait(self):
        p = self.fin_wait_2()
        mark = self.mark()
        self.send(p.ack_segment(flags=FIN | ACK))
        p.snd_nxt = seq_add(p.snd_nxt, 1)
        p.wait_ack(mark, p.snd_nxt, "netloom's ACK of our FIN (TIME-WAIT)")
        return p

    def close_wait(self):
        """8 KiB and our FIN to the echo server under a zero window: it cannot echo, so it
        never closes."""
        p = Peer(self, window=0).open()
        mark = self.mark()
        p.send_data(os.urandom(8192), segment_size=1024, expect_echo=False)
        self.send(p.ack_segment(flags=FIN | ACK))
        p.snd_nxt = seq_add(p.snd_nxt, 1)
        p.wait_ack(mark, p.snd_nxt, "netloom's ACK of our FIN (CLOSE-WAIT)")
        return p

    def last_ack(self):
        p = self.close_wait()
        mark = self.mark()
        p.window = 65535
        self.send(p.ack_segment())  # window update: the echo flows, then the app closes
        p.wait_echo()
        fin = self.wait_seen(mark, "the echo server's FIN",
                             lambda s: s.dport == p.sport and s.flags & FIN)[0]
        p.fin = seq_add(fin.seq, len(fin.payload))
        self.sync()
        return p

    # --- assertions ------------------------------------------------------------------------

    def answered_with_ack(self, p, segment, ack, what):
        mark = self.mark()
        self.send(segment)
        p.wait_ack(mark, ack, what)

    def challenged(self, p, segment, ack=None):
        """RFC 5961 3.2 / 4.2: a challenge ACK (for RCV.NXT) and no reset."""
        mark = self.mark()
        self.send(segment)
        p.wait_ack(mark, p.snd_nxt if ack is None else ack, "a challenge ACK")
        self.assertEqual(p.resets(mark), [], "netloom reset the connection")

    def silent(self, p, segment):
        mark = self.mark()
        self.send(segment)
        self.sync()
        self.assertEqual(p.from_netloom(mark), [], "netloom answered")

    def silent_listener(self, **fields):
        """A segment to the echo port from a port with no connection: nothing comes back."""
        sport = self.fresh_port()
        mark = self.mark()
        self.send(self.segment(sport, **fields))
        self.sync()
        self.assertEqual(self.seen_since(mark, sport), [], "netloom answered")

    def gone(self, p):
        """The connection no longer exists: data on it meets RFC 9293 3.10.7.1's RST."""
        mark = self.mark()
        self.send(p.ack_segment(flags=PSH | ACK, payload=b"still there?"))
        self.wait_seen(mark, "an RST from a closed connection",
                       lambda s: s.dport == p.sport and s.flags & RST)

    # --- the cases -------------------------------------------------------------------------

    def attack(self):
        c = self.case
        # LISTEN (RFC 9293 3.10.7.2)
        c("LISTEN: RST", "RFC 9293 3.10.7.2 (first)", "ignored, nothing sent",
          lambda: self.silent_listener(flags=RST, seq=5))
        c("LISTEN: ACK", "RFC 9293 3.10.7.2 (second)", "RST <SEQ=SEG.ACK>",
          self.listen_ack)
        c("LISTEN: data without SYN or ACK", "RFC 9293 3.10.7.2 (fourth)", "dropped, nothing sent",
          lambda: self.silent_listener(flags=PSH, seq=9, payload=b"BAD"))
        c("LISTEN: SYN+RST", "RFC 9293 3.10.7.2 (first: RST checked first)",
          "ignored, nothing sent",
          lambda: self.silent_listener(flags=SYN | RST, seq=77))
        c("LISTEN: SYN+ACK", "RFC 9293 3.10.7.2 (second: any ACK is bad)",
          "RST <SEQ=SEG.ACK>", self.listen_synack)
        c("LISTEN: FIN alone", "RFC 9293 3.10.7.2 (fourth)", "dropped, nothing sent",
          lambda: self.silent_listener(flags=FIN, seq=31))
        c("LISTEN: SYN carrying data", "RFC 9293 3.10.7.2 (third)",
          "SYN-ACK; the data delivered exactly once", self.syn_with_data)
        # SYN-RECEIVED
        c("SYN-RECEIVED: exact RST", "RFC 9293 3.10.7.4 (second, SYN-RECEIVED)",
          "the half-open connection is removed", self.syn_received_rst)
        c("SYN-RECEIVED: RST outside the window", "RFC 5961 3.2",
          "ignored; the handshake then completes", self.syn_received_far_rst)
        c("SYN-RECEIVED: in-window RST, not exact", "RFC 5961 3.2",
          "challenge ACK; the handshake then completes", self.syn_received_near_rst)
        c("SYN-RECEIVED: ACK of an unsent sequence number", "RFC 9293 3.10.7.4 (fifth)",
          "RST <SEQ=SEG.ACK>; the right ACK then completes", self.syn_received_bad_ack)
        c("SYN-RECEIVED: the SYN again", "RFC 9293 3.10.7.4; RFC 5961 4",
          "SYN-ACK retransmitted or challenge ACK; completes", self.syn_received_dup_syn)
        c("SYN-RECEIVED: data without the ACK bit", "RFC 9293 3.10.7.4 (fifth: no ACK, drop)",
          "dropped; the handshake then completes without it", self.syn_received_no_ack)
        c("SYN-RECEIVED: a SYN with another ISN", "RFC 9293 3.10.7.4 (fourth); RFC 5961 4",
          "no RST; one of the two handshakes completes and serves data",
          self.syn_received_other_isn)
        c("SYN-RECEIVED: ACK+data+FIN completing the handshake", "RFC 9293 3.10.7.4",
          "echo of the data, then netloom's FIN", self.syn_received_ack_fin)
        # ESTABLISHED (more in test_tcp_hostile_injection.py)
        c("ESTABLISHED: SYN+FIN", "RFC 9293 3.1 (meaningless combination)",
          "dropped and counted, connection unchanged", self.established_syn_fin)
        c("ESTABLISHED: netloom's receive window filled, then probed",
          "RFC 1122 4.2.2.16 (no shrinking); RFC 9293 3.10.7.4 (first: zero window)",
          "its right edge never moves left; the probe byte gets an ACK and is not taken",
          self.receive_window_fills)
        c("ESTABLISHED: FIN beyond a hole", "RFC 9293 3.10.7.4 (eighth: FIN only in sequence)",
          "held until the hole fills, then the echo and netloom's FIN", self.out_of_order_fin)
        # FIN-WAIT-1
        c("FIN-WAIT-1: data", "RFC 9293 3.10.7.4 (seventh)", "acknowledged",
          lambda: self.state_data(self.fin_wait_1(), fin_acked=False))
        c("FIN-WAIT-1: in-window RST, not exact", "RFC 5961 3.2", "challenge ACK",
          lambda: self.challenged_rst(self.fin_wait_1()))
        c("FIN-WAIT-1: ACK beyond our FIN", "RFC 9293 3.10.7.4 (fifth); RFC 5961 5.2",
          "ACK back, state kept", self.fin_wait_1_ack_beyond)
        c("FIN-WAIT-1: SYN", "RFC 5961 4.2", "challenge ACK",
          lambda: self.challenged_syn(self.fin_wait_1()))
        # FIN-WAIT-2
        c("FIN-WAIT-2: data", "RFC 9293 3.10.7.4 (seventh)", "acknowledged",
          lambda: self.state_data(self.fin_wait_2(), fin_acked=True))
        c("FIN-WAIT-2: data with FIN", "RFC 9293 3.10.7.4 (seventh, eighth)",
          "ACK of the data and the FIN (TIME-WAIT)", self.fin_wait_2_data_fin)
        c("FIN-WAIT-2: in-window RST, not exact", "RFC 5961 3.2", "challenge ACK",
          lambda: self.challenged_rst(self.fin_wait_2()))
        c("FIN-WAIT-2: RST storm (200, in window)", "RFC 5961 3.2, 7",
          "challenge ACKs (within the budget), never a reset", self.rst_storm)
        # CLOSING
        c("CLOSING: our FIN again", "RFC 9293 3.10.7.4 (first: unacceptable -> ACK)",
          "ACK of our FIN", lambda: self.fin_again(self.closing()))
        c("CLOSING: in-window RST, not exact", "RFC 5961 3.2", "challenge ACK",
          lambda: self.challenged_rst(self.closing()))
        c("CLOSING: ACK of netloom's FIN", "RFC 9293 3.10.7.4 (fifth, CLOSING)",
          "TIME-WAIT: our FIN again is acknowledged", self.closing_to_time_wait)
        # TIME-WAIT
        c("TIME-WAIT: our FIN again", "RFC 9293 3.10.7.4 (eighth, TIME-WAIT)",
          "ACK (2 MSL restarted)", lambda: self.fin_again(self.time_wait()))
        c("TIME-WAIT: an old duplicate data segment", "RFC 9293 3.10.7.4 (first)",
          "ACK of RCV.NXT", self.time_wait_old_data)
        c("TIME-WAIT: new data after the FIN", "RFC 9293 3.10.7.4 (seventh: ignore the text)",
          "no RST, no new connection", self.time_wait_new_data)
        c("TIME-WAIT: exact RST", "RFC 9293 3.10.7.4; RFC 1337", "nothing sent",
          lambda: self.silent_rst(self.time_wait()))
        c("TIME-WAIT: SYN with a higher ISN", "RFC 9293 3.10.7.4; RFC 6191",
          "a new connection that serves a request, or an ACK; never an RST",
          self.time_wait_new_syn)
        c("TIME-WAIT: SYN with a lower ISN", "RFC 9293 3.10.7.4; RFC 6191; RFC 5961 4.2",
          "no new connection: ACK or nothing", self.time_wait_old_syn)
        # CLOSE-WAIT
        c("CLOSE-WAIT: the FIN again", "RFC 9293 3.10.7.4 (first)", "ACK of the FIN",
          lambda: self.fin_again(self.close_wait()))
        c("CLOSE-WAIT: data after the FIN", "RFC 9293 3.10.7.4 (seventh, CLOSE-WAIT)",
          "ignored: never delivered", self.close_wait_data)
        c("CLOSE-WAIT: in-window RST, not exact", "RFC 5961 3.2", "challenge ACK",
          lambda: self.challenged_rst(self.close_wait()))
        c("CLOSE-WAIT: SYN", "RFC 5961 4.2", "challenge ACK",
          lambda: self.challenged_syn(self.close_wait()))
        c("CLOSE-WAIT: ACK of unsent data", "RFC 9293 3.10.7.4 (fifth); RFC 5961 5.2",
          "ACK back, state kept", self.close_wait_ack_unsent)
        c("CLOSE-WAIT: RST storm outside the window (200)", "RFC 5961 3.2",
          "all dropped silently", self.close_wait_far_rsts)
        c("CLOSE-WAIT: a retransmission running past the FIN, other bytes",
          "RFC 9293 3.10.7.4 (seventh: text after the FIN ignored)",
          "the echo is the bytes before the FIN, then netloom's FIN", self.past_fin)
        c("CLOSE-WAIT: FIN storm (200)", "RFC 9293 3.10.7.4",
          "ACKs, no state change; the echo and netloom's FIN follow", self.fin_storm)
        # LAST-ACK
        c("LAST-ACK: the FIN again", "RFC 9293 3.10.7.4 (eighth, LAST-ACK)", "ACK",
          lambda: self.fin_again(self.last_ack()))
        c("LAST-ACK: in-window RST, not exact", "RFC 5961 3.2", "challenge ACK",
          lambda: self.challenged_rst(self.last_ack()))
        c("LAST-ACK: exact RST", "RFC 9293 3.10.7.4 (second)", "connection closed",
          self.last_ack_rst)
        c("LAST-ACK: ACK of the FIN", "RFC 9293 3.10.7.4 (fifth, LAST-ACK)",
          "connection closed", self.last_ack_acked)

    def listen_ack(self):
        sport = self.fresh_port()
        mark = self.mark()
        self.send(self.segment(sport, seq=1000, ack=123456789, flags=ACK))
        rst = self.wait_seen(mark, "an RST for an ACK to the listener",
                             lambda s: s.dport == sport and s.flags & RST)[0]
        self.assertEqual((rst.seq, rst.flags & (RST | ACK)), (123456789, RST))

    def listen_synack(self):
        sport = self.fresh_port()
        mark = self.mark()
        self.send(self.segment(sport, seq=4000, ack=987654321, flags=SYN | ACK))
        rst = self.wait_seen(mark, "an RST for a SYN-ACK to the listener",
                             lambda s: s.dport == sport and s.flags & RST)[0]
        self.assertEqual((rst.seq, rst.flags & (RST | ACK)), (987654321, RST))

    def syn_received_no_ack(self):
        p = self.syn_received()
        self.send(p.ack_segment(flags=PSH, ack=0, payload=b"BAD early"))
        self.sync()
        self.send(p.ack_segment())
        p.send_data(b"completed")  # the echo holds only this

    def established_syn_fin(self):
        p = Peer(self).open()
        p.send_data(b"hello")
        before = self.tcp_stats()
        mark = self.mark()
        self.send(p.ack_segment(flags=SYN | FIN | ACK, payload=b"BAD syn fin"))
        p.send_data(b"after")
        self.assertEqual(p.resets(mark), [])
        self.expect_counted(before, self.tcp_stats(), 1, "rx_syn_fin")

    def receive_window_fills(self):
        p = Peer(self, window=0).open()  # we never read: the echo app blocks, its buffer fills

        def fill():
            last = [s for s in p.from_netloom() if s.flags & ACK][-1]
            right = seq_add(last.ack, last.window)
            if last.window == 0 and last.ack == p.snd_nxt:
                return True
            if seq_lt(p.snd_nxt, right):
                room = (right - p.snd_nxt) % (1 << 32)
                p.send_data(os.urandom(min(room, 1460)), expect_echo=False)
            return False

        wait_for(fill, 30, "netloom's receive window to close")
        edges = [seq_add(s.ack, s.window) for s in p.from_netloom() if s.flags & ACK]
        for a, b in zip(edges, edges[1:]):
            self.assertFalse(seq_lt(b, a), "netloom moved its right window edge left")
        mark = self.mark()
        self.send(p.ack_segment(flags=PSH | ACK, payload=b"?"))
        reply = p.wait_ack(mark, p.snd_nxt, "an ACK for the probe into the zero window")[0]
        self.assertEqual(reply.window, 0)
        p.window = 65535
        self.send(p.ack_segment())
        p.wait_echo(timeout=30)  # every byte taken, once; the probe byte never
        return f"{len(p.sent)} bytes filled the window"

    def out_of_order_fin(self):
        p = Peer(self).open()
        p.send_data(b"hello")
        mark = self.mark()
        base = p.snd_nxt
        self.send(p.ack_segment(flags=FIN | PSH | ACK, seq=seq_add(base, 5), payload=b"world"))
        p.wait_ack(mark, base, "a duplicate ACK for the FIN beyond the hole")
        p.send_data(b"more!", expect_echo=False)  # fills the hole: now the FIN is in order
        p.sent, p.snd_nxt = p.sent + b"world", seq_add(base, 11)
        p.wait_echo()
        self.wait_seen(mark, "netloom's FIN", lambda s: s.dport == p.sport and s.flags & FIN)
        self.assertEqual(p.resets(mark), [])

    def fin_wait_2_data_fin(self):
        p = self.fin_wait_2()
        mark = self.mark()
        self.send(p.ack_segment(flags=FIN | PSH | ACK, payload=b"bye"))
        p.snd_nxt = seq_add(p.snd_nxt, 4)
        p.wait_ack(mark, p.snd_nxt, "the ACK of the data and the FIN")

    def time_wait_new_syn(self):
        p = self.time_wait()
        q = Peer(self, sport=p.sport, isn=seq_add(p.snd_nxt, 100000), dport=HTTP_PORT)
        mark = self.mark()
        self.send(q.syn())
        reply = self.wait_seen(mark, "a reply to the new SYN",
                               lambda s: s.dport == p.sport)[0]
        self.assertFalse(reply.flags & RST, reply)
        if not reply.flags & SYN:
            return "ACK"
        q.open()  # the SYN again, answered like the first
        mark = self.mark()
        q.send_data(REQUEST, expect_echo=False)
        self.wait_seen(mark, "the http response on the new connection",
                       lambda s: s.dport == q.sport and s.payload.startswith(b"HTTP/1."))
        self.send(q.ack_segment(flags=RST | ACK))
        return "new connection"

    def close_wait_ack_unsent(self):
        p = self.close_wait()
        self.answered_with_ack(p, p.ack_segment(ack=seq_add(p.rcv_nxt, 5000)), p.snd_nxt,
                               "an ACK for the ACK of unsent data")
        self.fin_again(p)  # still in CLOSE-WAIT

    def close_wait_far_rsts(self):
        p = self.close_wait()
        mark = self.mark()
        self.send(*[p.ack_segment(flags=RST | ACK, seq=seq_add(p.snd_nxt, (1 << 30) + i))
                    for i in range(200)])
        self.sync()
        self.assertEqual([s for s in p.from_netloom(mark) if not s.payload], [],
                         "netloom answered an out-of-window RST")
        self.fin_again(p)

    def syn_with_data(self):
        p = Peer(self)
        mark = self.mark()
        self.send(p.syn() / b"early")
        synack = self.wait_seen(mark, "the SYN-ACK", lambda s: s.dport == p.sport and
                                s.flags & SYN)[0]
        self.assertIn(synack.ack, (seq_add(p.isn, 1), seq_add(p.isn, 6)))
        p.irs, p.rcv_nxt = synack.seq, seq_add(synack.seq, 1)
        taken = synack.ack == seq_add(p.isn, 6)
        if taken:  # taken with the SYN
            p.snd_nxt = synack.ack
            p.sent += b"early"
            self.send(p.ack_segment())
            p.send_data(b"late")
        else:  # not taken: a real peer sends it again
            self.send(p.ack_segment())
            p.send_data(b"earlylate")
        self.assertEqual(p.stream(), b"earlylate")
        return "data taken with the SYN" if taken else "data not taken, sent again"

    def syn_received_rst(self):
        p = self.syn_received()
        self.send(p.ack_segment(flags=RST))
        self.sync()
        self.gone(p)

    def syn_received_far_rst(self):
        p = self.syn_received()
        self.silent(p, p.ack_segment(flags=RST, seq=seq_add(p.snd_nxt, 1 << 30)))
        self.send(p.ack_segment())
        p.send_data(b"completed")

    def syn_received_near_rst(self):
        p = self.syn_received()
        mark = self.mark()
        self.send(p.ack_segment(flags=RST, seq=seq_add(p.snd_nxt, 10), ack=0))
        reply = self.wait_seen(mark, "a challenge ACK in SYN-RECEIVED",
                               lambda s: s.dport == p.sport)[0]
        self.assertFalse(reply.flags & RST, reply)
        self.assertEqual(reply.ack, p.snd_nxt)  # an ACK (or the SYN-ACK again) for RCV.NXT
        self.send(p.ack_segment())
        p.send_data(b"completed")
        return "SYN-ACK again" if reply.flags & SYN else "ACK"

    def syn_received_other_isn(self):
        p = self.syn_received()
        mark = self.mark()
        other = seq_add(p.isn, 1 << 28)
        self.send(self.segment(p.sport, seq=other, flags=SYN, options=[("MSS", 1460)]))
        reply = self.wait_seen(mark, "a reply to the second SYN",
                               lambda s: s.dport == p.sport)[0]
        self.assertFalse(reply.flags & RST, reply)
        if reply.flags & SYN and reply.ack == seq_add(other, 1):  # the new one won
            p.isn, p.snd_nxt = other, seq_add(other, 1)
            p.irs, p.rcv_nxt = reply.seq, seq_add(reply.seq, 1)
            outcome = "new handshake"
        else:
            outcome = "old handshake kept"
        self.send(p.ack_segment())
        p.send_data(b"completed")
        return outcome

    def syn_received_bad_ack(self):
        p = self.syn_received()
        mark = self.mark()
        bad = seq_add(p.rcv_nxt, 5000)
        self.send(p.ack_segment(ack=bad))
        rst = self.wait_seen(mark, "an RST for the bad ACK",
                             lambda s: s.dport == p.sport and s.flags & RST)[0]
        self.assertEqual(rst.seq, bad)
        self.send(p.ack_segment())
        p.send_data(b"completed")

    def syn_received_dup_syn(self):
        p = self.syn_received()
        mark = self.mark()
        self.send(p.syn())
        reply = self.wait_seen(mark, "a reply to the repeated SYN",
                               lambda s: s.dport == p.sport)[0]
        self.assertFalse(reply.flags & RST, reply)
        if reply.flags & SYN:
            self.assertEqual((reply.seq, reply.ack), (p.irs, p.snd_nxt))
        self.send(p.ack_segment())
        p.send_data(b"completed")
        return "SYN-ACK again" if reply.flags & SYN else "ACK"

    def syn_received_ack_fin(self):
        p = self.syn_received()
        mark = self.mark()
        self.send(p.ack_segment(flags=FIN | PSH | ACK, payload=b"one shot"))
        p.sent += b"one shot"
        p.snd_nxt = seq_add(p.snd_nxt, len(b"one shot") + 1)
        p.wait_echo()
        self.wait_seen(mark, "netloom's FIN", lambda s: s.dport == p.sport and s.flags & FIN)
        p.rcv_nxt = seq_add(p.rcv_nxt, 1)
        self.send(p.ack_segment())

    def state_data(self, p, fin_acked):
        # The http server reads (and drops) what comes after the request until our FIN.
        mark = self.mark()
        self.send(p.ack_segment(flags=PSH | ACK, payload=b"x" * 100))
        p.snd_nxt = seq_add(p.snd_nxt, 100)
        p.wait_ack(mark, p.snd_nxt, "an ACK of the data")
        self.assertEqual(p.resets(mark), [])

    def challenged_rst(self, p):
        self.challenged(p, p.ack_segment(flags=RST | ACK, seq=seq_add(p.snd_nxt, 100)))

    def challenged_syn(self, p):
        self.challenged(p, p.ack_segment(flags=SYN, ack=0))

    def fin_wait_1_ack_beyond(self):
        p = self.fin_wait_1()
        self.answered_with_ack(p, p.ack_segment(ack=seq_add(p.fin, 2)), p.snd_nxt,
                               "an ACK for the ACK of unsent data")
        mark = self.mark()
        p.rcv_nxt = seq_add(p.fin, 1)
        self.send(p.ack_segment(flags=FIN | ACK))  # a clean end: TIME-WAIT
        p.snd_nxt = seq_add(p.snd_nxt, 1)
        p.wait_ack(mark, p.snd_nxt, "the ACK of our FIN")

    def rst_storm(self):
        p = self.fin_wait_2()
        mark = self.mark()
        self.send(*[p.ack_segment(flags=RST | ACK, seq=seq_add(p.snd_nxt, 1 + i))
                    for i in range(200)])
        self.sync()
        challenges = p.acks_of(mark, p.snd_nxt)
        self.assertGreaterEqual(len(challenges), 1)
        self.assertLessEqual(len(challenges), 200)
        self.assertEqual(p.resets(mark), [])
        self.state_data(p, fin_acked=True)  # still there
        return f"{len(challenges)} challenge ACKs"

    def fin_again(self, p):
        self.answered_with_ack(p, p.ack_segment(flags=FIN | ACK, seq=seq_add(p.snd_nxt, -1)),
                               p.snd_nxt, "an ACK of the repeated FIN")

    def closing_to_time_wait(self):
        p = self.closing()
        p.rcv_nxt = seq_add(p.fin, 1)
        self.send(p.ack_segment())
        self.fin_again(p)

    def time_wait_old_data(self):
        p = self.time_wait()
        self.answered_with_ack(p, p.ack_segment(flags=PSH | ACK, seq=seq_add(p.snd_nxt, -50),
                                                payload=b"old"), p.snd_nxt,
                               "an ACK for an old segment in TIME-WAIT")

    def time_wait_new_data(self):
        p = self.time_wait()
        mark = self.mark()
        self.send(p.ack_segment(flags=PSH | ACK, payload=b"late"))
        self.sync()
        self.assertEqual([s for s in p.from_netloom(mark) if s.flags & (RST | SYN)], [])
        acks = [s for s in p.from_netloom(mark) if s.flags & ACK]
        return "ACK" if acks else "silent"

    def silent_rst(self, p):
        self.silent(p, p.ack_segment(flags=RST | ACK))

    def time_wait_old_syn(self):
        p = self.time_wait()
        mark = self.mark()
        self.send(self.segment(p.sport, dport=p.dport, seq=seq_add(p.isn, -100000), flags=SYN,
                               options=[("MSS", 1460)]))
        self.sync()
        replies = p.from_netloom(mark)
        self.assertEqual([s for s in replies if s.flags & SYN], [],
                         "a new connection from an old SYN in TIME-WAIT")

    def close_wait_data(self):
        p = self.close_wait()
        self.send(p.ack_segment(flags=PSH | ACK, payload=b"BAD after FIN"))
        self.sync()
        p.window = 65535
        self.send(p.ack_segment())
        mark = self.mark()
        p.wait_echo()
        self.wait_seen(0, "the echo server's FIN", lambda s: s.dport == p.sport and
                       s.flags & FIN)
        self.assertEqual(p.stream(), bytes(p.sent))
        self.assertEqual(p.resets(mark), [])

    def past_fin(self):
        p = Peer(self, window=0).open()
        base = p.snd_nxt
        self.send(p.ack_segment(flags=FIN | PSH | ACK, payload=b"0123456789"))
        p.snd_nxt, p.sent = seq_add(base, 11), p.sent + b"0123456789"
        mark = self.mark()
        p.wait_ack(mark, p.snd_nxt, "the ACK of the data and the FIN")
        self.send(p.ack_segment(flags=PSH | ACK, seq=base, payload=b"ABCDEFGHIJKLMNO"))
        self.sync()
        p.window = 65535
        self.send(p.ack_segment())
        p.wait_echo()
        self.wait_seen(mark, "the echo server's FIN", lambda s: s.dport == p.sport and
                       s.flags & FIN)
        self.assertEqual(p.stream(), b"0123456789")

    def fin_storm(self):
        p = self.close_wait()
        mark = self.mark()
        self.send(*[p.ack_segment(flags=FIN | ACK, seq=seq_add(p.snd_nxt, -1))
                    for _ in range(200)])
        p.wait_ack(mark, p.snd_nxt, "ACKs of the repeated FINs")
        p.window = 65535
        self.send(p.ack_segment())
        p.wait_echo()
        self.wait_seen(mark, "the echo server's FIN", lambda s: s.dport == p.sport and
                       s.flags & FIN)
        self.assertEqual(p.resets(mark), [])

    def last_ack_rst(self):
        p = self.last_ack()
        before = self.tcp_stats()
        self.send(p.ack_segment(flags=RST | ACK))
        wait_for(lambda: self.tcp_stats()["connections_current"] <
                 before["connections_current"], 10, "the RST to close LAST-ACK")
        self.gone(p)

    def last_ack_acked(self):
        p = self.last_ack()
        before = self.tcp_stats()
        p.rcv_nxt = seq_add(p.fin, 1)
        self.send(p.ack_segment())
        wait_for(lambda: self.tcp_stats()["connections_current"] <
                 before["connections_current"], 10, "the ACK to close LAST-ACK")
        self.gone(p)


if __name__ == "__main__":
    sys.exit(run_tests(parse_args()))
