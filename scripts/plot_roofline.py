#!/usr/bin/python3
"""Roofline of one run: the machine's compute and bandwidth roofs (from the
summary's peak_flops_per_s and peak_bandwidth_Bps) with every op placed at
its arithmetic intensity and achieved FLOP/s, log-log.

  /usr/bin/python3 scripts/plot_roofline.py summary.json roofline.png
"""
import argparse
import math

import plot_common as pc

MARKERS = ["o", "s", "^", "D", "v", "P", "X", "<", ">", "*"]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("summary", help="run summary JSON")
    ap.add_argument("output", help="image to write (.png, .pdf, .svg)")
    ap.add_argument("--title", default=None)
    args = ap.parse_args()

    s = pc.load_json(args.summary, "run summary")
    what = "run summary"
    peak = pc.require(s, "peak_flops_per_s", args.summary, what)
    bw = pc.require(s, "peak_bandwidth_Bps", args.summary, what)
    ops = pc.require(s, "ops", args.summary, what)
    if not peak or not bw or peak <= 0 or bw <= 0:
        raise pc.InputProblem(f"{args.summary}: peak_flops_per_s and peak_bandwidth_Bps must be positive numbers "
                              f"(got {peak}, {bw})")
    # An op with no arithmetic or no traffic has no place on log axes.
    placed = [o for o in ops if o.get("arithmetic_intensity", 0) > 0 and o.get("achieved_flops_per_s", 0) > 0]
    if not placed:
        raise pc.InputProblem(f"{args.summary}: no op with both FLOPs and bytes to place on the roofline")

    ridge = peak / bw
    ai = [o["arithmetic_intensity"] for o in placed]
    lo = 10 ** math.floor(math.log10(min(ai + [ridge]) / 2))
    hi = 10 ** math.ceil(math.log10(max(ai + [ridge]) * 2))
    xs = [lo * (hi / lo) ** (i / 200) for i in range(201)]
    roof = [min(peak, bw * x) for x in xs]

    pc.style()
    fig, ax = pc.plt.subplots(figsize=(5.0, 3.6))
    ax.loglog([x for x in xs], [r / 1e12 for r in roof], color="black", linewidth=1.4, label="roofline")
    ax.axvline(ridge, color="gray", linestyle=":", linewidth=0.8)
    ax.annotate(f"ridge {ridge:.3g} FLOP/B", (ridge, peak / 1e12), xytext=(4, -12), textcoords="offset points",
                fontsize=7, color="gray")
    ax.annotate(f"peak {peak / 1e12:.4g} TFLOP/s", (hi, peak / 1e12), xytext=(-4, 4), textcoords="offset points",
                ha="right", fontsize=7)
    ax.annotate(f"{bw / 1e12:.3g} TB/s", (lo * 2, bw * lo * 2 / 1e12), xytext=(0, 6), textcoords="offset points",
                fontsize=7, rotation=0)

    kinds = sorted({o.get("kind") or "?" for o in placed})
    cmap = pc.plt.get_cmap("tab10")
    for i, kind in enumerate(kinds):
        group = [o for o in placed if (o.get("kind") or "?") == kind]
        ax.scatter([o["arithmetic_intensity"] for o in group], [o["achieved_flops_per_s"] / 1e12 for o in group],
                   s=22, marker=MARKERS[i % len(MARKERS)], color=cmap(i % 10), edgecolor="black", linewidth=0.3, alpha=0.8,
                   label=f"{kind} ({len(group)})", zorder=3)
    ax.set_xlim(lo, hi)
    ax.set_ylim(min(o["achieved_flops_per_s"] for o in placed) / 1e12 / 3, peak / 1e12 * 3)
    ax.set_xlabel("arithmetic intensity (FLOP/byte)")
    ax.set_ylabel("achieved performance (TFLOP/s)")
    skipped = len(ops) - len(placed)
    title = args.title or f"Roofline: {s.get('model', '?')} {s.get('phase', '')} on {s.get('hw', '?')}"
    ax.set_title(title + (f"\n({skipped} ops without FLOPs or bytes not shown)" if skipped else ""))
    ax.legend(loc="lower right", frameon=False)
    ax.grid(True, which="both", alpha=0.25)
    pc.save(fig, args.output)


if __name__ == "__main__":
    pc.run(main)
