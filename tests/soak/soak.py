#!/usr/bin/env python3
"""Seeded soak (issue 15 item 2): N transfers per TCP engine under the `sim` scheduler.

Each seed draws one transfer: two stacks on the in-process `wire` (rate, latency, queue), the
client's device wrapped by `impair` (loss 0-20 %, duplication, corruption, reordering, delay with
jitter, and sometimes an outage starting mid-transfer), a `tcp_bulk` pair moving up to 64 MiB in
either direction with SHA-256 on both ends, and the engine's give-up options. From those
parameters alone the seed knows its outcome in advance:

  ok       the receiver got every byte, the sender's and receiver's SHA-256 are equal;
  timeout  the outage outlasts the sender's give-up time: the sender reports `timed_out`
           (the receiver, which never hears of it, is cut by run.duration).

Outages are drawn clear of the band where either could happen (see `give_up_bounds`), so "either
is fine" never occurs. A run is bounded in virtual time (run.duration) and in wall time (a
subprocess timeout: a hang fails the seed). A failing seed prints its parameters and the command
that replays it alone: `scripts/soak.sh 1 --seed S --engine E`.

Sizes are log-uniform over [1 KiB, 64 MiB] (mean about 5.8 MiB), so N seeds cost about N x 6 MiB
of simulated transfer per engine.
"""
import argparse
import concurrent.futures
import json
import math
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

ENGINES = ("tcp_utcp", "tcp_classic")
KIB, MIB = 1024, 1024 * 1024
MIN_SIZE, MAX_SIZE = 1 * KIB, 64 * MIB
MSS = 1460                 # the engines' default MSS: a data frame carries at most this
RTO_MIN = 0.2              # s, the engines' default rto_min (tcp_common RtoConfig)
RESERVE_RTOS = 8           # consecutive RTOs left for random loss after a survivable outage
FRAME_WIRE_BITS = (1514 + 24) * 8  # a full frame on the wire (preamble, FCS, gap: wire README)
# run.duration of a seed that should succeed. Virtual time costs only the events in it, but a
# transfer that needs hours of it is stuck in backoff: after the RTT-echo fix (seeds 242, 481)
# the slowest of 2 x 1000 seeds needed 1.6 h (20 % loss both ways, rto_max 60 s); before it,
# tcp_utcp needed 27.7 h for seed 242.
VIRTUAL_BOUND_S = 6 * 3600
# A give-up reports the connection's last soft error when it had one (RFC 1122 4.2.3.9): during
# an outage ARP stops answering, the IP layer reports the neighbour unreachable, and the
# timeout surfaces as `unreachable` instead of `timed_out`. Both are the give-up.
GIVE_UP_ERRORS = ("timed_out", "unreachable")
SKIP_EXIT_CODE = 77       # tests/support/skips.py: CTest reports the test as skipped
WALL_GUARD_S = 600         # a seed running longer than this on the wall clock is a hang


def log_uniform(rng, lo, hi):
    return math.exp(rng.uniform(math.log(lo), math.log(hi)))


def give_up_bounds(p):
    """(survivable, certain) outage lengths in seconds for the seed's engine options.

    The sender gives up on the timer expiry after `max_retransmits` RTOs in a row (tcp_utcp
    core/timers.cpp, tcp_classic pcb_timers.cpp); each RTO is at least rto_min, doubles per
    expiry, and is at most rto_max (tcp_common rto.cpp).

    survivable: an outage shorter than this lets at most `max_retransmits - RESERVE_RTOS` RTOs
    expire inside it (the first may fire at once, then intervals of at least 2, 4, ... x rto_min),
    leaving RESERVE_RTOS for random losses of the retransmissions after it (at 20 % loss both
    ways, 0.36^8 = 3e-4 for the worst seed, far less on average).

    certain: after the last frame that crossed before the outage was delivered (`drain`: the
    impair delay line and both wire queues), at most max_retransmits + 3 expiries (a reordering
    timer, a tail-loss probe, the RTOs, the give-up) each at most rto_max apart: an outage longer
    than that ends after the sender gave up, whatever its RTT estimate was.
    """
    allowed = p["max_retransmits"] - RESERVE_RTOS
    survivable = sum(min(RTO_MIN * 2 ** i, p["rto_max"]) for i in range(1, allowed + 1))
    certain = p["drain_s"] + (p["max_retransmits"] + 3) * p["rto_max"]
    return survivable, certain


def draw(seed):
    """The parameters of one seed (same on every run and engine)."""
    rng = random.Random(seed * 1_000_003 + 17)
    p = {"seed": seed}
    p["size"] = int(log_uniform(rng, MIN_SIZE, MAX_SIZE))
    p["client_sends"] = rng.random() < 0.5
    p["loss"] = 0.0 if rng.random() < 0.2 else round(rng.uniform(0, 0.20), 4)
    p["duplicate"] = round(rng.choice([0, 0, rng.uniform(0, 0.05)]), 4)
    p["corrupt"] = round(rng.choice([0, 0, rng.uniform(0, 0.02)]), 4)
    p["reorder"] = round(rng.choice([0, 0, rng.uniform(0, 0.05)]), 4)
    p["delay_ms"] = rng.choice([0, 0, round(rng.uniform(0, 40), 3)])
    p["jitter_ms"] = round(rng.uniform(0, p["delay_ms"] / 2), 3) if p["delay_ms"] else 0
    p["latency_us"] = rng.choice([0, 50, 500, 5000])
    # Rate limits: None = unlimited. The wire queue is bounded so that a full queue waits at most
    # 100 ms (an RTT far below rto_max: spurious RTOs do not pile up into a give-up).
    p["rate_bit_s"] = rng.choice([None, None, 10**9, 10**8, 10**7, 2 * 10**6])
    queue = rng.choice([16, 64, 256, 1024, 4096])
    if p["rate_bit_s"]:
        queue = max(4, min(queue, int(0.1 * p["rate_bit_s"] / FRAME_WIRE_BITS)))
    p["queue"] = queue
    # Engine options beside the give-up ones: both ends alike, the other paths of the engines.
    p["mss"] = rng.choice([MSS, MSS, MSS, 1000, 536])
    p["buffer"] = rng.choice([16 * KIB, 64 * KIB, 256 * KIB, 256 * KIB, 1 * MIB, 4 * MIB])
    p["sack"] = rng.random() < 0.8
    p["timestamps"] = rng.random() < 0.8
    p["window_scaling"] = rng.random() < 0.9
    p["cc"] = rng.choice(["cubic", "newreno"])
    p["delayed_ack"] = rng.random() < 0.8
    p["max_retransmits"] = rng.randint(RESERVE_RTOS + 2, 15)
    p["rto_max"] = rng.choice([1, 2, 5, 10, 60])
    # Time for frames already past the impair device when the outage starts to be delivered:
    # the delay line, a reorder hold, and both directions' wire queue and latency.
    queue_s = (p["queue"] * FRAME_WIRE_BITS / p["rate_bit_s"]) if p["rate_bit_s"] else 0.0
    p["drain_s"] = round((p["delay_ms"] + p["jitter_ms"]) / 1e3 + 0.001 + 2 * queue_s +
                         2 * p["latency_us"] / 1e6, 6)
    # Outages: only in transfers of at least 64 KiB (>= 45 data frames), starting at frame N in
    # [8 or 1/8, 1/2] of the fewest data frames the transfer needs: every data byte enters the
    # client's device at least once (as tx when it sends, rx when it receives), so the outage
    # surely begins before the last byte got through, and after the handshake.
    p["outage"] = "none"
    p["outage_after_frames"] = 0
    p["outage_for_s"] = 0.0
    kind = rng.random()
    min_frames = p["size"] // p["mss"]  # a data frame carries at most the MSS both ends offer
    survivable, certain = give_up_bounds(p)
    p["survivable_s"], p["give_up_max_s"] = round(survivable, 6), round(certain, 6)
    if p["size"] >= 64 * KIB and kind < 0.5:
        p["outage_after_frames"] = rng.randint(max(8, min_frames // 8), min_frames // 2)
        if kind < 0.25:
            p["outage"] = "short"
            p["outage_for_s"] = round(rng.uniform(0.05, 0.95) * survivable, 6)
        elif kind < 0.40:
            p["outage"] = "long"
            p["outage_for_s"] = round(certain * 1.25 + rng.uniform(1, 120), 3)
        else:
            p["outage"] = "forever"  # outage_for 0: the link never comes back
    p["expect"] = "timeout" if p["outage"] in ("long", "forever") else "ok"
    # A timeout seed ends by run.duration (the receiver is never told); bound it past the give-up.
    p["duration_s"] = (int(certain + p["outage_for_s"] + 3600) if p["expect"] == "timeout"
                       else VIRTUAL_BOUND_S)
    return p


def config_text(p, engine, run_dir):
    """The netloom config of one seed."""
    wire = "{use: wire, link: soak"
    if p["rate_bit_s"]:
        wire += f", rate: {p['rate_bit_s']}"
    wire += f", latency: {p['latency_us']}us, queue: {p['queue']}}}"
    impair = (f"{{use: impair, seed: {p['seed']}, loss: {p['loss']}, duplicate: {p['duplicate']}, "
              f"corrupt: {p['corrupt']}, reorder: {p['reorder']}, delay: {p['delay_ms']}ms, "
              f"jitter: {p['jitter_ms']}ms")
    if p["outage_after_frames"]:
        impair += (f", outage_after_frames: {p['outage_after_frames']}, "
                   f"outage_for: {int(p['outage_for_s'] * 1e6)}us")
    impair += f",\n             inner: {wire}}}"
    # Handshake retries generous enough that 20 % loss both ways never fails a connect: the
    # outage never reaches the handshake, only data give-ups are under test.
    tcp = (f"{{use: {engine}, max_retransmits: {p['max_retransmits']}, rto_max: {p['rto_max']}s, "
           f"syn_retransmits: 12, connect_timeout: 2h, mss: {p['mss']}, rcvbuf: {p['buffer']}, "
           f"sndbuf: {p['buffer']}, sack: {str(p['sack']).lower()}, "
           f"timestamps: {str(p['timestamps']).lower()}, "
           f"window_scaling: {str(p['window_scaling']).lower()}, cc: {p['cc']}, "
           f"delayed_ack: {str(p['delayed_ack']).lower()}}}")
    server_dir, client_dir = ("receive", "send") if p["client_sends"] else ("send", "receive")
    data_seed = p["seed"] % 1_000_000 + 1
    return f"""\
log: {{level: error}}
scheduler: {{use: sim}}
checksum: {{use: fast}}
run: {{duration: {p['duration_s']}s}}
stacks:
  server:
    device: {wire}
    ip: {{use: ipv4, address: 10.0.0.2/24}}
    tcp: {tcp}
    apps:
      - {{use: tcp_bulk, role: server, direction: {server_dir}, port: 5001, connections: 1,
         bytes: {p['size']}, seed: {data_seed}, report: {run_dir}/server.json}}
  client:
    device: {impair}
    ip: {{use: ipv4, address: 10.0.0.1/24}}
    tcp: {tcp}
    apps:
      - {{use: tcp_bulk, role: client, direction: {client_dir}, target: 10.0.0.2, port: 5001,
         bytes: {p['size']}, seed: {data_seed}, report: {run_dir}/client.json}}
"""


def read_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def judge(p, code, sender, receiver):
    """'' when the outcome is the expected one, else why not."""
    if p["expect"] == "ok":
        if code != 0:
            return f"exit status {code}"
        if not sender or not receiver:
            return "a report is missing"
        for side, r in (("sender", sender), ("receiver", receiver)):
            if not r.get("ok"):
                return f"{side} failed: {r.get('error')} (tcp_error {r.get('tcp_error')})"
        if receiver.get("bytes") != p["size"] or sender.get("bytes") != p["size"]:
            return f"bytes sent {sender.get('bytes')} received {receiver.get('bytes')}"
        if not sender.get("sha256") or sender["sha256"] != receiver.get("sha256"):
            return f"sha256 differs: sent {sender.get('sha256')} received {receiver.get('sha256')}"
        return ""
    # expect timeout: the sender's engine gave up, nothing pretended to succeed.
    if code == 0:
        return "exit status 0 although the outage outlasts the give-up time"
    if not sender:
        return "no sender report (expected tcp_error timed_out)"
    if sender.get("ok") or sender.get("tcp_error") not in GIVE_UP_ERRORS:
        return f"sender ended with ok={sender.get('ok')} tcp_error={sender.get('tcp_error')}, " \
               f"expected timed_out"
    if receiver and receiver.get("ok"):
        return "the receiver reports a complete transfer although the sender timed out"
    return ""


def run_seed(p, engine, netloom, plugin_path, keep_dir=None):
    run_dir = keep_dir or tempfile.mkdtemp(prefix=f"netloom-soak-{engine}-{p['seed']}-")
    os.makedirs(run_dir, exist_ok=True)
    config = os.path.join(run_dir, "soak.yaml")
    with open(config, "w") as f:
        f.write(config_text(p, engine, run_dir))
    stats_path = os.path.join(run_dir, "stats.json")
    cmd = [netloom, "run", "--no-stats", "--stats-json", stats_path, config]
    start = time.monotonic()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=WALL_GUARD_S,
                              env=dict(os.environ, NETLOOM_PLUGIN_PATH=plugin_path))
        code, stderr = proc.returncode, proc.stderr
    except subprocess.TimeoutExpired as e:
        code = None
        stderr = (e.stderr or b"").decode(errors="replace") if isinstance(e.stderr, bytes) \
            else (e.stderr or "")
    wall = time.monotonic() - start
    client = read_json(os.path.join(run_dir, "client.json"))
    server = read_json(os.path.join(run_dir, "server.json"))
    sender, receiver = (client, server) if p["client_sends"] else (server, client)
    stats = read_json(stats_path) or {}
    virtual_ms = stats.get("scheduler/sim", {}).get("virtual_ms")
    if code is None:
        why = f"HANG: still running after {WALL_GUARD_S} s of wall time"
    else:
        why = judge(p, code, sender, receiver)
        if why and p["expect"] == "ok" and (virtual_ms or 0) >= p["duration_s"] * 1000:
            why = f"STUCK: run.duration ({p['duration_s']} s virtual) ended the run: {why}"
    outcome = "timeout" if sender and sender.get("tcp_error") in GIVE_UP_ERRORS else \
        ("ok" if sender and receiver and sender.get("ok") and receiver.get("ok") else "fail")
    result = {"seed": p["seed"], "engine": engine, "expect": p["expect"], "outcome": outcome,
              "pass": not why, "why": why, "wall_s": round(wall, 3), "virtual_ms": virtual_ms,
              "retransmits": (sender or {}).get("retransmits"),
              "rto_count": (sender or {}).get("rto_count"), "params": p}
    if why:
        result["stderr_tail"] = stderr[-2000:]
        result["run_dir"] = run_dir
    elif not keep_dir:
        shutil.rmtree(run_dir, ignore_errors=True)
    return result


def missing_plugins(netloom, plugin_path, engines):
    p = subprocess.run([netloom, "plugins", "--json"], capture_output=True, text=True, timeout=60,
                       env=dict(os.environ, NETLOOM_PLUGIN_PATH=plugin_path))
    if p.returncode != 0:
        return ["(netloom plugins failed: " + p.stderr.strip() + ")"]
    found = {e["name"] for e in json.loads(p.stdout) if e.get("available", True)}
    return [n for n in ("sim", "wire", "impair", "ipv4", "fast", "tcp_bulk", *engines)
            if n not in found]


def human(n):
    for unit, size in (("MiB", MIB), ("KiB", KIB)):
        if n >= size:
            return f"{n / size:.1f}{unit}"
    return f"{n}B"


def describe(p):
    rate = f"{p['rate_bit_s'] / 1e6:g}Mbit" if p["rate_bit_s"] else "unlimited"
    out = (f"size {human(p['size'])} {'client->server' if p['client_sends'] else 'server->client'}"
           f", loss {p['loss']}, dup {p['duplicate']}, corrupt {p['corrupt']}, reorder "
           f"{p['reorder']}, delay {p['delay_ms']}±{p['jitter_ms']} ms, latency "
           f"{p['latency_us']} us, rate {rate}, queue {p['queue']}, max_retransmits "
           f"{p['max_retransmits']}, rto_max {p['rto_max']} s, mss {p['mss']}, buffers "
           f"{human(p['buffer'])}, {p['cc']}"
           + "".join(f", {k} off" for k in ("sack", "timestamps", "window_scaling", "delayed_ack")
                     if not p[k]))
    if p["outage"] != "none":
        length = "forever" if p["outage"] == "forever" else f"{p['outage_for_s']} s"
        out += (f", outage {p['outage']} ({length}) from frame {p['outage_after_frames']}"
                f" [survivable < {p['survivable_s']} s, give-up <= {p['give_up_max_s']} s]")
    return out + f"; expect {p['expect']}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("count", type=int, nargs="?", default=50, help="seeds per engine")
    ap.add_argument("--seed", type=int, help="run this one seed only (a reproduction)")
    ap.add_argument("--first", type=int, default=1, help="first seed of the range (default 1)")
    ap.add_argument("--also", default="",
                    help="comma-separated seeds run after the range (CI: seeds that found bugs)")
    ap.add_argument("--engine", choices=ENGINES, action="append",
                    help="engine(s) to soak (default: both)")
    ap.add_argument("--netloom", default="build/netloom")
    ap.add_argument("--plugin-path", default=None, help="default: <netloom's dir>/plugins")
    ap.add_argument("--jobs", "-j", type=int, default=1, help="seeds run at once")
    ap.add_argument("--json", default=None, help="write every result here")
    ap.add_argument("--keep", default=None, help="with --seed: keep the run in this directory")
    ap.add_argument("--print-config", action="store_true",
                    help="with --seed: print the seed's parameters and config, run nothing")
    args = ap.parse_args()
    engines = args.engine or list(ENGINES)
    netloom = os.path.abspath(args.netloom)
    plugin_path = args.plugin_path or os.environ.get("NETLOOM_PLUGIN_PATH") or \
        os.path.join(os.path.dirname(netloom), "plugins")
    seeds = [args.seed] if args.seed is not None else \
        list(range(args.first, args.first + args.count))
    seeds += [int(x) for x in args.also.split(",") if x and int(x) not in seeds]
    if args.print_config:
        for s in seeds:
            p = draw(s)
            print(describe(p))
            print(json.dumps(p))
            print(config_text(p, engines[0], "RUN_DIR"))
        return 0
    if not os.access(netloom, os.X_OK):
        print(f"soak: {netloom} is not built", file=sys.stderr)
        return 2

    missing = missing_plugins(netloom, plugin_path, engines)
    if missing:
        print(f"SKIP(plugin): plugin(s) not built: {', '.join(missing)}")
        return SKIP_EXIT_CODE

    results = []
    started = time.monotonic()
    per_engine_wall = {}
    for engine in engines:
        t0 = time.monotonic()
        work = [(draw(s), engine) for s in seeds]
        keep = args.keep if args.seed is not None else None
        with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
            futures = [pool.submit(run_seed, p, e, netloom, plugin_path, keep) for p, e in work]
            for fut in futures:
                r = fut.result()
                results.append(r)
                if not r["pass"]:
                    p = r["params"]
                    print(f"FAIL seed {p['seed']} {engine}: {r['why']}\n  {describe(p)}\n"
                          f"  reproduce: scripts/soak.sh 1 --seed {p['seed']} --engine {engine}"
                          f" --keep /tmp/soak-{engine}-{p['seed']}\n  run dir: {r.get('run_dir')}"
                          f"\n  stderr: {r.get('stderr_tail', '')[-600:]}", flush=True)
        per_engine_wall[engine] = time.monotonic() - t0

    # Summary table: one row per engine and outage kind.
    print(f"\n{'engine':<12} {'outage':<8} {'seeds':>5} {'pass':>5} {'ok':>5} {'timeout':>7} "
          f"{'MiB':>8} {'wall s':>8} {'max wall':>8} {'max virt s':>10}")
    summary = []
    for engine in engines:
        for kind in ("none", "short", "long", "forever", "all"):
            rows = [r for r in results if r["engine"] == engine and
                    (kind == "all" or r["params"]["outage"] == kind)]
            if not rows:
                continue
            row = {"engine": engine, "outage": kind, "seeds": len(rows),
                   "pass": sum(r["pass"] for r in rows),
                   "ok": sum(r["outcome"] == "ok" for r in rows),
                   "timeout": sum(r["outcome"] == "timeout" for r in rows),
                   "mib": round(sum(r["params"]["size"] for r in rows) / MIB, 1),
                   "wall_s": round(sum(r["wall_s"] for r in rows), 1),
                   "max_wall_s": round(max(r["wall_s"] for r in rows), 2),
                   "max_virtual_s": round(max((r["virtual_ms"] or 0) for r in rows) / 1e3, 1)}
            summary.append(row)
            print(f"{engine:<12} {kind:<8} {row['seeds']:>5} {row['pass']:>5} {row['ok']:>5} "
                  f"{row['timeout']:>7} {row['mib']:>8} {row['wall_s']:>8} "
                  f"{row['max_wall_s']:>8} {row['max_virtual_s']:>10}")
    failed = [r for r in results if not r["pass"]]
    total = time.monotonic() - started
    print(f"\n{len(results) - len(failed)}/{len(results)} seeds passed in {total:.1f} s wall "
          + ", ".join(f"{e} {w:.1f} s" for e, w in per_engine_wall.items()))
    if failed:
        print("failed: " + " ".join(f"{r['engine']}:{r['seed']}" for r in failed))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"seeds": seeds if len(seeds) < 100 else [seeds[0], seeds[-1]],
                       "engines": engines, "wall_s": round(total, 1),
                       "wall_s_per_engine": {e: round(w, 1) for e, w in per_engine_wall.items()},
                       "summary": summary, "results": results}, f, indent=1)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
