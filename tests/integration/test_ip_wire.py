#!/usr/bin/env python3
"""Two netloom stacks with the ipv4 layer on the in-process wire (no root needed): the client
pings the server and runs a udp_echo client against the server's udp_echo server, and the run
ends by itself. The exit status, the apps' and IP layers' counters, and (with captures on both
stacks) tshark's reading of every frame are checked."""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

from netns import run_tests, skip, tshark_check

ARGS = None
HERE = os.path.dirname(os.path.abspath(__file__))
SHIPPED = os.path.join(HERE, "..", "..", "configs", "ping_wire.yaml")

PINGS = 5
DATAGRAMS = 20
SIZE = 3000  # over the 1500-byte MTU: three fragments each way (1480 + 1480 + 48 bytes)

CAPTURED = """\
log: {{level: info}}
scheduler: {{use: epoll}}
checksum: {{use: fast}}
stacks:
  server:
    device: {{use: pcap, file: {server_pcap},
              inner: {{use: wire, link: lan0, mac: "02:00:00:00:00:02"}}}}
    ip: {{use: ipv4, address: 10.0.0.2/24}}
    apps: [{{use: udp_echo, role: server, port: 7}}]
  client:
    device: {{use: pcap, file: {client_pcap},
              inner: {{use: wire, link: lan0, mac: "02:00:00:00:00:01"}}}}
    ip: {{use: ipv4, address: 10.0.0.1/24}}
    apps:
      - {{use: ping, target: 10.0.0.2, count: {pings}, interval: 20ms}}
      - {{use: udp_echo, role: client, target: 10.0.0.2, port: 7, count: {datagrams},
         size: {size}, interval: 5ms}}
"""

# Drops that must not happen between two netloom stacks on a clean wire.
CLEAN_IP = ["ipv4_drop_bad_version", "ipv4_drop_bad_header_length", "ipv4_drop_bad_total_length",
            "ipv4_drop_bad_checksum", "ipv4_drop_not_for_us", "ipv4_drop_no_transport",
            "icmp_drop_bad_checksum", "udp_drop_bad_checksum", "udp_drop_no_port",
            "udp_drop_queue_full", "udp_drop_malformed", "reasm_drop_overlap",
            "reasm_drop_timeout", "reasm_drop_memory", "arp_resolve_failures", "arp_queue_drops"]


def run_netloom(config, stats_json, timeout=60):
    """Runs a config that finishes by itself; bounded in time."""
    return subprocess.run([ARGS.netloom, "run", config, "--stats-json", stats_json, "--no-stats"],
                          capture_output=True, text=True, timeout=timeout)


class IpOverWire(unittest.TestCase):
    def check_run(self, p, stats_json, pings, datagrams, size):
        self.assertEqual(p.returncode, 0, f"netloom failed:\n{p.stdout}\n{p.stderr}")
        with open(stats_json) as f:
            stats = json.load(f)
        ping = stats["client/app0/ping"]
        self.assertEqual(ping["transmitted"], pings, ping)
        self.assertEqual(ping["received"], pings, ping)
        self.assertEqual(ping["lost"] + ping["corrupt"] + ping["send_failed"], 0, ping)
        self.assertLessEqual(ping["rtt_us_min"], ping["rtt_us_max"])
        echo = stats["client/app1/udp_echo"]
        self.assertEqual(echo["sent"], datagrams, echo)
        self.assertEqual(echo["received"], datagrams, echo)
        self.assertEqual(echo["lost"] + echo["corrupt"] + echo["send_failed"], 0, echo)
        self.assertLessEqual(echo["rtt_us_min"], echo["rtt_us_median"])
        self.assertLessEqual(echo["rtt_us_median"], echo["rtt_us_max"])
        server = stats["server/app0/udp_echo"]
        self.assertEqual(server["echoed"], datagrams, server)
        self.assertEqual(server["received_bytes"], datagrams * size, server)
        client_ip, server_ip = stats["client/ip"], stats["server/ip"]
        self.assertEqual(server_ip["icmp_rx_echo_requests"], pings, server_ip)
        self.assertEqual(server_ip["icmp_tx_echo_replies"], pings, server_ip)
        self.assertEqual(server_ip["udp_rx"], datagrams, server_ip)
        self.assertEqual(client_ip["udp_rx"], datagrams, client_ip)
        fragments = -(-(size + 8) // 1480)  # UDP header + payload in 1480-byte pieces
        if fragments > 1:
            # Each side fragments what it sends and reassembles what it receives.
            self.assertGreaterEqual(client_ip["ipv4_frag_tx"], datagrams * fragments, client_ip)
            self.assertGreaterEqual(server_ip["ipv4_frag_tx"], datagrams * fragments, server_ip)
            self.assertEqual(server_ip["reasm_ok"], datagrams, server_ip)
            self.assertEqual(client_ip["reasm_ok"], datagrams, client_ip)
        for side, counters in (("client", client_ip), ("server", server_ip)):
            for name in CLEAN_IP:
                self.assertEqual(counters[name], 0, f"{side}/ip {name}: {counters}")
            self.assertEqual(counters["reasm_datagrams_current"], 0, counters)
        # Each stack resolved the other once (one request out, the other learned from it).
        self.assertGreaterEqual(client_ip["arp_tx_requests"], 1, client_ip)
        return stats

    def test_shipped_config_finishes_with_every_reply(self):
        with tempfile.TemporaryDirectory() as tmp:
            stats_json = os.path.join(tmp, "stats.json")
            p = run_netloom(SHIPPED, stats_json)
            self.check_run(p, stats_json, pings=5, datagrams=20, size=3000)
            self.assertIn("5 packets transmitted, 5 received, 0% packet loss", p.stdout + p.stderr)
            self.assertIn("20 sent, 20 received, 0 lost, 0 corrupt", p.stdout + p.stderr)

    def test_captures_are_clean_for_tshark(self):
        if shutil.which("tshark") is None:
            skip(self, "tool", "needs 'tshark' (run scripts/setup.sh)")
        with tempfile.TemporaryDirectory() as tmp:
            client_pcap = os.path.join(tmp, "client.pcap")
            server_pcap = os.path.join(tmp, "server.pcap")
            config = os.path.join(tmp, "ping_wire.yaml")
            with open(config, "w") as f:
                f.write(CAPTURED.format(client_pcap=client_pcap, server_pcap=server_pcap,
                                        pings=PINGS, datagrams=DATAGRAMS, size=SIZE))
            stats_json = os.path.join(tmp, "stats.json")
            p = run_netloom(config, stats_json)
            self.check_run(p, stats_json, PINGS, DATAGRAMS, SIZE)
            for pcap in (client_pcap, server_pcap):
                tshark_check(self, pcap)
                replies = self.tshark_lines(pcap, "icmp.type == 0 && ip.src == 10.0.0.2")
                self.assertEqual(len(replies), PINGS, replies)
                requests = self.tshark_lines(pcap, "icmp.type == 8 && ip.dst == 10.0.0.2")
                self.assertEqual(len(requests), PINGS, requests)
                # tshark reassembles the fragments: one UDP datagram per echo each way.
                echoes = self.tshark_lines(pcap, f"udp.srcport == 7 && udp.length == {SIZE + 8}")
                self.assertEqual(len(echoes), DATAGRAMS, echoes)
                sent = self.tshark_lines(pcap, f"udp.dstport == 7 && udp.length == {SIZE + 8}")
                self.assertEqual(len(sent), DATAGRAMS, sent)
                self.assertTrue(self.tshark_lines(pcap, "ip.flags.mf == 1"), "no fragments")
                self.assertTrue(self.tshark_lines(pcap, "arp.opcode == 2"), "no ARP reply")

    def tshark_lines(self, pcap, display_filter):
        p = subprocess.run(["tshark", "-r", pcap, "-Y", display_filter], capture_output=True,
                           text=True, timeout=120)
        self.assertEqual(p.returncode, 0, p.stderr)
        return [line for line in p.stdout.splitlines() if line.strip()]


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--netloom", required=True)
    ARGS, rest = parser.parse_known_args()
    sys.exit(run_tests(rest))
