#!/usr/bin/env python3
"""netloom's ipv4 layer against the Linux kernel stack (as root, in a throw-away namespace).

netloom runs on a TAP link (kernel side 10.66.0.1/24, netloom 10.66.0.2/24) with a capture and
a udp_echo server. Linux pings it (from a cold ARP cache: the first request must be answered
too), pings it with 8000-byte datagrams (fragmented both ways), resolves it with arping, sends
UDP datagrams of many sizes (some fragmented) to the echo server and gets the same bytes back,
and sees ConnectionRefusedError on a connected socket for a closed port. A second netloom run on
the same link pings Linux with the ping app and finishes by itself. Every capture must be clean
for tshark."""
import argparse
import os
import re
import socket
import subprocess
import sys
import tempfile
import unittest

from netns import Namespace, Netloom, require_root, run_tests, tshark_check, wait_for

ARGS = None
TAP = "nlip0"
LINUX = "10.66.0.1"
NETLOOM = "10.66.0.2"
NETLOOM_MAC = "02:00:00:00:66:02"
ECHO_PORT = 7
CLOSED_PORT = 9
UDP_SIZES = [0, 1, 18, 64, 512, 1472, 1473, 4000, 8000, 20000]

CONFIG = """\
log: {{level: info}}
scheduler: {{use: epoll}}
checksum: {{use: fast}}
stacks:
  main:
    device: {{use: pcap, file: {pcap},
              inner: {{use: tap, name: {tap}, mac: "{mac}", mtu: 1500}}}}
    ip: {{use: ipv4, address: {address}/24}}
    apps:
      - {{use: udp_echo, role: server, port: {port}}}
{extra}"""

PING_LINUX = """\
      - {{use: ping, target: {target}, count: {count}, interval: 100ms, timeout: 2s}}
"""


def write_config(tmp, name, extra=""):
    pcap = os.path.join(tmp, name + ".pcap")
    path = os.path.join(tmp, name + ".yaml")
    with open(path, "w") as f:
        f.write(CONFIG.format(pcap=pcap, tap=TAP, mac=NETLOOM_MAC, address=NETLOOM,
                              port=ECHO_PORT, extra=extra))
    return path, pcap


def ping_summary(output):
    m = re.search(r"(\d+) packets transmitted, (\d+) received", output)
    if not m:
        raise AssertionError("no ping summary in:\n" + output)
    return int(m.group(1)), int(m.group(2))


def pattern(size):
    return bytes((i * 7 + size) % 256 for i in range(size))


class IpAgainstLinux(unittest.TestCase):
    def setUp(self):
        require_root(self, "tshark", "ping", "arping", "nc")

    def start(self, ns, tmp, name, extra=""):
        config, pcap = write_config(tmp, name, extra)
        netloom = Netloom(ns, ARGS.netloom, config, tmp, name)
        # Stacks built and started (the TAP attached), the loop about to run.
        netloom.wait_running()
        if not netloom.alive():
            self.fail("netloom exited early:\n" + netloom.output())
        return netloom, pcap

    def test_linux_and_netloom_talk(self):
        with Namespace("nlip") as ns, tempfile.TemporaryDirectory() as tmp:
            os.chmod(tmp, 0o755)
            ns.add_tap(TAP, LINUX + "/24")
            netloom, pcap = self.start(ns, tmp, "serve")
            try:
                self.linux_to_netloom(ns, netloom)
            except BaseException:
                netloom.stop()
                print(netloom.output(), file=sys.stderr)
                raise
            code, stats = netloom.stop()
            self.assertEqual(code, 0, netloom.output())
            self.assertGreaterEqual(stats["main/ip"]["icmp_rx_echo_requests"], 23)
            tshark_check(self, pcap)

            # Second run on the same link: netloom pings Linux and finishes by itself. Its ARP
            # cache starts empty, so it resolves Linux first.
            netloom, pcap = self.start(ns, tmp, "ping", PING_LINUX.format(target=LINUX, count=5))
            code, stats = netloom.wait(timeout=30)
            self.assertEqual(code, 0, netloom.output())
            ping = stats["main/app1/ping"]
            self.assertEqual((ping["transmitted"], ping["received"], ping["lost"]), (5, 5, 0), ping)
            self.assertGreaterEqual(stats["main/ip"]["arp_tx_requests"], 1, stats["main/ip"])
            self.assertGreaterEqual(stats["main/ip"]["arp_rx_replies"], 1, stats["main/ip"])
            self.assertIn("5 packets transmitted, 5 received, 0% packet loss", netloom.output())
            summary = tshark_check(self, pcap)
            self.assertIn("Echo (ping) reply", summary)

    def linux_to_netloom(self, ns, netloom):
        before = netloom.stats()["main/ip"]

        with self.subTest("ping from a cold ARP cache, first request answered"):
            self.assertNotIn(NETLOOM, ns.run("ip", "neigh", "show", "dev", TAP).stdout)
            p = ns.run("ping", "-n", "-c", "20", "-i", "0.2", "-W", "1", NETLOOM, check=False,
                       timeout=40)
            self.assertEqual(ping_summary(p.stdout), (20, 20), p.stdout)
            self.assertRegex(p.stdout, r"icmp_seq=1 ttl=\d+ time=")
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)

        with self.subTest("8000-byte ping: fragmented both ways"):
            p = ns.run("ping", "-n", "-c", "3", "-i", "0.2", "-W", "2", "-s", "8000", NETLOOM,
                       check=False, timeout=30)
            self.assertEqual(ping_summary(p.stdout), (3, 3), p.stdout)
            self.assertIn("8008 bytes from " + NETLOOM, p.stdout)

        with self.subTest("arping resolves netloom's address"):
            help_text = subprocess.run(["arping", "--help"], capture_output=True, text=True).stdout
            # Debian's `arping` (Habets) takes -i; the iputils one takes -I.
            flag = "-I" if "-I <device>" in help_text or "[-I device]" in help_text else "-i"
            p = ns.run("arping", "-c", "3", flag, TAP, NETLOOM, check=False, timeout=30)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            self.assertIn(NETLOOM_MAC, p.stdout.lower())

        with ns.entered():
            with self.subTest("UDP echo of many sizes, some fragmented"):
                with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                    s.settimeout(3)
                    for size in UDP_SIZES:
                        payload = pattern(size)
                        s.sendto(payload, (NETLOOM, ECHO_PORT))
                        data, sender = s.recvfrom(65535)
                        self.assertEqual(sender, (NETLOOM, ECHO_PORT))
                        self.assertEqual(len(data), size)
                        self.assertEqual(data, payload, f"echo of {size} bytes differs")

            with self.subTest("a closed port refuses a connected socket"):
                with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                    s.settimeout(3)
                    s.connect((NETLOOM, CLOSED_PORT))
                    s.send(b"anyone there?")
                    with self.assertRaises(ConnectionRefusedError):
                        s.recv(100)

        with self.subTest("nc -u gets its line echoed"):
            p = ns.run("nc", "-u", "-w", "1", NETLOOM, str(ECHO_PORT), input="hello\n",
                       check=False, timeout=20)
            self.assertEqual(p.stdout, "hello\n", p.stderr)

        after = netloom.stats()
        ip = after["main/ip"]
        delta = {k: ip[k] - before.get(k, 0) for k in ip}
        self.assertGreaterEqual(delta["icmp_rx_echo_requests"], 23, delta)
        self.assertGreaterEqual(delta["icmp_tx_echo_replies"], 23, delta)
        self.assertGreaterEqual(delta["arp_tx_replies"], 3, delta)  # at least arping's
        # 8000-byte pings and the 4000+ byte datagrams came in fragments and went out in them.
        self.assertGreaterEqual(delta["reasm_ok"], 3 + 3, delta)
        self.assertGreaterEqual(delta["ipv4_frag_tx"], 3 * 6, delta)
        self.assertGreaterEqual(delta["udp_drop_no_port"], 1, delta)
        self.assertGreaterEqual(delta["icmp_tx_unreachable"], 1, delta)
        for reason in ("ipv4_drop_bad_checksum", "udp_drop_bad_checksum", "icmp_drop_bad_checksum",
                       "reasm_drop_overlap", "reasm_drop_memory", "udp_drop_queue_full"):
            self.assertEqual(delta[reason], 0, f"{reason}: {delta}")
        server = after["main/app0/udp_echo"]
        self.assertEqual(server["echoed"], len(UDP_SIZES) + 1, server)  # + nc's line
        self.assertEqual(server["received_bytes"], sum(UDP_SIZES) + len("hello\n"), server)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--netloom", required=True)
    ARGS, rest = parser.parse_known_args()
    sys.exit(run_tests(rest))
