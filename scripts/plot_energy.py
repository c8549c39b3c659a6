#!/usr/bin/python3
"""Energy breakdown as stacked bars, one bar per run.

Input is either a run summary JSON (npusim run --summary-json) or a results
database (npusim --db); the kind is recognised from the file's first bytes.

  /usr/bin/python3 scripts/plot_energy.py summary.json energy.png
  /usr/bin/python3 scripts/plot_energy.py results.db energy.png --per-token --where "hw='ascend-910b2'"
"""
import argparse

import plot_common as pc

# Same order as stats::energy_components(): compute, on-chip memory, off-chip, static.
COMPONENTS = ["cube", "vector", "buffers", "l2", "noc", "sram", "hbm", "ddr", "static"]
COLORS = {"cube": "#1f77b4", "vector": "#aec7e8", "buffers": "#2ca02c", "l2": "#98df8a", "noc": "#bcbd22",
          "sram": "#17becf", "hbm": "#d62728", "ddr": "#ff9896", "static": "#7f7f7f"}


def label(run):
    parts = [run.get("hw") or "?", run.get("model") or "?"]
    detail = f"{run.get('phase') or ''} b{run.get('batch')}"
    if run.get("compression"):
        detail += f" {run['compression']}"
    return "\n".join(parts + [detail.strip()])


def from_summary(path):
    s = pc.load_json(path, "run summary")
    breakdown = pc.require(s, "energy_breakdown_j", path, "run summary")
    if not breakdown:
        raise pc.InputProblem(f"{path}: the run has no energy (it ran without a technology table)")
    return [{"label": label(s), "tokens": s.get("tokens"), "parts": breakdown}]


def from_db(path, where):
    con = pc.open_results_db(path)
    sql = "SELECT run_hash, hw, model, phase, batch, compression, tokens FROM runs WHERE status = 'ok'"
    if where:
        sql += f" AND ({where})"
    sql += " ORDER BY hw, model, phase, batch, compression, run_hash"
    try:
        runs = [dict(r) for r in con.execute(sql)]
    except pc.sqlite3.DatabaseError as e:
        raise pc.InputProblem(f"{path}: --where '{where}': {e}")
    out = []
    for run in runs:
        parts = {r["component"]: r["joules"]
                 for r in con.execute("SELECT component, joules FROM energy WHERE run_hash = ?", (run["run_hash"],))}
        if parts:
            out.append({"label": label(run), "tokens": run["tokens"], "parts": parts})
    if not out:
        raise pc.InputProblem(f"{path}: no successful runs with energy" + (f" match --where '{where}'" if where else ""))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("input", help="run summary JSON or results database")
    ap.add_argument("output", help="image to write (.png, .pdf, .svg)")
    ap.add_argument("--per-token", action="store_true", help="divide by the tokens of each run")
    ap.add_argument("--where", default="", help="SQL condition on the runs table (database input only)")
    ap.add_argument("--title", default=None)
    args = ap.parse_args()

    bars = from_db(args.input, args.where) if pc.is_sqlite(args.input) else from_summary(args.input)
    if args.per_token:
        for b in bars:
            if not b["tokens"]:
                raise pc.InputProblem(f"{args.input}: --per-token, but run '{b['label']}' has no tokens")
            b["parts"] = {k: v / b["tokens"] for k, v in b["parts"].items()}
    unknown = sorted({k for b in bars for k in b["parts"]} - set(COMPONENTS))
    components = [c for c in COMPONENTS + unknown if any(b["parts"].get(c, 0) > 0 for b in bars)]
    totals = [sum(b["parts"].values()) for b in bars]
    factor, unit = pc.scale_si(totals, "J")

    pc.style()
    fig, ax = pc.plt.subplots(figsize=(max(3.2, 0.9 * len(bars) + 1.8), 3.4))
    x = range(len(bars))
    bottom = [0.0] * len(bars)
    for c in components:
        heights = [b["parts"].get(c, 0) / factor for b in bars]
        ax.bar(x, heights, 0.6, bottom=bottom, label=c, color=COLORS.get(c), edgecolor="white", linewidth=0.4)
        bottom = [b + h for b, h in zip(bottom, heights)]
    for xi, total in zip(x, totals):
        ax.annotate(f"{total / factor:.3g}", (xi, total / factor), ha="center", va="bottom", fontsize=7,
                    xytext=(0, 2), textcoords="offset points")
    ax.set_xticks(list(x))
    ax.set_xticklabels([b["label"] for b in bars], fontsize=7)
    ax.set_ylabel(f"energy per token ({unit}/token)" if args.per_token else f"energy ({unit})")
    ax.set_ylim(0, max(bottom) * 1.12 if max(bottom) > 0 else 1)
    ax.grid(axis="x", visible=False)
    ax.set_title(args.title or ("Energy per token by component" if args.per_token else "Energy by component"))
    ax.legend(title="component", loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    pc.save(fig, args.output)


if __name__ == "__main__":
    pc.run(main)
