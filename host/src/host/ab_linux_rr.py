#!/usr/bin/env python3
# ab_linux_rr.py — the request/response loop of `netloom ab`'s Linux reference row (ab_linux.cpp),
# run with the kernel's sockets between two network namespaces.
#
# Usage: ab_linux_rr.py server|client ADDRESS PORT SIZE SECONDS COUNT
# The server echoes SIZE-byte messages; the client sends one, waits for the whole echo and
# records the round trip, for SECONDS or COUNT transactions (COUNT 0: for SECONDS), then prints
# {"metrics": {"rr_per_s", "latency_p50_us", "latency_p99_us"}} as one JSON line. Installed
# beside the binary (<prefix>/lib/netloom/), copied beside it in the build tree.
import json, socket, sys, time
role, address, port, size, seconds, count = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]), int(sys.argv[6])
def recv_exactly(s, n):
    data = b""
    while len(data) < n:
        chunk = s.recv(n - len(data))
        if not chunk:
            return None
        data += chunk
    return data
if role == "server":
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((address, port))
    listener.listen(1)
    listener.settimeout(30)  # a client that never comes does not keep the server
    print("listening", flush=True)
    conn, _ = listener.accept()
    conn.settimeout(None)
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    while True:
        message = recv_exactly(conn, size)
        if message is None:
            break
        conn.sendall(message)
    sys.exit(0)
conn = socket.create_connection((address, port), timeout=10)
conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
payload = b"x" * size
latencies = []
start = time.perf_counter()
while (count and len(latencies) < count) or (not count and time.perf_counter() - start < seconds):
    t0 = time.perf_counter()
    conn.sendall(payload)
    if recv_exactly(conn, size) is None:
        sys.exit("server closed early")
    latencies.append((time.perf_counter() - t0) * 1e6)
elapsed = time.perf_counter() - start
conn.close()
latencies.sort()
pick = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))]
print(json.dumps({"metrics": {"rr_per_s": len(latencies) / elapsed, "latency_p50_us": pick(0.5), "latency_p99_us": pick(0.99)}}))
