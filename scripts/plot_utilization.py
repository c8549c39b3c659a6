#!/usr/bin/python3
"""Unit utilization over time from a Chrome/Perfetto trace written by
npusim (--trace): busy slices ("X" events) of every track are binned into
equal time bins and shown as a heatmap, one row per track ("core0.cube",
"hbm.ch5"), with each track's mean utilization on the right.

  /usr/bin/python3 scripts/plot_utilization.py trace.json utilization.png --bins 120 --tracks 'core[01]\\.'
"""
import argparse
import re

import numpy as np

import plot_common as pc


def track_names(events):
    processes, threads = {}, {}
    for e in events:
        if e.get("ph") != "M":
            continue
        if e.get("name") == "process_name":
            processes[e["pid"]] = e["args"]["name"]
        elif e.get("name") == "thread_name":
            threads[(e["pid"], e["tid"])] = e["args"]["name"]
    return {key: f"{processes.get(key[0], key[0])}.{name}" for key, name in threads.items()}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("trace", help="trace JSON (traceEvents)")
    ap.add_argument("output", help="image to write (.png, .pdf, .svg)")
    ap.add_argument("--bins", type=int, default=100, help="time bins (default 100)")
    ap.add_argument("--tracks", default=None, help="regular expression selecting tracks by 'process.thread'")
    ap.add_argument("--title", default=None)
    args = ap.parse_args()
    if args.bins < 1:
        raise pc.InputProblem("--bins must be at least 1")

    trace = pc.load_json(args.trace, "trace")
    events = pc.require(trace, "traceEvents", args.trace, "Chrome trace")
    names = track_names(events)
    slices = [e for e in events if e.get("ph") == "X"]
    if not slices:
        raise pc.InputProblem(f"{args.trace}: the trace has no busy slices ('X' events)")
    try:
        pattern = re.compile(args.tracks) if args.tracks else None
    except re.error as e:
        raise pc.InputProblem(f"--tracks '{args.tracks}': {e}")

    keys = [k for k in names if pattern is None or pattern.search(names[k])]
    keys = [k for k in keys if any((e["pid"], e["tid"]) == k for e in slices)]
    if not keys:
        raise pc.InputProblem(f"{args.trace}: no track with slices matches --tracks '{args.tracks}'")
    keys.sort()  # creation order: pids and tids are handed out in order
    row = {k: i for i, k in enumerate(keys)}

    t0 = min(float(e["ts"]) for e in slices)
    t1 = max(float(e["ts"]) + float(e.get("dur", 0)) for e in slices)
    span = max(t1 - t0, 1e-9)
    width = span / args.bins
    busy = np.zeros((len(keys), args.bins))
    for e in slices:
        k = (e["pid"], e["tid"])
        if k not in row:
            continue
        b, end = float(e["ts"]) - t0, float(e["ts"]) + float(e.get("dur", 0)) - t0
        first, last = int(b // width), min(int(end // width), args.bins - 1)
        for i in range(first, last + 1):
            overlap = min(end, (i + 1) * width) - max(b, i * width)
            if overlap > 0:
                busy[row[k], i] += overlap
    # Slices on one track may overlap (queued work); a unit is at most fully busy.
    util = np.clip(busy / width, 0, 1)

    factor, unit = pc.scale_si([span * 1e-6], "s")
    pc.style()
    fig, ax = pc.plt.subplots(figsize=(6.4, 0.9 + 0.22 * len(keys)))
    extent = [t0 * 1e-6 / factor, t1 * 1e-6 / factor, len(keys) - 0.5, -0.5]
    im = ax.imshow(util, aspect="auto", interpolation="nearest", cmap="viridis", vmin=0, vmax=1, extent=extent)
    ax.set_yticks(range(len(keys)))
    ax.set_yticklabels([names[k] for k in keys], fontsize=7)
    ax.set_xlabel(f"simulated time ({unit})")
    ax.grid(False)
    for i, k in enumerate(keys):
        ax.annotate(f"{100 * util[i].mean():.0f}%", (1.005, 1 - (i + 0.5) / len(keys)), xycoords="axes fraction",
                    fontsize=6, va="center")
    cbar = fig.colorbar(im, ax=ax, pad=0.07, fraction=0.04)
    cbar.set_label("utilization (busy fraction)")
    note = " (trace truncated)" if trace.get("otherData", {}).get("truncated") else ""
    ax.set_title((args.title or f"Unit utilization, {args.bins} bins of {width * 1e-6 / factor:.3g} {unit}") + note)
    pc.save(fig, args.output)


if __name__ == "__main__":
    pc.run(main)
