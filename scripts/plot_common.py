"""Shared by the plot_*.py scripts: headless matplotlib, paper style, input
loading that fails with one clear line naming the file."""
import json
import os
import sqlite3
import sys

import matplotlib

matplotlib.use("Agg")  # no display on build machines
import matplotlib.pyplot as plt  # noqa: E402

SCHEMA_VERSION = 1  # stats/store/schema.h kSchemaVersion


class InputProblem(Exception):
    """Bad input file: reported as one line and exit code 2, like npusim."""


def run(main):
    """Calls main(); turns InputProblem into 'prog: error: ...' and exit 2."""
    prog = os.path.basename(sys.argv[0])
    try:
        main()
    except InputProblem as e:
        print(f"{prog}: error: {e}", file=sys.stderr)
        sys.exit(2)


def style():
    plt.rcParams.update({
        "figure.dpi": 150,
        "savefig.dpi": 200,
        "font.size": 9,
        "axes.titlesize": 10,
        "axes.labelsize": 9,
        "legend.fontsize": 8,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.grid": True,
        "grid.alpha": 0.3,
        "grid.linewidth": 0.5,
    })


def load_json(path, what):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError:
        raise InputProblem(f"{path}: no such file")
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise InputProblem(f"{path}: not a valid {what} (invalid JSON: {e})")


def require(obj, key, path, what):
    if not isinstance(obj, dict) or key not in obj:
        raise InputProblem(f"{path}: not a {what}: missing field '{key}'")
    return obj[key]


def open_results_db(path):
    """Opens an npusim results database read-only, checking its schema version."""
    if not os.path.exists(path):
        raise InputProblem(f"{path}: no such file")
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        row = con.execute("SELECT version FROM schema_version").fetchone()
    except sqlite3.DatabaseError as e:
        raise InputProblem(f"{path}: not an npusim results database ({e})")
    if row is None or row[0] != SCHEMA_VERSION:
        raise InputProblem(f"{path}: results database schema version {row and row[0]}, expected {SCHEMA_VERSION}")
    con.row_factory = sqlite3.Row
    return con


def is_sqlite(path):
    try:
        with open(path, "rb") as f:
            return f.read(16) == b"SQLite format 3\x00"
    except FileNotFoundError:
        raise InputProblem(f"{path}: no such file")


def scale_si(values, unit):
    """A common SI prefix for a set of values: returns (factor, 'mJ')."""
    peak = max((abs(v) for v in values if v), default=0)
    for factor, prefix in ((1e-12, "p"), (1e-9, "n"), (1e-6, "µ"), (1e-3, "m"), (1, ""), (1e3, "k"), (1e6, "M"),
                           (1e9, "G"), (1e12, "T")):
        if peak < factor * 1000:
            return factor, prefix + unit
    return 1e12, "T" + unit


def save(fig, path):
    try:
        fig.savefig(path, bbox_inches="tight")
    except OSError as e:
        raise InputProblem(f"{path}: cannot write the figure ({e.strerror})")
    plt.close(fig)
