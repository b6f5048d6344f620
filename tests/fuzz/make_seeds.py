#!/usr/bin/python3
# Writes the seeds of every fuzz target into corpus/<target>/ (files named by their SHA-1):
# valid packets built with Scapy, engine scripts in the fuzzer's structured encoding, request
# heads, iperf3 messages, tar archives, conformance scripts and the repository's configs: the
# fuzzers start from the shapes the parsers accept. Rerun after changing it, then minimise each
# directory with its target's -merge=1 (README.md); the files are committed.
import hashlib, os, struct
from scapy.all import ARP, ICMP, IP, TCP, UDP, Ether, Raw, fragment, raw
import logging
logging.getLogger("scapy.runtime").setLevel(logging.ERROR)

HERE = os.path.dirname(os.path.abspath(__file__))
OUR_MAC, PEER_MAC = "02:00:00:00:00:01", "02:00:00:00:00:09"
OUR_IP, PEER_IP = "10.0.0.2", "10.0.0.9"


def write(target, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, hashlib.sha1(data).hexdigest()), "wb") as f:
        f.write(data)


ip = IP(src=PEER_IP, dst=OUR_IP)
tcp_syn = TCP(sport=40000, dport=80, flags="S", seq=1000, window=65535,
              options=[("MSS", 1460), ("SAckOK", b""), ("Timestamp", (1, 0)), ("NOP", None),
                       ("WScale", 7)])
tcp_sack = TCP(sport=40000, dport=80, flags="A", seq=1001, ack=5000,
               options=[("NOP", None), ("NOP", None), ("SAck", (6000, 7000, 8000, 9000))])
datagrams = [
    ip / tcp_syn, ip / tcp_sack / Raw(b"x" * 20), ip / UDP(sport=5555, dport=7) / Raw(b"hello"),
    ip / ICMP(type=8, id=1, seq=1) / Raw(b"ping" * 8),
    ip / ICMP(type=3, code=3) / raw(IP(src=OUR_IP, dst=PEER_IP) / UDP(sport=7, dport=5555)),
    IP(src=PEER_IP, dst=OUR_IP, options=b"\x01\x01\x01\x00") / UDP(sport=1, dport=7),
]
for d in datagrams:
    write("ipv4", raw(d))
    write("ethernet", raw(Ether(src=PEER_MAC, dst=OUR_MAC) / d))
write("ethernet", raw(Ether(src=PEER_MAC, dst="ff:ff:ff:ff:ff:ff") / ARP(psrc=PEER_IP, pdst=OUR_IP)))
write("arp", raw(ARP(op=1, hwsrc=PEER_MAC, psrc=PEER_IP, pdst=OUR_IP)))
write("arp", raw(ARP(op=2, hwsrc=PEER_MAC, psrc=PEER_IP, hwdst=OUR_MAC, pdst=OUR_IP)))
write("icmp", raw(ICMP(type=8, id=1, seq=1) / Raw(b"ping" * 8)))
write("icmp", raw(ICMP(type=3, code=4, nexthopmtu=1400) /
                  raw(IP(src=OUR_IP, dst=PEER_IP) / TCP(sport=80, dport=40000))))
write("icmp", raw(ICMP(type=11, code=0) / raw(IP(src=OUR_IP, dst=PEER_IP, ihl=6,
                                                 options=b"\x01\x01\x01\x00") / UDP())))
write("udp", raw(ip / UDP(sport=5555, dport=7) / Raw(b"hello"))[20:])
write("udp", raw(ip / UDP(sport=53, dport=53, chksum=0) / Raw(b"q" * 30))[20:])
write("tcp_header", raw(ip / tcp_syn)[20:])
write("tcp_header", raw(ip / tcp_sack / Raw(b"x" * 20))[20:])
write("tcp_header", raw(ip / TCP(flags="FA", options=[("Timestamp", (5, 6)), ("EOL", None)]))[20:])

# ip_input: steps of <control byte><16-bit big-endian length><bytes> (tests/fuzz/ip_input.cpp);
# control 0x08 | 1: an IPv4 frame wrapped in Ethernet, 0x18 | 1: an ARP one, 0: clock advance.
def frame_step(datagram, arp=False):
    body = raw(datagram)
    return bytes([0x19 if arp else 0x09]) + struct.pack(">H", len(body)) + body

def clock_step(ms):
    return b"\x00" + struct.pack(">H", ms)

frags = fragment(IP(src=PEER_IP, dst=OUR_IP, id=7) / UDP(sport=5555, dport=7) / Raw(b"f" * 100),
                 fragsize=40)
write("ip_input", b"".join(frame_step(f) for f in frags))
write("ip_input", b"".join(frame_step(f) for f in reversed(frags)) + clock_step(40000))
write("ip_input", frame_step(frags[0]) + clock_step(31000) + frame_step(frags[1]))
for d in datagrams:
    write("ip_input", frame_step(d))
write("ip_input", frame_step(ARP(op=1, hwsrc=PEER_MAC, psrc="10.0.0.7", pdst=OUR_IP), arp=True)
      + frame_step(ARP(op=2, hwsrc=PEER_MAC, psrc="10.0.0.8", pdst=OUR_IP), arp=True))

# tcp_utcp / tcp_classic: FuzzedDataProvider reads integers from the end of the input, most
# significant byte first (tcp_engine_fuzzer.hpp decodes them in this order).
class Provider:
    def __init__(self):
        self.stream = bytearray()

    def value(self, v, nbytes):
        self.stream += v.to_bytes(nbytes, "big")
        return self

    def boolean(self, b): return self.value(1 if b else 0, 1)
    def u8(self, v): return self.value(v, 1)
    def u16(self, v): return self.value(v, 2)
    def u32(self, v): return self.value(v, 4)
    def i16(self, v): return self.value(v + 32768, 2)

    def data(self): return bytes(reversed(self.stream))


SYN, FIN, RST, PSH, ACK = 0x02, 0x01, 0x04, 0x08, 0x10

def segment(p, flags, seq=0, ack=0, window=65535, length=0, mss=None, wscale=None, sack_ok=False,
            ts=False, sacks=()):
    p.u8(0).boolean(True).u8(flags).i16(seq).i16(ack).u16(window).boolean(False)
    options = (1 if mss else 0) | (2 if wscale is not None else 0) | (4 if sack_ok else 0) \
        | (8 if ts else 0) | (16 if sacks else 0)
    p.u8(options)
    if mss: p.u16(mss)
    if wscale is not None: p.u8(wscale)
    if ts: p.i16(0).u16(10)
    if sacks:
        p.u8(len(sacks) - 1)
        for left, size in sacks: p.i16(left).i16(size)
    p.u16(length).u8(7)  # 7: no corruption

def send(p, n): p.u8(4).u16(n)
def recv(p, n): p.u8(5).u16(n - 1)
def close(p, how): p.u8(6).u8(how)  # 0 shutdown_write, 1 close, 2 abort, 3 drop the handle
def advance(p, ms): p.u8(9).u16(ms).boolean(True)

for engine in ("tcp_utcp", "tcp_classic"):
    for opts in ({}, dict(mss=1460, wscale=7, sack_ok=True, ts=True)):
        p = Provider().boolean(True).u32(1000)  # passive, peer ISN 1000
        segment(p, SYN, **opts)
        segment(p, ACK, ts=opts.get("ts", False))
        segment(p, ACK | PSH, length=500, ts=opts.get("ts", False))
        recv(p, 1000)
        send(p, 3000)
        segment(p, ACK, ts=opts.get("ts", False))
        advance(p, 200)
        segment(p, FIN | ACK, ts=opts.get("ts", False))
        close(p, 1)
        segment(p, ACK, ts=opts.get("ts", False))
        advance(p, 61000)
        write(engine, p.data())

        p = Provider().boolean(False).u32(5000)  # active, peer ISN 5000
        segment(p, SYN | ACK, **opts)
        send(p, 5000)
        segment(p, ACK, ack=-2000, ts=opts.get("ts", False))
        segment(p, ACK | PSH, seq=1000, length=700, ts=opts.get("ts", False))  # out of order
        segment(p, ACK, length=1000, ts=opts.get("ts", False))
        recv(p, 4000)
        advance(p, 1500)
        close(p, 0)
        segment(p, FIN | ACK, ts=opts.get("ts", False))
        write(engine, p.data())

    p = Provider().boolean(False).u32(0xfffffff0)  # sequence numbers wrapping, SACK recovery
    segment(p, SYN | ACK, mss=536, sack_ok=True)
    send(p, 8000)
    segment(p, ACK, ack=-4000, sacks=[(-3000, 1000)])
    segment(p, ACK, ack=-4000, sacks=[(-3000, 1000), (-1500, 500)])
    segment(p, ACK, ack=-4000, sacks=[(-3000, 2000)])
    advance(p, 300)
    segment(p, RST, length=0)
    write(engine, p.data())

# http_request: the first byte picks the representation size for Range (tests/fuzz/http_request.cpp).
for i, head in enumerate([
        b"GET / HTTP/1.1\r\nHost: a\r\n\r\n",
        b"GET /dir/file.html?q=1 HTTP/1.1\r\nHost: example\r\nRange: bytes=0-99\r\n\r\n",
        b"HEAD /a%20b/./c HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
        b"GET /x HTTP/1.1\r\nHost: h\r\nRange: bytes=-500\r\nIf-Range: \"e\"\r\nConnection: close\r\n\r\n",
        b"POST /upload HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\n",
        b"HTTP/1.1 206 Partial Content\r\nContent-Length: 100\r\nConnection: close\r\n\r\n",
        b"GET /../etc HTTP/1.1\nHost: h\n\n"]):
    write("http_request", bytes([i]) + head)

# iperf3_control: a client's parameters and a results message, as iperf3 3.12 sends them.
write("iperf3_control", b'{"tcp":true,"omit":0,"time":10,"num":0,"blockcount":0,"parallel":2,'
      b'"len":131072,"pacing_timer":1000,"client_version":"3.12","reverse":true}')
write("iperf3_control", b'{"tcp":true,"time":0,"num":18446744073709551615,"blockcount":100,'
      b'"parallel":1,"len":1024}')
write("iperf3_control", b'{"cpu_util_total":1.5,"cpu_util_user":1.0,"cpu_util_system":0.5,'
      b'"sender_has_retransmits":1,"streams":[{"id":1,"bytes":1048576,"retransmits":0,'
      b'"jitter":0,"errors":0,"packets":0,"start_time":0,"end_time":10.0},{"id":3,"bytes":5,'
      b'"retransmits":-1,"end_time":10}]}')

# tar: small archives in the formats the scanner reads.
import io, tarfile
def archive(fmt, members):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as t:
        for name, data, kind in members:
            info = tarfile.TarInfo(name)
            info.type = kind
            info.size = len(data) if kind == tarfile.REGTYPE else 0
            if kind == tarfile.SYMTYPE: info.linkname = "a.txt"
            t.addfile(info, io.BytesIO(data) if kind == tarfile.REGTYPE else None)
    return buf.getvalue()
long = "d/" + "n" * 150 + "/file.bin"
write("tar", archive(tarfile.USTAR_FORMAT, [("a.txt", b"hello\n", tarfile.REGTYPE),
                                            ("dir", b"", tarfile.DIRTYPE)]))
write("tar", archive(tarfile.GNU_FORMAT, [(long, b"x" * 600, tarfile.REGTYPE),
                                          ("l", b"", tarfile.SYMTYPE)]))
write("tar", archive(tarfile.PAX_FORMAT, [(long + "\u00e9", b"y" * 10, tarfile.REGTYPE),
                                          ("./b//c.txt", b"z", tarfile.REGTYPE),
                                          ("a.txt", b"dup", tarfile.REGTYPE)]))

# drill_script: a sample of the conformance scripts (small ones, every kind of line).
import glob
scripts = sorted(glob.glob(os.path.join(HERE, "..", "conformance", "*.pkt")), key=os.path.getsize)
for path in scripts[:: max(1, len(scripts) // 24)][:24]:
    write("drill_script", open(path, "rb").read())

# config: the repository's configs (those naming files are skipped by the target itself).
for path in sorted(glob.glob(os.path.join(HERE, "..", "..", "configs", "*.yaml"))):
    write("config", open(path, "rb").read())
