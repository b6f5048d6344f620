#!/usr/bin/env python3
"""The SYN and SYN-ACK netloom's TCP engine sends, as tshark reads them (as root, in a
throw-away namespace).

netloom runs on a TAP link (kernel side 10.71.0.1/24, netloom 10.71.0.2/24) behind the pcap
driver, with two tcp_bulk apps: a client that sends 1 MiB to a Python server on Linux (netloom's
SYN) and a server that receives 1 MiB from a Python client (netloom's SYN-ACK to Linux's SYN,
which offers every option). With the engine's defaults both must carry MSS (1460 on a 1500-byte
MTU), SACK-permitted, timestamps and window scale (RFC 9293 3.7.1, RFC 2018, RFC 7323); every
data segment must carry timestamps and fit the MTU. A second run with `mss: 1200` and SACK,
timestamps and window scaling off must offer MSS 1200 alone, and Linux must then send segments
of at most 1200 bytes. Both captures must be clean for tshark with checksum validation on."""
import argparse
import hashlib
import os
import socket
import subprocess
import sys
import tempfile
import unittest

from netns import (Background, Namespace, Netloom, read_report, receive_all, require_plugins,
                   require_root, run_tests, tcp_config, tshark_check)

ARGS = None
TAP = "nlsyn0"
LINUX = "10.71.0.1"
NETLOOM = "10.71.0.2"
NETLOOM_MAC = "02:00:00:00:71:02"
LIMIT = 60
SIZE = 1 << 20
MSS_KIND, WSCALE_KIND, SACK_PERM_KIND, TIMESTAMP_KIND = 2, 3, 4, 8
FIELDS = ["frame.number", "tcp.option_kind", "tcp.options.mss_val", "tcp.options.wscale.shift",
          "tcp.options.timestamp.tsval", "tcp.len", "ip.len", "tcp.srcport", "tcp.dstport"]


def tshark_rows(pcap, display_filter):
    """One dict per packet matching `display_filter`, with FIELDS (multi-valued ones as lists)."""
    p = subprocess.run(["tshark", "-r", pcap, "-Y", display_filter, "-T", "fields",
                        "-E", "separator=/t", "-E", "occurrence=a", "-E", "aggregator=,",
                        *sum((["-e", f] for f in FIELDS), [])],
                       capture_output=True, text=True, timeout=120)
    if p.returncode != 0:
        raise AssertionError(f"tshark failed on {display_filter}: {p.stderr}")
    rows = []
    for line in p.stdout.splitlines():
        values = line.split("\t")
        row = {}
        for field, value in zip(FIELDS, values + [""] * len(FIELDS)):
            row[field] = [v for v in value.split(",") if v != ""]
        rows.append(row)
    return rows


def kinds(row):
    return {int(k) for k in row["tcp.option_kind"]}


class SynOptions(unittest.TestCase):
    def setUp(self):
        require_root(self, "tshark")
        require_plugins(self, ARGS.netloom, ARGS.engine, "tcp_bulk", "ipv4", "tap", "pcap")

    def exchange(self, ns, tmp, name, tcp_keys):
        """One run: netloom's client sends SIZE bytes to Linux (port 5010) and its server
        receives SIZE bytes from Linux (port 5011); both checked by sha256. Returns the pcap."""
        pcap = os.path.join(tmp, name + ".pcap")
        client_report = os.path.join(tmp, name + ".client.json")
        server_report = os.path.join(tmp, name + ".server.json")
        config = os.path.join(tmp, name + ".yaml")
        apps = [{"use": "tcp_bulk", "role": "client", "direction": "send", "target": LINUX,
                 "port": 5010, "bytes": SIZE, "seed": 21, "report": client_report},
                {"use": "tcp_bulk", "role": "server", "direction": "receive", "port": 5011,
                 "connections": 1, "report": server_report}]
        with open(config, "w") as f:
            f.write(tcp_config(engine=ARGS.engine, tap=TAP, mac=NETLOOM_MAC,
                               address=NETLOOM + "/24", apps=apps, limit=LIMIT, pcap=pcap,
                               tcp_keys=tcp_keys))
        with ns.entered():
            server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            client = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        data = os.urandom(SIZE)
        with server, client:
            server.bind((LINUX, 5010))
            server.listen(1)
            server.settimeout(LIMIT)

            def serve():
                conn, _ = server.accept()
                with conn:
                    conn.settimeout(LIMIT)
                    return receive_all(conn)[:2]

            linux = Background(serve)
            netloom = Netloom(ns, ARGS.netloom, config, tmp, name)
            try:
                netloom.wait_running()
                client.settimeout(LIMIT)
                client.connect((NETLOOM, 5011))
                client.sendall(data)
                client.shutdown(socket.SHUT_WR)
                code, _ = netloom.wait(timeout=LIMIT + 30)
                self.assertEqual(code, 0, netloom.output()[-10000:])
                count, sha = linux.result(30)
            except BaseException:
                if netloom.alive():
                    netloom.stop()
                print(netloom.output()[-10000:], file=sys.stderr)
                raise
        self.assertEqual(count, SIZE)
        self.assertEqual(read_report(self, client_report)["sha256"], sha)
        self.assertEqual(read_report(self, server_report)["sha256"],
                         hashlib.sha256(data).hexdigest())
        return pcap

    def test_syn_options(self):
        with Namespace("nlts") as ns, tempfile.TemporaryDirectory() as tmp:
            os.chmod(tmp, 0o755)
            ns.add_tap(TAP, LINUX + "/24")

            pcap = self.exchange(ns, tmp, "defaults", {})
            tshark_check(self, pcap)
            from_netloom = f"ip.src == {NETLOOM} && tcp.flags.syn == 1"
            syns = tshark_rows(pcap, from_netloom + " && tcp.flags.ack == 0")
            synacks = tshark_rows(pcap, from_netloom + " && tcp.flags.ack == 1")
            self.assertGreaterEqual(len(syns), 1, "no SYN from netloom in the capture")
            self.assertGreaterEqual(len(synacks), 1, "no SYN-ACK from netloom in the capture")
            for what, row in [("SYN", syns[0]), ("SYN-ACK", synacks[0])]:
                with self.subTest(what):
                    print(f"netloom's {what}: option kinds {row['tcp.option_kind']}, "
                          f"MSS {row['tcp.options.mss_val']}, "
                          f"wscale {row['tcp.options.wscale.shift']}", file=sys.stderr)
                    self.assertLessEqual({MSS_KIND, WSCALE_KIND, SACK_PERM_KIND, TIMESTAMP_KIND},
                                         kinds(row), row)
                    self.assertEqual(row["tcp.options.mss_val"], ["1460"], row)
                    self.assertTrue(0 <= int(row["tcp.options.wscale.shift"][0]) <= 14, row)
                    self.assertEqual(len(row["tcp.options.timestamp.tsval"]), 1, row)
            data = tshark_rows(pcap, f"ip.src == {NETLOOM} && tcp.len > 0")
            self.assertGreater(len(data), SIZE // 1460, "netloom's data segments")
            without_ts = [r for r in data if TIMESTAMP_KIND not in kinds(r)]
            self.assertEqual(without_ts, [], "data segments without timestamps (RFC 7323 3.2)")
            too_big = [r for r in data if int(r["ip.len"][0]) > 1500]
            self.assertEqual(too_big, [], "IP datagrams over the MTU")

            pcap = self.exchange(ns, tmp, "plain", {"mss": 1200, "sack": False,
                                                    "timestamps": False, "window_scaling": False})
            tshark_check(self, pcap)
            for what, flags in [("SYN", "tcp.flags.ack == 0"), ("SYN-ACK", "tcp.flags.ack == 1")]:
                rows = tshark_rows(pcap, f"ip.src == {NETLOOM} && tcp.flags.syn == 1 && {flags}")
                with self.subTest(what + " with options off"):
                    self.assertGreaterEqual(len(rows), 1)
                    # Only MSS, maybe padded with NOP (1) or EOL (0).
                    self.assertLessEqual(kinds(rows[0]), {MSS_KIND, 0, 1}, rows[0])
                    self.assertEqual(rows[0]["tcp.options.mss_val"], ["1200"], rows[0])
            linux_data = tshark_rows(pcap, f"ip.src == {LINUX} && tcp.len > 0")
            self.assertGreater(len(linux_data), 0)
            self.assertLessEqual(max(int(r["tcp.len"][0]) for r in linux_data), 1200,
                                 "Linux ignored the MSS netloom offered")
            netloom_data = tshark_rows(pcap, f"ip.src == {NETLOOM} && tcp.len > 0")
            self.assertEqual([r for r in netloom_data if TIMESTAMP_KIND in kinds(r)], [],
                             "timestamps on segments though they were not negotiated")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--netloom", required=True)
    parser.add_argument("--engine", default="tcp_utcp")
    ARGS, rest = parser.parse_known_args()
    sys.exit(run_tests(rest))
