#!/usr/bin/python3
"""Throughput against energy per token for the runs in a results database,
with the Pareto front (no other run is both faster and cheaper) marked.

  /usr/bin/python3 scripts/plot_pareto.py results.db pareto.png --color-by compression --where "phase='decode'"
"""
import argparse

import plot_common as pc

COLOR_COLUMNS = ["hw", "model", "phase", "compression", "mapping", "batch", "seq"]


def pareto_front(points):
    """Indices of points not dominated: higher tokens/s and lower J/token is better."""
    order = sorted(range(len(points)), key=lambda i: (points[i][0], -points[i][1]))
    front, best = [], -1.0
    for i in order:  # ascending energy; keep each that beats every cheaper one's throughput
        if points[i][1] > best:
            front.append(i)
            best = points[i][1]
    return front


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("db", help="results database")
    ap.add_argument("output", help="image to write (.png, .pdf, .svg)")
    ap.add_argument("--color-by", default="compression", choices=COLOR_COLUMNS, help="runs column for colors")
    ap.add_argument("--where", default="", help="SQL condition on the runs table")
    ap.add_argument("--title", default=None)
    args = ap.parse_args()

    con = pc.open_results_db(args.db)
    sql = ("SELECT hw, model, phase, batch, seq, mapping, compression, tokens_per_s, energy_per_token_j FROM runs"
           " WHERE status = 'ok' AND tokens_per_s > 0 AND energy_per_token_j > 0")
    if args.where:
        sql += f" AND ({args.where})"
    try:
        runs = [dict(r) for r in con.execute(sql + " ORDER BY hw, model, phase, batch, compression")]
    except pc.sqlite3.DatabaseError as e:
        raise pc.InputProblem(f"{args.db}: --where '{args.where}': {e}")
    if not runs:
        raise pc.InputProblem(f"{args.db}: no successful runs with tokens/s and energy per token"
                              + (f" match --where '{args.where}'" if args.where else ""))

    factor, unit = pc.scale_si([r["energy_per_token_j"] for r in runs], "J")
    points = [(r["energy_per_token_j"] / factor, r["tokens_per_s"]) for r in runs]
    front = pareto_front(points)

    pc.style()
    fig, ax = pc.plt.subplots(figsize=(5.0, 3.6))
    groups = sorted({str(r[args.color_by]) for r in runs}, key=lambda g: (len(g), g))
    cmap = pc.plt.get_cmap("tab10")
    for gi, g in enumerate(groups):
        idx = [i for i, r in enumerate(runs) if str(r[args.color_by]) == g]
        ax.scatter([points[i][0] for i in idx], [points[i][1] for i in idx], s=20, color=cmap(gi % 10),
                   edgecolor="none", alpha=0.85, label=f"{args.color_by} {g}", zorder=2)
    fx = [points[i][0] for i in front]
    fy = [points[i][1] for i in front]
    ax.step(fx, fy, where="post", color="black", linewidth=1.0, zorder=1, label=f"Pareto front ({len(front)} runs)")
    ax.scatter(fx, fy, s=60, facecolor="none", edgecolor="black", linewidth=1.0, zorder=3)
    for i in front:
        r = runs[i]
        ax.annotate(f"{r['hw']} b{r['batch']}", points[i], xytext=(5, -9), textcoords="offset points", fontsize=6)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(f"energy per token ({unit}/token)  \u2190 better")
    ax.set_ylabel("throughput (tokens/s)  \u2192 better")
    ax.set_title(args.title or f"Throughput vs energy per token ({len(runs)} runs)")
    ax.legend(loc="best", frameon=False)
    ax.grid(True, which="both", alpha=0.25)
    pc.save(fig, args.output)


if __name__ == "__main__":
    pc.run(main)
