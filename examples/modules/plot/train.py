"""Plot columns of a CSV table to a PNG file with matplotlib.

--input-path is a CSV file with a header row, or a folder holding exactly one. The chosen
--columns (default: every numeric column) are drawn as a scatter plot (the first two), as
overlaid histograms or as lines over the row number, one series per value of --group when
it is given. The figure is written to ``<output-path>/<name>``; nothing else is written:
matplotlib's cache goes to a temporary folder that is removed on exit.
"""

import argparse
import csv
import os
import tempfile
from pathlib import Path

import numpy as np

# matplotlib reads its config folder and backend when it is imported: keep its font cache
# out of the user's home, and draw without a display.
_config = tempfile.TemporaryDirectory(prefix="matplotlib-")
os.environ["MPLCONFIGDIR"] = _config.name
import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def parse_args():
    parser = argparse.ArgumentParser(description="Plot columns of a CSV table to a PNG")
    parser.add_argument("--input-path", type=Path, required=True,
                        help="a CSV file with a header row, or a folder holding one")
    parser.add_argument("--output-path", type=Path, required=True,
                        help="folder for the PNG (created)")
    parser.add_argument("--name", default="plot.png", help="file name of the PNG")
    parser.add_argument("--kind", choices=["scatter", "histogram", "line"], default="scatter",
                        help="scatter of two columns, histograms, or lines over the rows")
    parser.add_argument("--columns", nargs="+", default=None,
                        help="numeric columns to plot (default: all of them)")
    parser.add_argument("--group", default=None,
                        help="a column whose values split the rows into coloured series")
    parser.add_argument("--title", default=None, help="figure title (default: from the plot)")
    parser.add_argument("--dpi", type=int, default=100, help="resolution of the PNG")
    parser.add_argument("--grid", action=argparse.BooleanOptionalAction, default=True,
                        help="draw grid lines")
    parser.add_argument("--bins", type=int, default=20, help="bins of a histogram")
    return parser.parse_args()


def read_rows(path):
    if path.is_dir():
        found = sorted(path.glob("*.csv"))
        if len(found) != 1:
            raise SystemExit(f"error: {path} must hold exactly one CSV file, found {len(found)}")
        path = found[0]
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        return reader.fieldnames, list(reader)


def is_numeric(rows, column):
    try:
        [float(row[column]) for row in rows]
    except ValueError:
        return False
    return True


def choose_columns(args, header, rows):
    columns = args.columns or [c for c in header if c != args.group and is_numeric(rows, c)]
    for column in [*columns, *([args.group] if args.group else [])]:
        if column not in header:
            raise SystemExit(f"error: no column {column!r}; the table has {', '.join(header)}")
    not_numeric = [c for c in columns if not is_numeric(rows, c)]
    if not_numeric:
        raise SystemExit(f"error: these columns do not hold numbers: {', '.join(not_numeric)}")
    if args.kind == "scatter":
        if len(columns) < 2:
            raise SystemExit("error: a scatter plot needs two columns")
        return columns[:2]
    return columns


def draw(args, columns, groups):
    fig, ax = plt.subplots(figsize=(6.4, 4.8))
    everything = [float(row[c]) for rows in groups.values() for row in rows for c in columns]
    edges = np.histogram_bin_edges(everything, bins=args.bins)
    for group, rows in groups.items():
        series = {c: np.array([float(row[c]) for row in rows]) for c in columns}
        if args.kind == "scatter":
            ax.scatter(series[columns[0]], series[columns[1]], s=16, alpha=0.8, label=group)
            continue
        for column in columns:
            label = " ".join(str(part) for part in (column, group) if part is not None)
            if args.kind == "histogram":
                ax.hist(series[column], bins=edges, alpha=0.5, label=label)
            else:
                ax.plot(np.arange(len(series[column])), series[column], label=label)

    if args.kind == "scatter":
        ax.set(xlabel=columns[0], ylabel=columns[1])
    else:
        ax.set(xlabel="value" if args.kind == "histogram" else "row",
               ylabel="count" if args.kind == "histogram" else "value")
    ax.set_title(args.title or f"{args.kind}: {', '.join(columns)}")
    if args.grid:
        ax.grid(alpha=0.3)
    if args.kind != "scatter" or args.group:
        ax.legend(fontsize="small")
    fig.tight_layout()
    return fig


def main():
    args = parse_args()
    if Path(args.name).name != args.name or not args.name.lower().endswith(".png"):
        raise SystemExit(f"error: --name must be a file name ending in .png, not {args.name!r}")
    header, rows = read_rows(args.input_path)
    columns = choose_columns(args, header, rows)
    groups = {}
    for row in rows:
        groups.setdefault(row[args.group] if args.group else None, []).append(row)

    fig = draw(args, columns, groups)
    args.output_path.mkdir(parents=True, exist_ok=True)
    target = args.output_path / args.name
    fig.savefig(target, dpi=args.dpi, format="png")
    print(f"wrote {target}: {args.kind} of {', '.join(columns)} over {len(rows)} rows"
          + (f" in {len(groups)} groups of {args.group}" if args.group else ""))

if __name__ == "__main__":
    main()
