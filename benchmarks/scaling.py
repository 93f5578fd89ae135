"""Scaling benchmark: fit time and peak memory against the size of the data.

Two sweeps on generated data (:func:`sklearn_dpads.datasets.make_planted_sequences`,
8 features, a planted window rule, default estimator settings):

* the number of sequences, at a fixed length (default 500 to 50,000 sequences of
  50 frames);
* the sequence length, at a fixed number of sequences (default 13 to 1,000 frames,
  500 sequences).

Every point is fitted in its own process, so that its peak memory (max RSS) is its
own. The script prints one row per point, then for each sweep the slope of
log(fit time) against log(size), fitted by least squares: a slope of 1 is linear
growth, less than 1 sublinear (the search works on a subsample of at most
``max_search_samples`` sequences and ``max_search_frames`` frames; only the final
fine-tune and refit, which stream minibatches, see all the data)::

    python benchmarks/scaling.py                       # both sweeps (about 30 min)
    python benchmarks/scaling.py --quick               # small sizes (a few minutes)
    python benchmarks/scaling.py --sweep length --plot scaling.png --out scaling.json

Times are wall-clock on the machine at hand: compare the slope, and points of one
run, never figures of different runs.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from _util import git_commit

BENCH_DIR = Path(__file__).resolve().parent

SWEEPS = {
    "samples": {
        "full": dict(sizes=[500, 1500, 5000, 15000, 50000], fixed=50),
        "quick": dict(sizes=[300, 1000, 3000], fixed=20),
    },
    "length": {
        "full": dict(sizes=[13, 50, 200, 1000], fixed=500),
        "quick": dict(sizes=[13, 50, 200], fixed=200),
    },
}
QUICK_PARAMS = dict(max_depth=3, search_epochs=2, prune_epochs=1, finetune_epochs=10)


def run_point(
    n_samples: int, n_timesteps: int, label_type: str, params: dict, threads: int
) -> dict:
    """Fit the default estimator on one generated data set (in this process)."""
    import torch

    from sklearn_dpads import ProgramSynthesisClassifier
    from sklearn_dpads.datasets import make_planted_sequences

    torch.set_num_threads(threads)
    torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))])  # import cost, not fit
    data = make_planted_sequences(
        n_samples=n_samples,
        n_timesteps=n_timesteps,
        n_features=8,
        label_type=label_type,
        noise=0.05,
        random_state=0,
    )
    rss_data = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    clf = ProgramSynthesisClassifier(
        feature_groups=data.feature_groups, n_threads=threads, random_state=0, **params
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t0 = time.perf_counter()
        clf.fit(data.X, data.y)
        fit_s = time.perf_counter() - t0
    return {
        "n_samples": n_samples,
        "n_timesteps": n_timesteps,
        "frames": n_samples * n_timesteps,
        "fit_s": fit_s,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "rss_after_data_mb": rss_data,
        "data_mb": data.X.nbytes / 2**20,
        "train_accuracy": float(clf.score(data.X, data.y)),
        "program": str(clf),
    }


def loglog_slope(sizes, times) -> float:
    """Least-squares slope of ``log(times)`` against ``log(sizes)``.

    Parameters
    ----------
    sizes, times : sequence of float
        Positive sizes and times, at least two points.

    Returns
    -------
    float
        The slope; 1 is linear growth.
    """
    x, y = np.log(np.asarray(sizes, float)), np.log(np.asarray(times, float))
    if len(x) < 2:
        raise ValueError("need at least two points for a slope")
    return float(np.polyfit(x, y, 1)[0])


def _plot(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, len(results), figsize=(5 * len(results), 7))
    axes = np.asarray(axes).reshape(2, -1)
    for j, (sweep, res) in enumerate(results.items()):
        rows = res["rows"]
        key = "n_samples" if sweep == "samples" else "n_timesteps"
        xs = [r[key] for r in rows]
        axes[0, j].loglog(xs, [r["fit_s"] for r in rows], "o-")
        axes[0, j].set_title(f"{sweep}: slope {res['slope']:.2f}")
        axes[0, j].set_ylabel("fit time (s)")
        axes[1, j].semilogx(xs, [r["peak_rss_mb"] for r in rows], "o-")
        axes[1, j].set_ylabel("peak RSS (MB)")
        axes[1, j].set_xlabel(key)
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sweep", nargs="+", choices=list(SWEEPS), default=list(SWEEPS))
    ap.add_argument("--quick", action="store_true", help="small sizes and search")
    ap.add_argument("--sizes", type=int, nargs="+", help="override the sweep sizes")
    ap.add_argument("--fixed", type=int, help="override the fixed other dimension")
    ap.add_argument("--label-type", choices=["sequence", "frame"], default="sequence")
    ap.add_argument("--params", default="{}", help="JSON of estimator parameters")
    ap.add_argument("--threads", type=int, default=1, help="torch threads per fit")
    ap.add_argument("--out", type=Path, default=None, help="write the rows as JSON")
    ap.add_argument("--plot", type=Path, default=None, help="save a PNG plot")
    ap.add_argument("--run-point", nargs=2, type=int, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    params = {**(QUICK_PARAMS if args.quick else {}), **json.loads(args.params)}
    if args.run_point:
        n, t = args.run_point
        row = run_point(n, t, args.label_type, params, args.threads)
        print("RESULT " + json.dumps(row))
        return 0

    print(
        f"# scaling benchmark at commit {git_commit()}, {args.label_type} labels, "
        f"{args.threads} thread(s), params {params}"
    )
    results = {}
    for sweep in args.sweep:
        spec = SWEEPS[sweep]["quick" if args.quick else "full"]
        sizes = args.sizes or spec["sizes"]
        fixed = args.fixed or spec["fixed"]
        print(f"## sweep over {sweep} (fixed {fixed})", flush=True)
        print(
            "| sequences | frames each | frames | fit s | s per 1k frames | "
            "peak MB | data MB | train acc | program |"
        )
        print("|---|---|---|---|---|---|---|---|---|")
        rows = []
        for size in sizes:
            n, t = (size, fixed) if sweep == "samples" else (fixed, size)
            cmd = [sys.executable, __file__, "--run-point", str(n), str(t)]
            cmd += ["--label-type", args.label_type, "--threads", str(args.threads)]
            cmd += ["--params", json.dumps(params)]
            proc = subprocess.run(cmd, capture_output=True, text=True)
            lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
            if proc.returncode != 0 or not lines:
                print(f"point {n} x {t} failed ({proc.returncode}):")
                print(proc.stderr[-3000:])
                continue
            r = json.loads(lines[-1][len("RESULT ") :])
            rows.append(r)
            print(
                f"| {n} | {t} | {r['frames']} | {r['fit_s']:.1f} | "
                f"{1000 * r['fit_s'] / r['frames']:.3f} | {r['peak_rss_mb']:.0f} | "
                f"{r['data_mb']:.1f} | {r['train_accuracy']:.3f} | {r['program']} |",
                flush=True,
            )
        if len(rows) >= 2:
            key = "n_samples" if sweep == "samples" else "n_timesteps"
            slope = loglog_slope([r[key] for r in rows], [r["fit_s"] for r in rows])
            mem = loglog_slope([r[key] for r in rows], [r["peak_rss_mb"] for r in rows])
            print(
                f"slope of log(fit time) on log({key}): {slope:.2f} "
                f"({'at most linear' if slope <= 1.05 else 'SUPERLINEAR'}); "
                f"of log(peak memory): {mem:.2f}\n",
                flush=True,
            )
            results[sweep] = {"rows": rows, "slope": slope, "memory_slope": mem}
    if args.out is not None:
        payload = {"commit": git_commit(), "params": params, "results": results}
        args.out.write_text(json.dumps(payload, indent=1))
    if args.plot is not None and results:
        _plot(results, args.plot)
    return 0


if __name__ == "__main__":
    sys.exit(main())
