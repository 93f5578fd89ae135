"""Engine benchmark: what one optimisation step of the search costs.

For each case it prints the fit seconds, the optimiser steps taken (every
``torch.optim`` step: a bi-level step counts two), steps per second over the
whole fit and over the first training of the deepest unfolding stage (the
depth-4 stage with the defaults), peak memory, held-out F1 on a fixed split,
the chosen program, and the fit-time ratio to an LSTM (one layer, 100 units,
early stopping) trained on the same split in the same process.

Each case runs in its own process, so that peak memory is per case::

    python benchmarks/engine.py                      # all cases, CPU
    python benchmarks/engine.py --cases calms21-default multiclass40
    python benchmarks/engine.py --cases crim13 --device cuda

CalMS21 is read from ``--data-dir`` (default ``../shared/data`` next to the
repository); the other cases are generated.
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
REPO_DIR = BENCH_DIR.parent
DEFAULT_DATA = REPO_DIR.parent / "shared" / "data"

HEAVY = dict(
    search_epochs=12,
    prune_epochs=6,
    selection_epochs=6,
    program_epochs=60,
    batch_size=64,
)
CASES = {
    "calms21-default": "CalMS21 investigation, defaults (70/30 split, seed 0)",
    "calms21-heavy": "CalMS21 investigation, heavier training: "
    + ", ".join(f"{k}={v}" for k, v in HEAVY.items()),
    "crim13": "CRIM13-shaped, 12,404 x 100 x 19 train / 3,000 test, one label per frame",
    "multiclass40": "40 training sequences, 4 classes, 6 channels, 100 steps",
}


def _load(case: str, data_dir: Path, crim13_samples: int):
    from sklearn.model_selection import train_test_split

    from sklearn_dpads.datasets import (
        load_calms21,
        make_crim13_like,
        make_planted_sequences,
    )

    if case.startswith("calms21"):
        d = load_calms21(data_dir / "calms21", "investigation")
        Xtr, Xte, ytr, yte = train_test_split(
            d.X, d.y, test_size=0.3, stratify=d.y, random_state=0
        )
        return Xtr, ytr, Xte, yte, {"feature_groups": d.feature_groups}
    if case == "crim13":
        tr = make_crim13_like(n_samples=crim13_samples, random_state=0)
        te = make_crim13_like(n_samples=3000, random_state=1)
        return tr.X, tr.y, te.X, te.y, {"feature_groups": tr.feature_groups}
    if case == "multiclass40":
        d = make_planted_sequences(
            n_samples=440, n_timesteps=100, n_features=6, n_classes=4, random_state=0
        )
        return (
            d.X[:40],
            d.y[:40],
            d.X[40:],
            d.y[40:],
            {"feature_groups": d.feature_groups},
        )
    raise KeyError(case)


class _StepCounter:
    """Timestamps of every torch optimiser step (a global hook, benchmark only)."""

    def __init__(self):
        from torch.optim.optimizer import register_optimizer_step_post_hook

        self.times: list[float] = []
        self.handle = register_optimizer_step_post_hook(
            lambda *a, **k: self.times.append(time.perf_counter())
        )

    def between(self, a: float, b: float) -> int:
        t = np.asarray(self.times)
        return int(((t >= a) & (t <= b)).sum())


def _schedule_trainings():
    """Record (start, end) of every ``train_graph`` call (first ones = schedule)."""
    from sklearn_dpads.training import search_trainer

    calls: list[tuple[float, float]] = []
    original = search_trainer.SkorchSearchTrainer.train_graph

    def timed(self, graph, epochs, seed):
        t = time.perf_counter()
        try:
            return original(self, graph, epochs, seed)
        finally:
            calls.append((t, time.perf_counter()))

    search_trainer.SkorchSearchTrainer.train_graph = timed
    return calls


def _f1(y_true, y_pred) -> float:
    from sklearn_dpads.metrics import frame_f1_score

    return frame_f1_score(y_true, y_pred)


def run_case(case: str, device: str, data_dir: Path, crim13_samples: int) -> dict:
    import torch

    sys.path.insert(0, str(BENCH_DIR))
    from baselines import LSTMClassifier

    from sklearn_dpads import ProgramSynthesisClassifier
    from sklearn_dpads.search import default_schedule

    # the first torch optimiser of a process imports torch._dynamo (about 1 s);
    # pay it here so that it is charged to neither model
    torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))])
    Xtr, ytr, Xte, yte, extra = _load(case, data_dir, crim13_samples)
    params = dict(random_state=0, device=device, **extra)
    if case == "calms21-heavy":
        params.update(HEAVY)
    clf = ProgramSynthesisClassifier(**params)
    counter = _StepCounter()
    calls = _schedule_trainings()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t0 = time.perf_counter()
        clf.fit(Xtr, ytr)
        fit_s = time.perf_counter() - t0
    counter.handle.remove()
    steps = counter.between(t0, t0 + fit_s)
    stages = default_schedule(
        clf.max_depth,
        clf.unfold_step,
        clf.top_n,
        unfold_epochs=clf.search_epochs,
        prune_epochs=clf.prune_epochs,
    )
    trained = [st for st in stages if st.epochs > 0]
    deep = next(k for k, st in enumerate(trained) if st.depth == clf.max_depth)
    a, b = calls[deep]
    deep_steps = counter.between(a, b)
    f1 = _f1(yte, clf.predict(Xte))

    lstm = LSTMClassifier(
        hidden_size=100,
        max_epochs=10 if case == "crim13" else 100,
        patience=5,
        device=device,
        random_state=0,
    )
    t1 = time.perf_counter()
    lstm.fit(Xtr, ytr)
    lstm_s = time.perf_counter() - t1
    out = {
        "case": case,
        "device": device,
        "fit_s": fit_s,
        "steps": steps,
        "steps_per_s": steps / fit_s,
        "deep_stage_steps": deep_steps,
        "deep_stage_steps_per_s": deep_steps / max(b - a, 1e-9),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "f1": f1,
        "program": str(clf),
        "program_size": clf.program_.size,
        "lstm_f1": _f1(yte, lstm.predict(Xte)),
        "lstm_fit_s": lstm_s,
        "ratio_to_lstm": fit_s / lstm_s,
    }
    if device.startswith("cuda"):
        out["peak_cuda_mb"] = torch.cuda.max_memory_allocated() / 2**20
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", nargs="+", choices=list(CASES), default=list(CASES))
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--data-dir", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--crim13-samples", type=int, default=12404)
    ap.add_argument("--out", type=Path, default=None, help="write the rows as JSON")
    ap.add_argument("--run-case", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.run_case:
        row = run_case(args.run_case, args.device, args.data_dir, args.crim13_samples)
        print("RESULT " + json.dumps(row))
        return 0

    print(f"# engine benchmark at commit {git_commit()}, device {args.device}")
    rows = []
    for case in args.cases:
        print(f"## {case}: {CASES[case]}", flush=True)
        cmd = [sys.executable, __file__, "--run-case", case, "--device", args.device]
        cmd += ["--data-dir", str(args.data_dir)]
        cmd += ["--crim13-samples", str(args.crim13_samples)]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
        if proc.returncode != 0 or not lines:
            print(f"   failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
            continue
        row = json.loads(lines[-1][len("RESULT ") :])
        rows.append(row)
        print(
            f"   fit {row['fit_s']:.1f}s, {row['steps']} steps "
            f"({row['steps_per_s']:.1f}/s; deepest stage "
            f"{row['deep_stage_steps_per_s']:.1f}/s), peak {row['peak_rss_mb']:.0f} MB, "
            f"F1 {row['f1']:.3f} (LSTM {row['lstm_f1']:.3f} in "
            f"{row['lstm_fit_s']:.1f}s, ratio {row['ratio_to_lstm']:.1f}x)\n"
            f"   program ({row['program_size']} nodes): {row['program']}",
            flush=True,
        )
    print()
    print(
        "| case | fit s | steps | steps/s | deepest stage steps/s | peak MB | F1 | "
        "LSTM F1 | LSTM s | fit / LSTM |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['case']} | {r['fit_s']:.1f} | {r['steps']} | {r['steps_per_s']:.1f} "
            f"| {r['deep_stage_steps_per_s']:.1f} | {r['peak_rss_mb']:.0f} | "
            f"{r['f1']:.3f} | {r['lstm_f1']:.3f} | {r['lstm_fit_s']:.1f} | "
            f"{r['ratio_to_lstm']:.1f} |"
        )
    if args.out is not None:
        args.out.write_text(
            json.dumps({"commit": git_commit(), "rows": rows}, indent=1)
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
