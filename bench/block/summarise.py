#!/usr/bin/env python3
"""bench/block/run.sh's summary: per grid point the medians (and min-max) of fio's and
netloom's runs, the ratio netloom / fio of the median MB/s against the 0.9 target, a table on
stdout, the JSON results and an SVG chart (written directly, like host/src/host/ab_chart.cpp).

usage: summarise.py <work dir> <results.json> <chart.svg> <fs type> <point>...
where each point is "<name> <block size> <depth> <ops> <netloom driver> <fio engine>"."""
import json
import math
import os
import statistics
import sys
from xml.sax.saxutils import escape

TARGET = 0.9


def spread(values):
    if not values:
        return None
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def fio_run(path):
    with open(path) as f:
        text = f.read()
    # fio may print notes before the JSON object.
    job = json.loads(text[text.index("{"):])["jobs"][0]
    read = job["read"]
    if job.get("error"):
        sys.exit(f"summarise.py: {path}: fio error {job['error']}")
    pct = read["lat_ns"].get("percentile", {})
    cpu_seconds = (job["usr_cpu"] + job["sys_cpu"]) / 100 * job["job_runtime"] / 1e3
    return {"iops": read["iops"], "mb_per_s": read["bw_bytes"] / 1e6,
            "p50_us": pct.get("50.000000", 0) / 1e3, "p99_us": pct.get("99.000000", 0) / 1e3,
            "ops": read["total_ios"], "cpu_us_per_op": cpu_seconds / read["total_ios"] * 1e6}


# Counters of netloom's run (--stats-json) per request: how it reached the kernel and woke.
PER_OP_COUNTERS = {"block/disk0": ("submit_calls", "wakeups", "turn_reaps"),
                   "scheduler/epoll": ("turns", "blocking_waits")}


def per_op_counters(stats_path, ops):
    if not os.path.exists(stats_path) or ops == 0:
        return {}
    with open(stats_path) as f:
        stats = json.load(f)
    return {f"{source.split('/')[0]}.{name}": stats[source][name] / ops
            for source, names in PER_OP_COUNTERS.items() for name in names
            if name in stats.get(source, {})}


def netloom_run(path):
    with open(path) as f:
        r = json.load(f)
    if not r["ok"]:
        sys.exit(f"summarise.py: {path}: blkbench failed: {r['error']}")
    return {"iops": r["iops"], "mb_per_s": r["mb_per_s"], "p50_us": r["latency_us"]["p50"],
            "p99_us": r["latency_us"]["p99"], "ops": r["ops"],
            "cpu_us_per_op": r["cpu_seconds"] / r["ops"] * 1e6 if r["ops"] else 0.0,
            "device": r["device_description"],
            "per_op": per_op_counters(os.path.join(os.path.dirname(path), "stats.json"),
                                      r["ops"])}


def runs_of(base, reader, file_name):
    if not os.path.isdir(base):
        return []
    return [reader(os.path.join(base, d, file_name)) for d in sorted(os.listdir(base), key=int)]


def summary_of(runs):
    summary = {key: spread([r[key] for r in runs])
               for key in ("mb_per_s", "iops", "p50_us", "p99_us", "cpu_us_per_op")}
    counters = sorted({name for r in runs for name in r.get("per_op", {})})
    if counters:
        summary["per_op"] = {name: statistics.median(r["per_op"].get(name, 0) for r in runs)
                             for name in counters}
    return summary


def size_label(size):
    return f"{size // 1024} KiB" if size >= 1024 else f"{size} B"


def render_svg(points):
    """Grouped bars: per point fio then netloom, median MB/s on a log scale with a min-max
    whisker, and netloom / fio above each pair."""
    width, height, left, top, bottom = 120 + 90 * len(points), 420, 70, 50, 90
    plot_h = height - top - bottom
    values = [v for p in points for tool in ("fio", "netloom")
              for v in (p[tool]["mb_per_s"]["min"], p[tool]["mb_per_s"]["max"]) if v > 0]
    lo = 10 ** math.floor(math.log10(min(values)))
    hi = 10 ** math.ceil(math.log10(max(values)))

    def y(v):
        v = max(v, lo)
        return top + plot_h * (1 - (math.log10(v) - math.log10(lo)) / (math.log10(hi) - math.log10(lo)))

    colours = {"fio": "#4e79a7", "netloom": "#f28e2b"}
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'font-family="sans-serif" font-size="11">',
           f'<rect width="{width}" height="{height}" fill="white"/>',
           f'<text x="{width / 2}" y="20" text-anchor="middle" font-size="14">Random read, O_DIRECT, '
           f'512 MiB file: MB/s (log scale), median of runs, min-max whiskers</text>']
    decade = lo
    while decade <= hi:
        out.append(f'<line x1="{left}" x2="{width - 20}" y1="{y(decade):.1f}" y2="{y(decade):.1f}" '
                   f'stroke="#ddd"/><text x="{left - 6}" y="{y(decade) + 4:.1f}" '
                   f'text-anchor="end">{decade:g}</text>')
        decade *= 10
    for i, p in enumerate(points):
        x0 = left + 20 + 90 * i
        for j, tool in enumerate(("fio", "netloom")):
            s = p[tool]["mb_per_s"]
            x = x0 + 30 * j
            out.append(f'<rect x="{x}" y="{y(s["median"]):.1f}" width="26" '
                       f'height="{top + plot_h - y(s["median"]):.1f}" fill="{colours[tool]}"/>')
            out.append(f'<line x1="{x + 13}" x2="{x + 13}" y1="{y(s["max"]):.1f}" '
                       f'y2="{y(s["min"]):.1f}" stroke="black"/>')
        ratio = p["ratio"]
        colour = "#2a7" if ratio is not None and ratio >= TARGET else "#c33"
        out.append(f'<text x="{x0 + 28}" y="{top - 6}" text-anchor="middle" fill="{colour}">'
                   f'{ratio:.2f}x</text>')
        label = f'{size_label(p["block_size"])} qd{p["queue_depth"]}'
        out.append(f'<text x="{x0 + 28}" y="{top + plot_h + 16}" text-anchor="middle">'
                   f'{escape(label)}</text>')
        out.append(f'<text x="{x0 + 28}" y="{top + plot_h + 30}" text-anchor="middle" '
                   f'fill="#555">{escape(p["netloom_driver"])}/{escape(p["fio_engine"])}</text>')
    legend_y = height - 30
    for j, (tool, text) in enumerate((("fio", "fio"), ("netloom", "netloom blkbench"))):
        out.append(f'<rect x="{left + 180 * j}" y="{legend_y}" width="12" height="12" '
                   f'fill="{colours[tool]}"/><text x="{left + 180 * j + 18}" y="{legend_y + 10}">'
                   f'{escape(text)}</text>')
    out.append(f'<text x="{left + 360}" y="{legend_y + 10}">ratio netloom / fio above each pair '
               f'(target {TARGET})</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main():
    work, results_path, chart_path, fs = sys.argv[1:5]
    points = []
    for spec in sys.argv[5:]:
        name, bs, qd, ops, driver, engine = spec.split()
        fio = runs_of(os.path.join(work, name, "fio"), fio_run, "fio.json")
        net = runs_of(os.path.join(work, name, "netloom"), netloom_run, "report.json")
        if not fio or not net:
            sys.exit(f"summarise.py: no runs for {name}")
        point = {"name": name, "block_size": int(bs), "queue_depth": int(qd), "ops": int(ops),
                 "netloom_driver": driver, "fio_engine": engine,
                 "fio": summary_of(fio), "netloom": summary_of(net),
                 "netloom_device": net[0]["device"], "fio_runs": fio, "netloom_runs": net}
        fm, nm = point["fio"]["mb_per_s"]["median"], point["netloom"]["mb_per_s"]["median"]
        point["ratio"] = nm / fm if fm > 0 else None
        point["meets_target"] = point["ratio"] is not None and point["ratio"] >= TARGET
        points.append(point)
    summary = {"what": "random read, O_DIRECT, 512 MiB file; netloom blkbench vs fio, alternating "
                       "point by point; ratio = median MB/s netloom / fio",
               "file_system": fs, "runs": len(points[0]["fio_runs"]), "target_ratio": TARGET,
               "all_meet_target": all(p["meets_target"] for p in points), "points": points}
    with open(results_path + ".partial", "w") as f:
        json.dump(summary, f, indent=2)
        f.write("\n")
    os.replace(results_path + ".partial", results_path)
    with open(chart_path, "w") as f:
        f.write(render_svg(points))

    print(f"Random read, O_DIRECT, 512 MiB file on {fs}; medians of {summary['runs']} runs "
          "(min-max); fio and netloom alternating")
    header = (f"{'point':<16}{'engines':<20}{'fio MB/s':>23}{'netloom MB/s':>23}{'ratio':>7}"
              f"{'fio p50/p99 us':>18}{'nl p50/p99 us':>18}{'cpu us/op':>12}")
    print(header)
    print("-" * len(header))
    for p in points:
        f, n = p["fio"], p["netloom"]

        def rate(s):
            m = s["mb_per_s"]
            return f"{m['median']:.1f} ({m['min']:.1f}-{m['max']:.1f})"

        def lat(s):
            return f"{s['p50_us']['median']:.0f}/{s['p99_us']['median']:.0f}"

        label = f"{size_label(p['block_size'])} qd{p['queue_depth']}"
        engines = f"{p['netloom_driver']}/{p['fio_engine']}"
        mark = "" if p["meets_target"] else " <"
        cpu = f"{f['cpu_us_per_op']['median']:.1f}/{n['cpu_us_per_op']['median']:.1f}"
        print(f"{label:<16}{engines:<20}{rate(f):>23}{rate(n):>23}{p['ratio']:>7.2f}"
              f"{lat(f):>18}{lat(n):>18}{cpu:>12}{mark}")
    print(f"target: ratio >= {TARGET} at every point: "
          f"{'met' if summary['all_meet_target'] else 'NOT met (<)'}")
    print(f"results: {results_path}\nchart: {chart_path}")


if __name__ == "__main__":
    main()
