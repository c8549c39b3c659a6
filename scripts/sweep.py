#!/usr/bin/python3
"""Design-space sweep: the cartesian product of the given axes, each point one
`npusim run` process, fanned out to worker processes, all stored in one
results database. A point already in the database is not run again
(`npusim run --skip-stored`), so an interrupted sweep resumes where it stopped.

  /usr/bin/python3 scripts/sweep.py --db results/compression.db --jobs 2 \\
      --hw configs/hw/ascend-910b2.yaml --model configs/models/llama-2-7b.yaml \\
      --phase decode --seq 2048 --compression 'configs/compression/*.yaml' \\
      --columns compression,tokens_per_s,energy_per_token_j

Every axis flag takes one or more values; file axes expand globs, and
`--compression none` is the uncompressed model. After the sweep the table of
the points it covered is printed with `npusim report` (and written as CSV or
Markdown when asked). Exits 1 if any point failed, 2 on bad arguments.
"""
import argparse
import concurrent.futures
import csv
import glob
import itertools
import os
import shlex
import subprocess
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Axis flag -> the `npusim run` flag it sets; file axes expand globs.
AXES = [
    ("hw", "--hw", True),
    ("model", "--model", True),
    ("phase", "--phase", False),
    ("batch", "--batch", False),
    ("seq", "--seq", False),
    ("steps", "--steps", False),
    ("compression", "--compression", True),
    ("mapper", "--mapper", True),
    ("mapping", "--mapping", False),
    ("fidelity", "--fidelity", False),
    ("dtype", "--dtype", False),
]


def expand(values, is_file, flag):
    out = []
    for value in values:
        if not is_file or value == "none":
            out.append(value)
            continue
        matches = sorted(glob.glob(value))
        if not matches:
            sys.exit(f"sweep.py: error: --{flag} {value}: no such file")
        out.extend(matches)
    return out


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    for name, _, is_file in AXES:
        p.add_argument(f"--{name}", nargs="+", required=name in ("hw", "model"),
                       help="one or more " + ("files or globs" if is_file else "values"))
    p.add_argument("--routing", help="MoE routing trace passed to every point")
    p.add_argument("--extra", default="", help="further npusim run flags for every point, e.g. '--sample-layers 4'")
    p.add_argument("--db", required=True, help="results database (created if missing)")
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="worker processes (default: CPUs)")
    p.add_argument("--npusim", default=os.path.join(REPO, "build", "npusim"), help="the npusim binary")
    p.add_argument("--columns", default="hw,model,phase,batch,seq,mapping,compression,status,tokens_per_s,"
                   "energy_per_token_j,util.cube,util.hbm_bandwidth,wall_seconds",
                   help="columns of the final table (npusim report --columns)")
    p.add_argument("--csv", help="also write the table as CSV")
    p.add_argument("--markdown", help="also write the table as a Markdown table")
    args = p.parse_args()
    if args.jobs < 1:
        p.error("--jobs must be at least 1")
    if not os.access(args.npusim, os.X_OK):
        p.error(f"--npusim {args.npusim}: not an executable; build first (bash scripts/build.sh)")
    return args


def points(args):
    axes = []
    for name, flag, is_file in AXES:
        values = getattr(args, name)
        if values is None:
            continue
        axes.append([(flag, v) for v in expand(values, is_file, name)])
    for combo in itertools.product(*axes):
        cmd = [args.npusim, "run", "--db", args.db, "--skip-stored"]
        for flag, value in combo:
            if not (flag == "--compression" and value == "none"):
                cmd += [flag, value]
        if args.routing:
            cmd += ["--routing", args.routing]
        cmd += shlex.split(args.extra)
        yield cmd


def run_point(cmd):
    done = subprocess.run(cmd, capture_output=True, text=True)
    stored = done.returncode == 0 and done.stdout.startswith("already stored")
    return cmd, done.returncode, stored, done.stderr.strip()


def report(args, csv_path):
    cmd = [args.npusim, "report", args.db, "--columns", args.columns, "--csv", csv_path]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"sweep.py: npusim report failed: {done.stderr.strip()}")
    return done.stdout


def write_markdown(csv_path, md_path):
    with open(csv_path, newline="") as f:
        rows = list(csv.reader(f))
    with open(md_path, "w") as out:
        out.write("| " + " | ".join(rows[0]) + " |\n")
        out.write("|" + "---|" * len(rows[0]) + "\n")
        for row in rows[1:]:
            out.write("| " + " | ".join(row) + " |\n")


def main():
    args = parse_args()
    os.makedirs(os.path.dirname(os.path.abspath(args.db)), exist_ok=True)
    todo = list(points(args))
    print(f"sweep: {len(todo)} points, {args.jobs} workers, results in {args.db}", file=sys.stderr)
    failed = 0
    # The first point runs alone so that it creates the database and its
    # schema before workers open it concurrently. Threads only wait on the
    # npusim processes, which do the work.
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        results = itertools.chain([run_point(todo[0])] if todo else [], pool.map(run_point, todo[1:]))
        for i, (cmd, code, stored, err) in enumerate(results, 1):
            label = " ".join(os.path.basename(a) if a.endswith((".yaml", ".json", ".onnx")) else a
                             for a in cmd[cmd.index("--skip-stored") + 1:])
            status = "already stored" if stored else "ok" if code == 0 else f"FAILED (exit {code}): {err.splitlines()[-1] if err else ''}"
            print(f"[{i}/{len(todo)}] {label}: {status}", file=sys.stderr)
            failed += code != 0
    with tempfile.TemporaryDirectory() as tmp:
        table_csv = args.csv or os.path.join(tmp, "table.csv")
        print(report(args, table_csv), end="")
        if args.markdown:
            write_markdown(table_csv, args.markdown)
    if failed:
        print(f"sweep: {failed} of {len(todo)} points failed", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
