#!/usr/bin/env python3
"""Long-run leak check (issue 15 item 6), per TCP engine; `scripts/soak.sh --leak`, not CI.

One netloom process, two stacks on the in-process `wire` (real clock, `epoll`): an `http`
server and client doing REQUESTS fetches of a small file over CONNECTIONS connections
(`requests_per_connection`), and beside them a `tcp_bulk` pair moving BULK bytes. While it runs,
every `interval` the script sends SIGUSR1 (netloom then rewrites --stats-json) and reads the
process's RSS from /proc/<pid>/status, so each sample holds the RSS, the engines' own gauges
(memory_bytes_current, connections_current, time_wait_current) and the progress (requests
served, bulk bytes). The baseline is the first sample taken once 1,000 requests were served;
from then on nothing may grow by more than 1 MiB (RSS, and each engine's memory_bytes_current).
Prints the samples as a table and writes them as JSON; exits 1 when a bound is broken.

TIME-WAIT lasts 2 x msl; msl is set to 100 ms so the TIME-WAIT table (bounded, and not a leak)
reaches its steady size within the first second instead of holding ~60 s of connections.
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from soak import read_json  # noqa: E402

ENGINES = ("tcp_utcp", "tcp_classic")
MIB = 1024 * 1024
GROWTH_LIMIT = 1 * MIB
BASELINE_REQUESTS = 1000


def config_text(engine, run_dir, requests, per_connection, bulk_bytes, body_bytes):
    tcp = f"{{use: {engine}, msl: 100ms}}"
    return f"""\
log: {{level: warn}}
scheduler: {{use: epoll}}
checksum: {{use: fast}}
run: {{duration: 2h}}
stacks:
  server:
    device: {{use: wire, link: leak}}
    ip: {{use: ipv4, address: 10.0.0.2/24}}
    tcp: {tcp}
    apps:
      - {{use: http, port: 80, root: {run_dir}/www, max_connections: 64}}
      - {{use: tcp_bulk, role: server, direction: receive, port: 5001, connections: 1,
         bytes: {bulk_bytes}, hash: false, report: {run_dir}/bulk_server.json}}
  client:
    device: {{use: wire, link: leak}}
    ip: {{use: ipv4, address: 10.0.0.1/24}}
    tcp: {tcp}
    apps:
      - {{use: http, role: client, target: 10.0.0.2, path: /small.bin, count: {requests},
         requests_per_connection: {per_connection}, report: {run_dir}/http_client.json}}
      - {{use: tcp_bulk, role: client, direction: send, target: 10.0.0.2, port: 5001,
         bytes: {bulk_bytes}, hash: false, report: {run_dir}/bulk_client.json}}
"""


def rss_bytes(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def sample_of(stats, rss, t):
    def get(component, counter):
        return stats.get(component, {}).get(counter, 0)
    http = next((k for k in stats if k.startswith("server/app") and "http" in k), None)
    bulk = next((k for k in stats if k.startswith("server/app") and "tcp_bulk" in k), None)
    return {"t_s": round(t, 2), "rss": rss,
            "requests": get(http, "requests") if http else 0,
            "connections": get(http, "connections") if http else 0,
            "bulk_bytes": get(bulk, "bytes") if bulk else 0,
            "server_memory": get("server/tcp", "memory_bytes_current"),
            "client_memory": get("client/tcp", "memory_bytes_current"),
            "server_conns": get("server/tcp", "connections_current"),
            "client_conns": get("client/tcp", "connections_current"),
            "client_time_wait": get("client/tcp", "time_wait_current")}


def run_engine(engine, args):
    run_dir = tempfile.mkdtemp(prefix=f"netloom-leak-{engine}-")
    os.makedirs(os.path.join(run_dir, "www"))
    with open(os.path.join(run_dir, "www", "small.bin"), "wb") as f:
        f.write(os.urandom(args.body))
    config = os.path.join(run_dir, "leak.yaml")
    with open(config, "w") as f:
        f.write(config_text(engine, run_dir, args.requests, args.per_connection, args.bulk,
                            args.body))
    stats_path = os.path.join(run_dir, "stats.json")
    env = dict(os.environ)
    if args.plugin_path:
        env["NETLOOM_PLUGIN_PATH"] = args.plugin_path
    start = time.monotonic()
    proc = subprocess.Popen([args.netloom, "run", "--no-stats", "--stats-json", stats_path,
                             config], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True, env=env)
    samples = []
    time.sleep(0.2)  # netloom installs its SIGUSR1 handler before running; until then it ignores it
    while proc.poll() is None:
        if time.monotonic() - start > args.wall_limit:
            proc.kill()
            proc.wait()
            return {"engine": engine, "ok": False, "why": f"still running after "
                    f"{args.wall_limit} s", "samples": samples, "run_dir": run_dir}
        before = os.stat(stats_path).st_mtime_ns if os.path.exists(stats_path) else 0
        try:
            proc.send_signal(signal.SIGUSR1)
        except ProcessLookupError:
            break
        # Wait for the rewrite (the handler runs on the loop: at most a loop turn later).
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and proc.poll() is None:
            if os.path.exists(stats_path) and os.stat(stats_path).st_mtime_ns != before:
                break
            time.sleep(0.01)
        rss = rss_bytes(proc.pid)
        stats = read_json(stats_path)
        if stats and rss:
            samples.append(sample_of(stats, rss, time.monotonic() - start))
        # Fine-grained until the baseline (1,000 requests take a fraction of a second).
        baselined = samples and samples[-1]["requests"] >= BASELINE_REQUESTS
        time.sleep(args.interval if baselined else 0.02)
    stderr = proc.stderr.read()
    code = proc.wait()
    wall = time.monotonic() - start
    final = read_json(stats_path) or {}
    http_report = read_json(os.path.join(run_dir, "http_client.json")) or {}
    bulk_report = read_json(os.path.join(run_dir, "bulk_server.json")) or {}
    result = {"engine": engine, "exit_status": code, "wall_s": round(wall, 1),
              "http": {k: http_report.get(k) for k in ("ok", "fetches", "connections",
                                                       "body_bytes", "error")},
              "bulk_bytes": bulk_report.get("bytes"), "bulk_ok": bulk_report.get("ok"),
              "final_engine": {s: {k: final.get(f"{s}/tcp", {}).get(k) for k in
                                   ("memory_bytes_current", "connections_current",
                                    "time_wait_current", "connections_opened")}
                               for s in ("server", "client")},
              "samples": samples, "run_dir": run_dir}
    problems = []
    if code != 0:
        problems.append(f"exit status {code}: {stderr[-500:]}")
    if http_report.get("fetches") != args.requests or not http_report.get("ok"):
        problems.append(f"http: {http_report.get('fetches')} fetches, error "
                        f"{http_report.get('error')}")
    if bulk_report.get("bytes") != args.bulk or not bulk_report.get("ok"):
        problems.append(f"bulk moved {bulk_report.get('bytes')} of {args.bulk}")
    base = next((s for s in samples if s["requests"] >= BASELINE_REQUESTS), None)
    if base is None:
        problems.append("no sample after the first 1,000 requests (interval too long?)")
    else:
        result["baseline"] = base
        for key in ("rss", "server_memory", "client_memory"):
            peak = max(s[key] for s in samples if s["t_s"] >= base["t_s"])
            result[f"{key}_growth"] = peak - base[key]
            if peak - base[key] > GROWTH_LIMIT:
                problems.append(f"{key} grew by {(peak - base[key]) / MIB:.2f} MiB after the "
                                f"first 1,000 requests ({base[key]} -> {peak})")
    result["ok"] = not problems
    result["why"] = "; ".join(problems)
    if result["ok"]:
        import shutil
        shutil.rmtree(run_dir, ignore_errors=True)
    return result


def print_table(result, every):
    print(f"\n{result['engine']}: {len(result['samples'])} samples")
    print(f"{'t s':>7} {'RSS MiB':>8} {'requests':>9} {'conns':>7} {'bulk GiB':>8} "
          f"{'srv mem':>9} {'cli mem':>9} {'srv conn':>8} {'cli conn':>8} {'cli TW':>6}")
    rows = result["samples"]
    picked = rows[::max(1, every)] + ([rows[-1]] if rows and (len(rows) - 1) % every else [])
    for s in picked:
        print(f"{s['t_s']:>7} {s['rss'] / MIB:>8.2f} {s['requests']:>9} {s['connections']:>7} "
              f"{s['bulk_bytes'] / 2**30:>8.2f} {s['server_memory']:>9} {s['client_memory']:>9} "
              f"{s['server_conns']:>8} {s['client_conns']:>8} {s['client_time_wait']:>6}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--netloom", default="build/netloom")
    ap.add_argument("--plugin-path", default=None)
    ap.add_argument("--engine", choices=ENGINES, action="append")
    ap.add_argument("--requests", type=int, default=1_000_000)
    ap.add_argument("--per-connection", type=int, default=10,
                    help="requests per connection (default 10: 100,000 connections)")
    ap.add_argument("--bulk", type=int, default=10 * 2**30, help="tcp_bulk bytes (10 GiB)")
    ap.add_argument("--body", type=int, default=1024, help="bytes of the fetched file")
    ap.add_argument("--interval", type=float, default=1.0, help="seconds between samples")
    ap.add_argument("--wall-limit", type=float, default=3600, help="per engine, seconds")
    ap.add_argument("--json", default="leak.json")
    ap.add_argument("--table-every", type=int, default=1, help="print every Nth sample")
    args = ap.parse_args()
    args.netloom = os.path.abspath(args.netloom)
    if not args.plugin_path and "NETLOOM_PLUGIN_PATH" not in os.environ:
        args.plugin_path = os.path.join(os.path.dirname(args.netloom), "plugins")
    results = []
    for engine in args.engine or ENGINES:
        r = run_engine(engine, args)
        results.append(r)
        print_table(r, args.table_every)
        base = r.get("baseline")
        last = r["samples"][-1] if r["samples"] else None
        if base and last:
            print(f"{engine}: RSS {base['rss'] / MIB:.2f} MiB at {base['requests']} requests, "
                  f"{last['rss'] / MIB:.2f} MiB at the last sample ({last['requests']} requests),"
                  f" peak growth {r['rss_growth'] / 1024:.0f} KiB; engine memory growth server "
                  f"{r['server_memory_growth']} B client {r['client_memory_growth']} B; "
                  f"{r['wall_s']} s; http {r['http']}; bulk {r['bulk_bytes']} B")
        print(f"{engine}: {'PASS' if r['ok'] else 'FAIL: ' + r['why']}", flush=True)
    with open(args.json, "w") as f:
        json.dump({"growth_limit": GROWTH_LIMIT, "baseline_requests": BASELINE_REQUESTS,
                   "requests": args.requests, "per_connection": args.per_connection,
                   "bulk": args.bulk, "results": results}, f, indent=1)
    print(f"samples written to {args.json}")
    return 0 if all(r["ok"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
