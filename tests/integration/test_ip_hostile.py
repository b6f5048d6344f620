#!/usr/bin/env python3
"""Hostile traffic against netloom's ipv4 layer (as root, in a throw-away namespace).

netloom runs on a TAP link (kernel side 10.67.0.1/24, netloom 10.67.0.2/24) with small bounds:
256 KiB of reassembly memory, a 2 s reassembly timeout, 64 fragments per datagram, 64 ARP
entries. Scapy, from inside the namespace, sends on the kernel side of the TAP: overlapping
fragments of an echo request, 10,000 fragment trains that never complete, tiny fragments,
malformed Ethernet/ARP/IPv4/ICMP/UDP of every kind the layer counts, and two ARP storms. After
each attack the matching drop counter must have gone up, the bounds must have held, and netloom
must still answer ping. The capture is malformed on purpose: tshark only has to read it.

Frames and the kernel's own pings share the TAP's one queue, so "a ping sent after the attack is
answered" means "netloom has taken in the whole attack": that is how the test synchronises."""
import argparse
import importlib.util
import json
import os
import random
import struct
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

from netns import Namespace, Netloom, require_root, run_tests, skip, tshark_readable, wait_for

ARGS = None
TAP = "nlhost0"
LINUX = "10.67.0.1"
NETLOOM = "10.67.0.2"
PREFIX = 16  # room for 5000 distinct on-link ARP senders
NETLOOM_MAC = "02:00:00:00:67:02"
REASSEMBLY_MEMORY = 256 * 1024
REASSEMBLY_TIMEOUT = 2  # seconds
MAX_FRAGMENTS = 64
ARP_CACHE = 64
TRAINS = 10_000
ARP_STORM = 5000
BATCH = 250  # frames between two synchronising pings: well under the TAP queue

CONFIG = f"""\
log: {{level: warn}}
scheduler: {{use: epoll}}
checksum: {{use: fast}}
stacks:
  main:
    device: {{use: pcap, file: {{pcap}},
              inner: {{use: tap, name: {TAP}, mac: "{NETLOOM_MAC}", mtu: 1500}}}}
    ip: {{use: ipv4, address: {NETLOOM}/{PREFIX}, reassembly_memory: {REASSEMBLY_MEMORY // 1024}KiB,
          reassembly_timeout: {REASSEMBLY_TIMEOUT}s, reassembly_max_fragments: {MAX_FRAGMENTS},
          arp_cache_size: {ARP_CACHE}}}
    apps:
      - {{use: udp_echo, role: server, port: 7}}
"""


def ip_checksum(header: bytes) -> int:
    total = sum(struct.unpack(f"!{len(header) // 2}H", header))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


class HostileTraffic(unittest.TestCase):
    def setUp(self):
        require_root(self, "tshark", "ping")
        if importlib.util.find_spec("scapy") is None:
            skip(self, "tool", "needs Scapy (python3-scapy; run scripts/setup.sh)")

    def test_netloom_survives_hostile_traffic(self):
        with Namespace("nlhx") as ns, tempfile.TemporaryDirectory() as tmp:
            os.chmod(tmp, 0o755)
            ns.add_tap(TAP, f"{LINUX}/{PREFIX}")
            # The kernel side queues what it sends to netloom; give bursts room.
            ns.run("ip", "link", "set", TAP, "txqueuelen", "10000")
            pcap = os.path.join(tmp, "hostile.pcap")
            config = os.path.join(tmp, "hostile.yaml")
            with open(config, "w") as f:
                f.write(CONFIG.replace("{pcap}", pcap))
            self.ns = ns
            self.netloom = Netloom(ns, ARGS.netloom, config, tmp, "hostile")
            self.netloom.wait_running()
            if not self.netloom.alive():
                self.fail("netloom exited early:\n" + self.netloom.output())
            self.linux_mac = json.loads(ns.run("ip", "-j", "link", "show", TAP).stdout)[0]["address"]
            try:
                with ns.entered():
                    # Imported inside the namespace: Scapy reads the routes and interfaces of
                    # the namespace it is imported in.
                    from scapy.all import conf
                    self.l2 = conf.L2socket(iface=TAP)
                    try:
                        self.attack()
                    finally:
                        self.l2.close()
            except BaseException:
                self.netloom.stop()
                print(self.netloom.output()[-20000:], file=sys.stderr)
                raise
            self.assertEqual(self.ping(3), 3, "netloom stopped answering ping")
            code, stats = self.netloom.stop()
            self.assertEqual(code, 0, self.netloom.output()[-20000:])
            if os.environ.get("NETLOOM_TEST_VERBOSE"):
                print(json.dumps(stats["main/ip"], indent=1, sort_keys=True), file=sys.stderr)
            self.assertGreater(stats["main/ip"]["eth_rx_frames"], TRAINS + 2 * ARP_STORM)
            summary = tshark_readable(self, pcap)
            self.assertGreater(len(summary.splitlines()), TRAINS + 2 * ARP_STORM)

    # --- helpers -------------------------------------------------------------------------

    def ip_counters(self):
        return self.netloom.stats()["main/ip"]

    def ping(self, count=1):
        """Linux pings netloom; returns the number of replies."""
        p = self.ns.run("ping", "-n", "-q", "-c", str(count), "-i", "0.2", "-W", "2", NETLOOM,
                        check=False, timeout=30)
        for line in p.stdout.splitlines():
            if "packets transmitted" in line:
                return int(line.split(",")[1].split()[0])
        return 0

    def sync(self):
        """Returns once netloom has taken in everything sent so far (it answers a later ping)."""
        wait_for(lambda: self.ping(1) == 1, 30, "netloom to answer a ping after the attack",
                 interval=0)

    def send(self, frames):
        sent = 0
        for frame in frames:
            self.l2.send(frame)
            sent += 1
            if sent % BATCH == 0:
                self.sync()
        self.sync()
        return sent

    def ether(self, dst=NETLOOM_MAC, type=0x0800):
        from scapy.all import Ether
        return Ether(dst=dst, src=self.linux_mac, type=type)

    def ipv4(self, **fields):
        from scapy.all import IP
        fields.setdefault("src", LINUX)
        fields.setdefault("dst", NETLOOM)
        return self.ether() / IP(**fields)

    def expect_increase(self, before, after, counter, at_least):
        self.assertGreaterEqual(after[counter] - before[counter], at_least,
                                f"{counter}: {before[counter]} -> {after[counter]}")

    def send_watching_replies(self, frames, identifier):
        """Sends `frames` while capturing what netloom sends; returns the echo replies carrying
        `identifier`. The capture ends once it has seen the reply to the synchronising ping
        (sent after the frames), so any reply to the frames would have been seen before it."""
        from scapy.all import ICMP, IP, AsyncSniffer
        seen = []
        started = threading.Event()
        sniffer = AsyncSniffer(iface=TAP, store=False, started_callback=started.set,
                               lfilter=lambda p: p.haslayer(IP) and p[IP].src == NETLOOM,
                               prn=seen.append)
        sniffer.start()
        try:
            wait_for(started.is_set, 10, "the capture to start")
            self.send(frames)
            wait_for(lambda: any(p.haslayer(ICMP) and p[ICMP].type == 0 and p[ICMP].id != identifier
                                 for p in list(seen)), 10, "the capture to see the ping's reply")
        finally:
            sniffer.stop()
        return [p for p in seen
                if p.haslayer(ICMP) and p[ICMP].type == 0 and p[ICMP].id == identifier]

    # --- the attacks ---------------------------------------------------------------------

    def attack(self):
        self.sync()
        with self.subTest("overlapping fragments of an echo request"):
            self.overlapping_fragments()
        with self.subTest("10,000 fragment trains that never complete"):
            self.incomplete_trains()
        with self.subTest("tiny, oversized and misaligned fragments"):
            self.bad_fragments()
        with self.subTest("malformed frames, one drop reason each"):
            self.malformed()
        with self.subTest("ARP storms"):
            self.arp_storms()

    def overlapping_fragments(self):
        from scapy.all import ICMP, Raw
        identifier = 0x0BAD
        icmp = bytes(ICMP(type=8, id=identifier, seq=1) / Raw(bytes(range(64))))  # 72 bytes
        # Piece A covers bytes 0..39, piece B 32..71: they disagree about 32..39 (RFC 5722).
        a = self.ipv4(id=0x4242, flags="MF", frag=0, proto=1) / Raw(icmp[:40])
        b = self.ipv4(id=0x4242, frag=4, proto=1) / Raw(icmp[32:])
        before = self.ip_counters()
        replies = self.send_watching_replies([a, b], identifier)
        after = self.ip_counters()
        self.expect_increase(before, after, "reasm_drop_overlap", 1)
        self.assertEqual(replies, [],
                         "netloom answered an echo request built from overlapping fragments")

    def incomplete_trains(self):
        from scapy.all import Raw
        # One template, then only the identification and the header checksum change.
        template = bytearray(bytes(self.ipv4(id=0, flags="MF", frag=0, proto=17)
                                   / Raw(bytes(1000))))
        before = self.ip_counters()

        def trains():
            for identification in range(1, TRAINS + 1):
                struct.pack_into("!H", template, 14 + 4, identification)
                struct.pack_into("!H", template, 14 + 10, 0)
                struct.pack_into("!H", template, 14 + 10, ip_checksum(bytes(template[14:34])))
                yield bytes(template)

        self.send(trains())
        during = self.ip_counters()
        self.expect_increase(before, during, "ipv4_rx_fragments", TRAINS)
        self.assertLessEqual(during["reasm_bytes_peak"], REASSEMBLY_MEMORY, during)
        self.assertLessEqual(during["reasm_bytes_current"], REASSEMBLY_MEMORY, during)
        # 10 MB of fragments cannot fit in 256 KiB: the oldest datagrams made room.
        self.expect_increase(before, during, "reasm_drop_memory", 1)
        self.assertGreater(during["reasm_datagrams_current"], 0, during)
        # Left alone, what is held times out.
        def drained():
            counters = self.ip_counters()
            return counters if counters["reasm_datagrams_current"] == 0 else None
        final = wait_for(drained, REASSEMBLY_TIMEOUT + 15, "reassembly to time out every train",
                         interval=0.2)
        self.expect_increase(before, final, "reasm_drop_timeout", 1)
        self.assertEqual(final["reasm_bytes_current"], 0, final)
        self.assertEqual(final["reasm_ok"], before["reasm_ok"], "a never-completed train completed")

    def bad_fragments(self):
        from scapy.all import ICMP, Raw
        before = self.ip_counters()
        # Tiny fragments (RFC 1858): an echo request cut in 8-byte pieces, 126 of them, more than
        # a datagram may have.
        icmp = bytes(ICMP(type=8, id=0x0C0C, seq=1) / Raw(bytes(1000)))
        tiny = [self.ipv4(id=0x5151, proto=1, frag=i,
                          flags="MF" if 8 * (i + 1) < len(icmp) else 0) / Raw(icmp[8 * i:8 * i + 8])
                for i in range(-(-len(icmp) // 8))]
        # A piece that would end past 65535 bytes.
        too_big = [self.ipv4(id=0x5252, proto=17, flags="MF", frag=0) / Raw(bytes(64)),
                   self.ipv4(id=0x5252, proto=17, frag=8189) / Raw(bytes(64))]
        # A middle piece whose length is not a multiple of 8 (RFC 791: only the last may be).
        misaligned = [self.ipv4(id=0x5353, proto=17, flags="MF", frag=0) / Raw(bytes(13))]
        replies = self.send_watching_replies(tiny + too_big + misaligned, 0x0C0C)
        after = self.ip_counters()
        self.expect_increase(before, after, "reasm_drop_too_many_fragments", 1)
        self.expect_increase(before, after, "reasm_drop_too_big", 1)
        self.expect_increase(before, after, "reasm_drop_bad_fragment", 1)
        self.assertEqual(replies, [],
                         "netloom answered an echo request of too many fragments")

    def malformed(self):
        from scapy.all import ARP, ICMP, IP, UDP, Raw
        n = 20
        good_ip = bytes(IP(src=LINUX, dst=NETLOOM, proto=17) / UDP(dport=7) / Raw(b"x" * 20))
        cases = {
            # counter: frames that must each be counted under it
            "ipv4_drop_truncated": [bytes(self.ether()) + good_ip[:12]],
            "ipv4_drop_bad_header_length": [self.ipv4(ihl=4) / Raw(bytes(40))],
            "ipv4_drop_bad_total_length": [self.ipv4(len=1000, proto=17) / Raw(bytes(100))],
            "ipv4_drop_bad_checksum": [self.ipv4(chksum=0x1234, proto=17) / UDP(dport=7)],
            "ipv4_drop_bad_version": [bytes(self.ether()) + bytes([0x65]) + good_ip[1:]],
            "ipv4_drop_not_for_us": [self.ipv4(dst="10.67.0.99") / UDP(dport=7)],
            "ipv4_drop_no_transport": [self.ipv4(proto=253) / Raw(bytes(16))],
            "icmp_drop_bad_checksum": [self.ipv4() / ICMP(type=8, id=0x0D0D, chksum=0x1234)],
            "udp_drop_bad_checksum": [self.ipv4() / UDP(dport=7, chksum=0x1234) / Raw(b"y" * 20)],
            "udp_drop_malformed": [self.ipv4() / UDP(dport=7, len=200) / Raw(b"z" * 20)],
            "udp_drop_no_port": [self.ipv4() / UDP(dport=9) / Raw(b"closed")],
            "eth_drop_not_for_us": [self.ether(dst="02:00:00:00:00:99") / IP(dst=NETLOOM)],
            "eth_drop_unknown_ethertype": [self.ether(type=0x88B5) / Raw(bytes(46))],
            "arp_drop_malformed": [
                self.ether(dst="ff:ff:ff:ff:ff:ff", type=0x0806) / ARP(hwlen=7, pdst=NETLOOM),
                bytes(self.ether(dst="ff:ff:ff:ff:ff:ff", type=0x0806)) + bytes(8)],
        }
        before = self.ip_counters()
        echoed_before = self.netloom.stats()["main/app0/udp_echo"]["echoed"]
        self.send([frame for frames in cases.values() for frame in frames for _ in range(n)])
        after = self.ip_counters()
        for counter, frames in cases.items():
            with self.subTest(counter):
                self.expect_increase(before, after, counter, n * len(frames))
        # The UDP datagrams among them were all bad: the echo server saw none.
        self.assertEqual(self.netloom.stats()["main/app0/udp_echo"]["echoed"], echoed_before)

    def arp_storms(self):
        from scapy.all import ARP
        rng = random.Random(7)

        def storm(target_is_netloom):
            # Distinct on-link senders (10.67.1.1 and up), each with its own unicast MAC.
            hosts = [h for h in range(256, 65024) if 0 < h & 0xFF < 255]
            for host in rng.sample(hosts, ARP_STORM):
                sender = f"10.67.{host >> 8}.{host & 0xFF}"
                target = NETLOOM if target_is_netloom else f"10.67.0.{rng.randrange(3, 255)}"
                mac = "02:" + ":".join(f"{rng.randrange(256):02x}" for _ in range(5))
                yield (self.ether(dst="ff:ff:ff:ff:ff:ff", type=0x0806)
                       / ARP(op=1, hwsrc=mac, psrc=sender, pdst=target))

        # Requests for other addresses: RFC 826 refreshes known senders only, adds nothing.
        before = self.ip_counters()
        self.send(storm(False))
        after = self.ip_counters()
        self.expect_increase(before, after, "arp_rx_not_for_us", ARP_STORM)
        self.assertLess(after["arp_tx_replies"] - before["arp_tx_replies"], 100, after)
        self.assertLessEqual(after["arp_cache_entries_peak"], ARP_CACHE, after)

        # Requests for netloom from 5000 strangers: each is answered and cached, and the cache
        # stays within its bound by evicting.
        before = after
        self.send(storm(True))
        after = self.ip_counters()
        self.expect_increase(before, after, "arp_rx_requests", ARP_STORM)
        self.expect_increase(before, after, "arp_tx_replies", ARP_STORM)
        self.assertLessEqual(after["arp_cache_entries_peak"], ARP_CACHE, after)
        self.assertLessEqual(after["arp_cache_entries_current"], ARP_CACHE, after)
        self.expect_increase(before, after, "arp_cache_evictions", ARP_STORM - ARP_CACHE)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--netloom", required=True)
    ARGS, rest = parser.parse_known_args()
    sys.exit(run_tests(rest))
