#!/usr/bin/env python3
"""Linux sends frames to netloom's `tap` driver; netloom records them through `pcap`; tshark reads
the capture without warnings and finds the frames Linux sent (ARP requests for netloom's address)."""
import argparse
import os
import struct
import sys
import tempfile
import unittest

from netns import Namespace, require_root, run_tests, stop, tshark_check, wait_for

ARGS = None

CONFIG = """\
scheduler: {{use: epoll}}
checksum: {{use: ref}}
stacks:
  probe:
    device:
      use: pcap
      file: {pcap}
      inner: {{use: tap, name: {tap}, mac: "02:00:00:00:77:02"}}
"""


def pcap_records(path):
    """Frames of a classic pcap file, parsed independently of netloom."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        return []
    magic, = struct.unpack("<I", data[:4])
    assert magic == 0xA1B2C3D4, hex(magic)
    frames, offset = [], 24
    while offset + 16 <= len(data):
        _, _, incl, orig = struct.unpack("<IIII", data[offset:offset + 16])
        offset += 16
        if offset + incl > len(data):
            break  # a record still being written
        frames.append(data[offset:offset + incl])
        offset += incl
    return frames


def is_arp_request_for(frame, target_ip):
    return (len(frame) >= 42 and frame[12:14] == b"\x08\x06" and frame[20:22] == b"\x00\x01"
            and frame[38:42] == bytes(target_ip))


class TapCapture(unittest.TestCase):
    def test_linux_frames_reach_netloom_and_the_capture(self):
        require_root(self, "tshark", "ping")
        with Namespace("nlt") as ns, tempfile.TemporaryDirectory() as tmp:
            os.chmod(tmp, 0o755)
            pcap = os.path.join(tmp, "tap.pcap")
            config = os.path.join(tmp, "tap.yaml")
            tap = "nltap0"
            with open(config, "w") as f:
                f.write(CONFIG.format(pcap=pcap, tap=tap))
            netloom = ns.spawn(ARGS.netloom, "run", config)
            wait_for(lambda: ns.link_exists(tap) or netloom.poll() is not None, 20, "the TAP device")
            if netloom.poll() is not None:
                self.fail("netloom exited early: " + netloom.stderr.read())
            ns.run("ip", "addr", "add", "10.77.0.1/24", "dev", tap)
            ns.run("ip", "link", "set", tap, "up")
            target = [10, 77, 0, 2]
            # The kernel resolves 10.77.0.2 by ARP on the TAP link: those requests are the frames
            # netloom must see. Nothing answers (no IP layer in this config), so ping fails.
            def arp_seen():
                ns.run("ping", "-c", "1", "-W", "0.2", "10.77.0.2", check=False)
                return any(is_arp_request_for(fr, target) for fr in pcap_records(pcap))
            wait_for(arp_seen, 30, "an ARP request from Linux in the capture", interval=0)
            code, out, err = stop(netloom)
            self.assertEqual(code, 0, err)
            frames = pcap_records(pcap)
            self.assertTrue(any(is_arp_request_for(fr, target) for fr in frames))
            # The stats table printed at exit counts what the tap driver received.
            rx = [line for line in out.splitlines() if "rx_frames" in line and "tap" in line]
            self.assertTrue(rx, out)
            self.assertGreaterEqual(int(rx[0].split()[-1]), 1)
            summary = tshark_check(self, pcap)
            self.assertIn("Who has 10.77.0.2?", summary)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--netloom", required=True)
    ARGS, rest = parser.parse_known_args()
    sys.exit(run_tests(rest))
