#!/usr/bin/env python3
"""netloom's `http` app against curl and raw sockets from the Linux kernel (as root, in a
throw-away namespace), once per TCP engine (--engine).

One netloom run serves a temporary directory over a TAP link (kernel side 10.71.0.1/24, netloom
10.71.0.2/24): a 100 MiB random file fetched by curl must have the same sha256; HEAD gives its
length and no body; a missing file is 404; traversal attempts (curl --path-as-is, plain and
percent-encoded) get 400/404 and never a file from outside the root; a range request returns
exactly those bytes; a malformed request on a raw socket gets 400, and the server still serves
afterwards. The curl throughput for the big file is printed at the end."""
import argparse
import hashlib
import os
import socket
import sys

from netns import OneServerOnTap, counter, require_plugins, require_root, run_tests, tcp_config

ARGS = None
TAP = "nlhttp0"
LINUX = "10.71.0.1"
NETLOOM = "10.71.0.2"
NETLOOM_MAC = "02:00:00:00:71:02"
LIMIT = 120  # run.duration: a hang guard; the test stops the server with SIGINT
MiB = 1 << 20
FIGURES = []


class HttpAgainstCurl(OneServerOnTap):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.root = os.path.join(cls.tmp, "www")
        os.mkdir(cls.root)
        cls.data = os.urandom(ARGS.bytes)
        cls.data_sha = hashlib.sha256(cls.data).hexdigest()
        with open(os.path.join(cls.root, "big.bin"), "wb") as f:
            f.write(cls.data)
        with open(os.path.join(cls.root, "index.html"), "w") as f:
            f.write("<h1>netloom</h1>\n")

    def setUp(self):
        require_root(self, "curl")
        require_plugins(self, ARGS.netloom, ARGS.engine, "http", "ipv4", "tap")
        self.start_server(netloom=ARGS.netloom, prefix="nlht", tap=TAP, linux_cidr=LINUX + "/24",
                          name="http", config=lambda: tcp_config(
                              engine=ARGS.engine, tap=TAP, mac=NETLOOM_MAC,
                              address=NETLOOM + "/24", limit=LIMIT,
                              apps=[{"use": "http", "port": 80, "root": self.root,
                                     "max_connections": 16, "idle_timeout": "10s"}]))

    def curl(self, *args, timeout=60):
        """curl in the namespace; returns (http code, stdout after the code line)."""
        p = self.ns.run("curl", "-sS", "--max-time", "30", "-w", "\n%{http_code}", *args,
                        check=False, timeout=timeout)
        self.assertEqual(p.returncode, 0, f"curl {args} failed: {p.stderr}\n" +
                         self.netloom.output()[-3000:])
        body, _, code = p.stdout.rpartition("\n")
        return int(code), body

    def url(self, path):
        return f"http://{NETLOOM}{path}"

    def test_a_big_file_has_the_same_sha256(self):
        code, digest, seconds, speed = self.curl_download(self.url("/big.bin"), timeout=60)
        self.assertEqual((code, digest), (200, self.data_sha))
        FIGURES.append((len(self.data), seconds, speed))

    def test_b_head_gives_the_length_and_no_body(self):
        p = self.ns.run("curl", "-sS", "-I", self.url("/big.bin"), check=False)
        self.assertEqual(p.returncode, 0, p.stderr)
        lines = p.stdout.lower().splitlines()
        self.assertTrue(lines[0].startswith("http/1.1 200"), p.stdout)
        self.assertIn(f"content-length: {len(self.data)}", [l.strip() for l in lines])

    def test_c_missing_file_and_traversal(self):
        code, _ = self.curl(self.url("/missing.txt"))
        self.assertEqual(code, 404)
        for path in ("/../../../../etc/passwd", "/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
                     "/..%2f..%2f..%2fetc/passwd"):
            code, body = self.curl("--path-as-is", self.url(path))
            self.assertIn(code, (400, 404), path)
            self.assertNotIn("root:", body, path)

    def test_d_range_request(self):
        out = os.path.join(self.tmp, "range.out")
        p = self.ns.run("curl", "-sS", "-r", "1000000-1999999", "-o", out, "-w", "%{http_code}",
                        self.url("/big.bin"), check=False)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout, "206")
        with open(out, "rb") as f:
            self.assertEqual(f.read(), self.data[1000000:2000000])
        code, body = self.curl("-r", "-5", self.url("/index.html"))
        self.assertEqual((code, body), (206, "/h1>\n"))  # the last 5 bytes of "<h1>netloom</h1>\n"

    def test_e_malformed_request_then_the_server_still_serves(self):
        with self.ns.entered():
            sock = socket.create_connection((NETLOOM, 80), timeout=10)
        with sock:
            sock.sendall(b"GARBAGE\r\n\r\n")
            reply = b""
            while True:
                chunk = sock.recv(4096)
                if not chunk:
                    break
                reply += chunk
        self.assertTrue(reply.startswith(b"HTTP/1.1 400 "), reply[:200])
        code, body = self.curl(self.url("/"))
        self.assertEqual((code, body), (200, "<h1>netloom</h1>\n"))

    def test_f_counters(self):
        stats = self.netloom.stats()
        self.assertGreaterEqual(counter(stats, "main/app0/http", "bad_requests"), 1)
        self.assertGreaterEqual(counter(stats, "main/app0/http", "responses_4xx"), 4)
        self.assertGreaterEqual(counter(stats, "main/app0/http", "responses_2xx"), 3)


def tearDownModule():
    for size, seconds, speed in FIGURES:
        print(f"\nhttp ({ARGS.engine}): curl fetched {size / MiB:.0f} MiB in {seconds:.2f} s "
              f"(curl's average {speed / MiB:.1f} MiB/s)", file=sys.stderr)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--netloom", required=True)
    parser.add_argument("--engine", default="tcp_utcp")
    parser.add_argument("--bytes", type=int, default=100 * MiB, help="size of the big file")
    ARGS, rest = parser.parse_known_args()
    sys.exit(run_tests(rest))
