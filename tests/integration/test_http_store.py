#!/usr/bin/env python3
"""netloom's `http` app serving files from tar archives on block devices, against curl from the
Linux kernel (as root, in a throw-away namespace), once per TCP engine (--engine).

A directory (a random file of --bytes, an index.html, a file under a name over 100 bytes, a
symlink) is archived twice by GNU tar, as `tar -cf` (GNU format: long names in 'L' members) and
`tar --format=pax -cf` (pax `path` records). One netloom run serves, over a TAP link (kernel
side 10.72.0.1/24, netloom 10.72.0.2/24): port 80 the GNU archive on blk_sync (8 sectors per
pread), port 8080 the pax archive on blk_ram (the image copied in), port 8081 the GNU archive
through blk_faults failing the sectors of index.html (one sector per request). curl fetches the big file from both
with the same sha256 as the original, a range request gets exactly those bytes, HEAD the length,
the long name and "/" (index.html) their contents, a symlink and a missing file 404; on the
failing disk index.html is a 500 and the server goes on serving the big file."""
import argparse
import hashlib
import os
import subprocess
import sys
import tarfile

from netns import OneServerOnTap, counter, require_plugins, require_root, run_tests, tcp_config

ARGS = None
TAP = "nlhstore0"
LINUX = "10.72.0.1"
NETLOOM = "10.72.0.2"
NETLOOM_MAC = "02:00:00:00:72:02"
LIMIT = 150  # run.duration: a hang guard; the test stops the server with SIGINT
MiB = 1 << 20
LONG_NAME = "d" * 60 + "/" + "long-" + "n" * 90 + ".txt"  # 157 bytes: over ustar's 100
FIGURES = []
PORTS = {"gnu on blk_sync": 80, "pax on blk_ram": 8080}


class HttpStoreAgainstCurl(OneServerOnTap):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        site = os.path.join(cls.tmp, "site")
        os.makedirs(os.path.join(site, os.path.dirname(LONG_NAME)))
        cls.data = os.urandom(ARGS.bytes)
        cls.data_sha = hashlib.sha256(cls.data).hexdigest()
        with open(os.path.join(site, "big.bin"), "wb") as f:
            f.write(cls.data)
        with open(os.path.join(site, "index.html"), "w") as f:
            f.write("<h1>netloom store</h1>\n")
        with open(os.path.join(site, LONG_NAME), "w") as f:
            f.write("a long name\n")
        os.symlink("/etc/passwd", os.path.join(site, "passwd"))
        cls.gnu = os.path.join(cls.tmp, "gnu.tar")
        cls.pax = os.path.join(cls.tmp, "pax.tar")
        cls.archive_error = None
        try:
            subprocess.run(["tar", "-C", site, "-cf", cls.gnu, "."], check=True)
            subprocess.run(["tar", "--format=pax", "-C", site, "-cf", cls.pax, "."], check=True)
            with tarfile.open(cls.gnu) as t:
                index = t.getmember("./index.html")
                first, last = index.offset_data // 512, (index.offset_data + index.size - 1) // 512
                cls.bad_sectors = str(first) if first == last else f"{first}-{last}"
        except (OSError, subprocess.CalledProcessError) as e:
            cls.archive_error = f"GNU tar: {e}"

    def config(self) -> str:
        # On the failing disk one sector per request, one at a time: the index build then reads
        # header blocks only, never the failing data next to them.
        apps = [{"use": "http", "port": port, "max_connections": 16, "idle_timeout": "10s",
                 "store": {"block": block, "read_size": size, "in_flight": ahead}}
                for port, block, size, ahead in ((80, "gnu", 64, 4), (8080, "pax", 64, 4),
                                                 (8081, "failing", 1, 1))]
        return tcp_config(engine=ARGS.engine, tap=TAP, mac=NETLOOM_MAC, address=NETLOOM + "/24",
                          limit=LIMIT, apps=apps) + (
            "blocks:\n"
            f"  gnu: {{use: blk_sync, path: {self.gnu}, read_only: true, sectors_per_request: 8}}\n"
            f"  pax: {{use: blk_ram, image: {self.pax}, read_only: true}}\n"
            f"  failing: {{use: blk_faults, read_errors: [{self.bad_sectors}], "
            f"inner: {{use: blk_sync, path: {self.gnu}, read_only: true}}}}\n")

    def setUp(self):
        require_root(self, "curl", "tar")
        require_plugins(self, ARGS.netloom, ARGS.engine, "http", "ipv4", "tap", "blk_sync",
                        "blk_ram", "blk_faults")
        if self.archive_error:
            self.fail(self.archive_error)
        self.start_server(netloom=ARGS.netloom, prefix="nlhs", tap=TAP, linux_cidr=LINUX + "/24",
                          name="http_store", config=self.config)

    def curl(self, port, path, *args):
        """curl in the namespace: (http code, body)."""
        p = self.ns.run("curl", "-sS", "--max-time", "30", "-w", "\n%{http_code}", *args,
                        f"http://{NETLOOM}:{port}{path}", check=False, timeout=60)
        self.assertEqual(p.returncode, 0, f"curl {path} failed: {p.stderr}\n" +
                         self.netloom.output()[-3000:])
        body, _, code = p.stdout.rpartition("\n")
        return int(code), body

    def test_a_big_file_has_the_same_sha256_from_both_archives(self):
        for what, port in PORTS.items():
            with self.subTest(archive=what):
                code, digest, seconds, speed = self.curl_download(
                    f"http://{NETLOOM}:{port}/big.bin")
                self.assertEqual((code, digest), (200, self.data_sha))
                FIGURES.append((what, len(self.data), seconds, speed))

    def test_b_range_head_long_name_index_and_404(self):
        for what, port in PORTS.items():
            with self.subTest(archive=what):
                out = os.path.join(self.tmp, "range.out")
                first, last = 1_000_003, min(len(self.data) - 1, 3_000_000)
                p = self.ns.run("curl", "-sS", "-r", f"{first}-{last}", "-o", out, "-w",
                                "%{http_code}", f"http://{NETLOOM}:{port}/big.bin", check=False)
                self.assertEqual((p.returncode, p.stdout), (0, "206"), p.stderr)
                with open(out, "rb") as f:
                    self.assertEqual(f.read(), self.data[first:last + 1])
                p = self.ns.run("curl", "-sS", "-I", f"http://{NETLOOM}:{port}/big.bin",
                                check=False)
                lines = [line.strip() for line in p.stdout.lower().splitlines()]
                self.assertTrue(lines[0].startswith("http/1.1 200"), p.stdout)
                self.assertIn(f"content-length: {len(self.data)}", lines)
                self.assertEqual(self.curl(port, "/" + LONG_NAME), (200, "a long name\n"))
                self.assertEqual(self.curl(port, "/"), (200, "<h1>netloom store</h1>\n"))
                self.assertEqual(self.curl(port, "/passwd")[0], 404)  # a symlink: not served
                self.assertEqual(self.curl(port, "/missing")[0], 404)

    def test_c_a_failing_disk_gives_500_and_the_server_goes_on(self):
        code, body = self.curl(8081, "/index.html")
        self.assertEqual((code, body), (500, "500 Internal Server Error\n"))
        code, digest, _, _ = self.curl_download(f"http://{NETLOOM}:8081/big.bin")
        self.assertEqual((code, digest), (200, self.data_sha))

    def test_d_counters(self):
        stats = self.netloom.stats()
        for app in ("main/app0/http", "main/app1/http"):
            self.assertEqual(counter(stats, app, "store_files"), 3)
            self.assertEqual(counter(stats, app, "store_skipped_links"), 1)
            self.assertEqual(counter(stats, app, "store_refused"), 0)
            self.assertEqual(counter(stats, app, "io_errors"), 0)
        self.assertEqual(counter(stats, "main/app2/http", "io_errors"), 1)
        self.assertEqual(counter(stats, "main/app2/http", "responses_5xx"), 1)


def tearDownModule():
    for what, size, seconds, speed in FIGURES:
        print(f"\nhttp store ({ARGS.engine}, {what}): curl fetched {size / MiB:.0f} MiB in "
              f"{seconds:.2f} s (curl's average {speed / MiB:.1f} MiB/s)", file=sys.stderr)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--netloom", required=True)
    parser.add_argument("--engine", default="tcp_utcp")
    parser.add_argument("--bytes", type=int, default=32 * MiB, help="size of the big file")
    ARGS, rest = parser.parse_known_args()
    sys.exit(run_tests(rest))
