"""Benchmark ProgramSynthesisClassifier against an LSTM and tabular baselines.

Every model is fitted on the same training split and scored on the same test
split within one run.  See ``benchmarks/README.md`` for the data sets and the
commands; ``python benchmarks/run_benchmarks.py --help`` for the options.

Quick smoke test (a couple of minutes on a laptop CPU)::

    python benchmarks/run_benchmarks.py --quick --datasets planted-sequence
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import platform
import resource
import sys
import tempfile
import time
import traceback
import warnings
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import train_test_split

from sklearn_dpads._fit_plan import long_clips
from sklearn_dpads.datasets import CALMS21_FEATURE_GROUPS
from sklearn_dpads.datasets import PLANTED_RULES as SUITE_RULES

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
if str(BENCH_DIR) not in sys.path:
    sys.path.insert(0, str(BENCH_DIR))

from baselines import BASELINES, label_type, make_baseline  # noqa: E402

MODELS = ("ours",) + BASELINES
MODEL_LABELS = {
    "ours": "ProgramSynthesis (ours)",
    "lstm": "LSTM (skorch)",
    "logreg": "LogisticRegression",
    "rf": "RandomForest",
    "hgb": "HistGradientBoosting",
}


#: training windows per class of the few-shot multiclass set: a few dozen in all
FEWSHOT_PER_CLASS = 12

DATASETS = {
    "calms21-investigation": (
        "CalMS21 task 1, 2000 x 13 x 18, sequence label 'investigation' (27% "
        "positive); stratified 70/30 hold-out per seed"
    ),
    "calms21-mount": (
        "CalMS21 task 1, 2000 x 13 x 18, sequence label 'mount' (3% positive); "
        "stratified 70/30 hold-out per seed"
    ),
    "calms21-heldout-investigation": (
        "CalMS21 task 1, label 'investigation': trained on all 2000 windows of "
        "calms21/, measured on the 1500 windows of calms21_heldout/ (other "
        "recordings, 24% positive); the seed seeds the models only"
    ),
    "calms21-heldout-mount": (
        "CalMS21 task 1, label 'mount': trained on all 2000 windows of calms21/ "
        "(3% positive), measured on calms21_heldout/ (other recordings, 11% "
        "positive); the seed seeds the models only"
    ),
    "calms21-heldout-fewshot": (
        "CalMS21 task 1, 3 classes (other, investigation, mount): trained on "
        f"{FEWSHOT_PER_CLASS} windows per class of calms21/ (drawn by the seed), "
        "measured on the 1500 windows of calms21_heldout/ (65% other, 24% "
        "investigation, 11% mount); accuracy is the figure"
    ),
    "near-classification": (
        "neurosym-lib example, per-frame binary threshold task, 500 x 10 x 2 "
        "train / 50 test (given split)"
    ),
    "near-example": (
        "NEAR toy data, per-frame 4 classes, 250 x 20 x 12 train / 50 test "
        "(given split); labels are noise: chance level, smoke test only"
    ),
    "planted-sequence": (
        "make_planted_sequences(1500, 20, 8, label_type='sequence', "
        "rule='threshold'); 70/30 split; data seed = run seed"
    ),
    "planted-frame": (
        "make_planted_sequences(1500, 20, 8, label_type='frame', rule='product'); "
        "70/30 split; data seed = run seed"
    ),
    "crim13-like": (
        "make_crim13_like: 12,404 train + 3,000 test x 100 x 19, per-frame "
        "'close and slow' rule; data seed = run seed (slow, not in the default set)"
    ),
}
# make_planted_suite: one opt-in data set per rule, "planted-<rule>" (not in the
# default set, to keep the default run short)
SUITE_TIMESTEPS = 50
PLANTED_SUITE = {f"planted-{rule}": rule for rule in SUITE_RULES}
DATASETS.update(
    {
        name: (
            f"make_planted_suite({rule!r}, n_samples=1500 (--planted-samples), "
            f"n_timesteps={SUITE_TIMESTEPS}); 70/30 split; data seed = run seed "
            "(opt-in, not in the default set)"
        )
        for name, rule in PLANTED_SUITE.items()
    }
)
DEFAULT_DATASETS = [
    d for d in DATASETS if d != "crim13-like" and d not in PLANTED_SUITE
]
PLANTED_RULES = {"planted-sequence": "threshold", "planted-frame": "product"}

# --quick: smaller search for ours (the full benchmark uses the defaults).
QUICK_OURS = {
    "max_depth": 3,
    "search_epochs": 2,
    "prune_epochs": 1,
    "selection_epochs": 1,
    "program_epochs": 3,
    "finetune_epochs": 10,
    "max_selection_steps": 8,
}
QUICK_SAMPLES = 300


# ------------------------------------------------------------------ data sets
def _stratify(y):
    """Stratification labels for a split, or None (per-frame / tiny classes)."""
    if np.ndim(y) != 1:
        return None
    _, counts = np.unique(y, return_counts=True)
    return y if counts.min() >= 2 else None


def _split(X, y, test_size, seed):
    X_tr, X_te, y_tr, y_te = train_test_split(
        X, y, test_size=test_size, stratify=_stratify(y), random_state=seed
    )
    return X_tr, y_tr, X_te, y_te


def _planted_meta(meta: dict, bunch) -> None:
    """Record a generated data set's named groups and planted rule in ``meta``."""
    meta.update(
        feature_groups=bunch.feature_groups,
        feature_names=bunch.feature_names,
        planted_groups=list(bunch.planted_groups),
        rule=bunch.rule,
    )


def _subsample(X, y, n, seed):
    if len(X) <= n:
        return X, y
    X, _, y, _ = train_test_split(
        X, y, train_size=n, stratify=_stratify(y), random_state=seed
    )
    return X, y


def _calms21_behaviours(folder: Path) -> tuple[np.ndarray, np.ndarray]:
    """CalMS21 windows with one label of three: 0 other, 1 investigation, 2 mount."""
    X = np.load(folder / "X.npy")
    y = np.load(folder / "y_investigation.npy") + 2 * np.load(folder / "y_mount.npy")
    return X, y.astype(np.int64)


def load_dataset(name: str, seed: int, args) -> dict:
    """Train/test arrays and metadata of one data set for one seed."""
    meta = {"feature_groups": None, "feature_names": None, "planted_groups": None}
    meta["rule"] = None
    data_dir = Path(args.data_dir)
    if name == "calms21-heldout-fewshot":
        # a few dozen labelled windows of three behaviours, new recordings
        X_tr, y_tr = _calms21_behaviours(data_dir / "calms21")
        X_te, y_te = _calms21_behaviours(data_dir / "calms21_heldout")
        rng = np.random.default_rng(seed)
        keep = np.concatenate(
            [
                rng.choice(np.flatnonzero(y_tr == c), FEWSHOT_PER_CLASS, replace=False)
                for c in range(3)
            ]
        )
        X_tr, y_tr = X_tr[np.sort(keep)], y_tr[np.sort(keep)]
        meta["feature_groups"] = CALMS21_FEATURE_GROUPS
    elif name.startswith("calms21-heldout"):
        # what a user sees on new videos: windows from recordings not trained on
        target = name.rsplit("-", 1)[1]
        X_tr = np.load(data_dir / "calms21" / "X.npy")
        y_tr = np.load(data_dir / "calms21" / f"y_{target}.npy")
        X_te = np.load(data_dir / "calms21_heldout" / "X.npy")
        y_te = np.load(data_dir / "calms21_heldout" / f"y_{target}.npy")
        if args.quick:
            X_tr, y_tr = _subsample(X_tr, y_tr, QUICK_SAMPLES, seed)
        meta["feature_groups"] = CALMS21_FEATURE_GROUPS
    elif name.startswith("calms21"):
        target = name.split("-", 1)[1]
        X = np.load(data_dir / "calms21" / "X.npy")
        y = np.load(data_dir / "calms21" / f"y_{target}.npy")
        if args.quick:
            X, y = _subsample(X, y, QUICK_SAMPLES, seed)
        X_tr, y_tr, X_te, y_te = _split(X, y, 0.3, seed)
        meta["feature_groups"] = CALMS21_FEATURE_GROUPS
    elif name.startswith("near"):
        sub = {
            "near-classification": "near_classification_example",
            "near-example": "near_example",
        }[name]
        d = data_dir / sub
        X_tr, y_tr = np.load(d / "X_train.npy"), np.load(d / "y_train.npy")
        X_te, y_te = np.load(d / "X_test.npy"), np.load(d / "y_test.npy")
        if args.quick:
            X_tr, y_tr = X_tr[:QUICK_SAMPLES], y_tr[:QUICK_SAMPLES]
    elif name in PLANTED_SUITE:
        from sklearn_dpads.datasets import make_planted_suite

        bunch = make_planted_suite(
            PLANTED_SUITE[name],
            n_samples=QUICK_SAMPLES if args.quick else args.planted_samples,
            n_timesteps=SUITE_TIMESTEPS,
            random_state=seed,
        )
        X_tr, y_tr, X_te, y_te = _split(bunch.X, bunch.y, 0.3, seed)
        _planted_meta(meta, bunch)
    elif name.startswith("planted"):
        from sklearn_dpads.datasets import make_planted_sequences

        rule = args.planted_rule or PLANTED_RULES[name]
        bunch = make_planted_sequences(
            QUICK_SAMPLES if args.quick else args.planted_samples,
            20,
            8,
            label_type="sequence" if name == "planted-sequence" else "frame",
            rule=rule,
            noise=args.planted_noise,
            random_state=seed,
        )
        X_tr, y_tr, X_te, y_te = _split(bunch.X, bunch.y, 0.3, seed)
        _planted_meta(meta, bunch)
    elif name == "crim13-like":
        from sklearn_dpads.datasets import make_crim13_like

        n_train, n_test = (
            (QUICK_SAMPLES, QUICK_SAMPLES // 2)
            if args.quick
            else (args.crim13_train, args.crim13_test)
        )
        bunch = make_crim13_like(n_train + n_test, 100, random_state=seed)
        X_tr, y_tr = bunch.X[:n_train], bunch.y[:n_train]
        X_te, y_te = bunch.X[n_train:], bunch.y[n_train:]
        _planted_meta(meta, bunch)
    else:  # pragma: no cover - argparse restricts the choices
        raise ValueError(f"Unknown data set {name!r}.")
    arrays = {
        "X_train": np.ascontiguousarray(X_tr, dtype=np.float32),
        "y_train": np.asarray(y_tr),
        "X_test": np.ascontiguousarray(X_te, dtype=np.float32),
        "y_test": np.asarray(y_te),
    }
    meta["label_type"] = label_type(arrays["y_train"])
    meta["n_classes"] = int(len(np.unique(arrays["y_train"])))
    meta["shape_train"] = list(arrays["X_train"].shape)
    meta["shape_test"] = list(arrays["X_test"].shape)
    return {"arrays": arrays, "meta": meta}


# --------------------------------------------------------------------- models
def build_model(model: str, seed: int, cfg: dict, meta: dict):
    if model == "ours":
        from sklearn_dpads import ProgramSynthesisClassifier

        params = {"random_state": seed, "device": cfg["device"]}
        if meta["feature_groups"] is not None:
            params["feature_groups"] = meta["feature_groups"]
        if meta["feature_names"] is not None:
            params["feature_names"] = meta["feature_names"]
        params.update(cfg["ours_params"])
        if cfg.get("kernel_windows"):
            from sklearn_dpads.kinds import kernel_window_production

            params["extra_productions"] = [
                kernel_window_production(f"kernel{K}_avg", K)
                for K in cfg["kernel_windows"]
            ]
        if (
            cfg.get("quadratic")
            and meta["feature_groups"] is not None
            and long_clips(meta["label_type"], meta["shape_train"][1])
        ):
            from sklearn_dpads.kinds import quadratic_production

            params["extra_productions"] = params.get("extra_productions", []) + [
                quadratic_production(f"quadratic_{g}", list(idx), g)
                for g, idx in meta["feature_groups"].items()
                if len(idx) >= 2
            ]
        return ProgramSynthesisClassifier(**params)
    return make_baseline(
        model,
        random_state=seed,
        device=cfg["device"],
        lstm_epochs=cfg["lstm_epochs"],
        lstm_hidden=cfg["lstm_hidden"],
        n_trees=cfg["n_trees"],
        hgb_max_iter=cfg["hgb_max_iter"],
        frame_context=cfg["frame_context"],
        max_tabular_rows=cfg["max_tabular_rows"],
        n_jobs=cfg["n_jobs"],
    )


def _planted_found(text: str, groups) -> dict:
    if not groups:
        return {}
    # a leaf over the group names it: affine[g], quadratic[g], filter5[g]
    found = [g for g in groups if f"[{g}](x)" in text]
    return {
        "planted_found": len(found) == len(groups),
        "planted_found_groups": found,
    }


def _maxrss_mb() -> float:
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # kilobytes on Linux, bytes on macOS
    return rss / (1024 * 1024) if sys.platform == "darwin" else rss / 1024


def fit_and_score(model: str, seed: int, arrays: dict, meta: dict, cfg: dict) -> dict:
    """Fit one model, score it on the test split; return a result record."""
    import torch

    if cfg["threads"]:
        torch.set_num_threads(cfg["threads"])
    rec = {"model": model, "seed": seed}
    X_tr, y_tr = arrays["X_train"], arrays["y_train"]
    X_te, y_te = arrays["X_test"], arrays["y_test"]
    cuda = str(cfg["device"]).startswith("cuda") and model in ("ours", "lstm")
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    rec["base_rss_mb"] = _maxrss_mb()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        clf = build_model(model, seed, cfg, meta)
        t0 = time.perf_counter()
        clf.fit(X_tr, y_tr)
        rec["fit_s"] = time.perf_counter() - t0
        rec["fit_rss_mb"] = _maxrss_mb()
        t0 = time.perf_counter()
        pred = np.asarray(clf.predict(X_te))
        rec["predict_s"] = time.perf_counter() - t0
    rec["peak_rss_mb"] = _maxrss_mb()
    if cuda:
        rec["gpu_peak_mb"] = torch.cuda.max_memory_allocated() / 2**20
    msgs = sorted({f"{w.category.__name__}: {str(w.message)[:120]}" for w in caught})
    rec["warnings"] = msgs
    yt, yp = y_te.ravel(), pred.ravel()
    classes = np.unique(y_tr)
    if len(classes) == 2:
        rec["f1"] = float(f1_score(yt, yp, pos_label=classes[1], zero_division=0))
        rec["f1_kind"] = "positive class"
    else:
        rec["f1"] = float(f1_score(yt, yp, average="macro", zero_division=0))
        rec["f1_kind"] = "macro"
    rec["accuracy"] = float(accuracy_score(yt, yp))
    if model == "ours":
        text = clf.program_.pretty(clf.dsl_)
        rec["program"] = text
        rec["program_size"] = int(clf.program_.size)
        rec.update(_planted_found(text, meta["planted_groups"]))
    if hasattr(clf, "n_fit_rows_"):
        rec["n_fit_rows"] = int(clf.n_fit_rows_)
    return rec


def _child_job(model, seed, paths, meta, cfg):
    """Entry point of an isolated (spawned) child: load arrays, fit, score."""
    arrays = {k: np.load(p) for k, p in paths.items()}
    rec = fit_and_score(model, seed, arrays, meta, cfg)
    rec["isolated"] = True
    return rec


def run_model(model, seed, data, cfg, isolate, tmpdir) -> dict:
    try:
        if not isolate:
            rec = fit_and_score(model, seed, data["arrays"], data["meta"], cfg)
            rec["isolated"] = False
            # process-wide peaks are not attributable to one model in-process
            for k in ("base_rss_mb", "fit_rss_mb", "peak_rss_mb"):
                rec.pop(k, None)
            return rec
        paths = data.setdefault("paths", {})
        if not paths:
            for k, v in data["arrays"].items():
                p = Path(tmpdir) / f"{k}.npy"
                np.save(p, v)
                paths[k] = str(p)
        ctx = mp.get_context("spawn")
        with ProcessPoolExecutor(max_workers=1, mp_context=ctx) as ex:
            return ex.submit(_child_job, model, seed, paths, data["meta"], cfg).result()
    except Exception as exc:  # keep going with the other models
        return {
            "model": model,
            "seed": seed,
            "error": f"{type(exc).__name__}: {exc}",
            "traceback": traceback.format_exc(limit=5),
        }


# ------------------------------------------------------------------- reports
def _ms(values, fmt="{:.3f}"):
    v = [x for x in values if x is not None and np.isfinite(x)]
    if not v:
        return "-"
    if len(v) == 1:
        return fmt.format(v[0])
    return f"{fmt.format(np.mean(v))} ± {fmt.format(np.std(v))}"


def _table(header, rows) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header)]
    lines[-1] += "|"
    for r in rows:
        lines.append("| " + " | ".join(str(c).replace("|", "\\|") for c in r) + " |")
    return "\n".join(lines)


def _found_cell(records, groups) -> str:
    """'k/n' seeds with every planted group in the program (+ per group)."""
    n = len(records)
    cell = f"{sum(bool(r.get('planted_found')) for r in records)}/{n}"
    if len(groups) > 1:
        per = ", ".join(
            f"{g} {sum(g in r.get('planted_found_groups', []) for r in records)}/{n}"
            for g in groups
        )
        cell += f" ({per})"
    return cell


def _find(records, model, seed):
    return next((r for r in records if r["model"] == model and r["seed"] == seed), None)


def dataset_report(name: str, records: list[dict], meta: dict) -> str:
    ok = [r for r in records if "error" not in r]
    out = [f"### {name}", "", DATASETS[name] + ".", ""]
    out.append(
        f"train {meta['shape_train']}, test {meta['shape_test']}, "
        f"{meta['label_type']} labels, {meta['n_classes']} classes, "
        f"F1 = {'positive-class' if meta['n_classes'] == 2 else 'macro'} F1"
    )
    if meta.get("rule"):
        out.append(f"planted rule (seed {records[0]['seed']}): {meta['rule']}")
    out.append("")
    mem = any("peak_rss_mb" in r for r in ok)
    header = ["model", "F1", "accuracy", "fit s", "predict s", "program size"]
    if meta.get("planted_groups"):
        header.append("planted found")
    if mem:
        header += ["peak RSS MB", "fit ΔRSS MB"]
    rows = []
    for m in MODELS:
        rs = [r for r in ok if r["model"] == m]
        if not rs:
            continue
        row = [
            MODEL_LABELS[m],
            _ms([r["f1"] for r in rs]),
            _ms([r["accuracy"] for r in rs]),
            _ms([r["fit_s"] for r in rs], "{:.1f}"),
            _ms([r["predict_s"] for r in rs], "{:.2f}"),
            _ms([r.get("program_size") for r in rs], "{:.1f}"),
        ]
        if meta.get("planted_groups"):
            row.append(_found_cell(rs, meta["planted_groups"]) if m == "ours" else "-")
        if mem:
            row += [
                _ms([r.get("peak_rss_mb") for r in rs], "{:.0f}"),
                _ms(
                    [
                        r["fit_rss_mb"] - r["base_rss_mb"]
                        for r in rs
                        if "fit_rss_mb" in r
                    ],
                    "{:.0f}",
                ),
            ]
        rows.append(row)
    out += [_table(header, rows), ""]
    seeds = sorted({r["seed"] for r in records})
    per_seed = []
    for s in seeds:
        ours, lstm = _find(ok, "ours", s), _find(ok, "lstm", s)
        if ours is None and lstm is None:
            continue

        def g(r, k, fmt):
            return fmt.format(r[k]) if r is not None and k in r else "-"

        per_seed.append(
            [
                s,
                g(ours, "f1", "{:.3f}"),
                g(lstm, "f1", "{:.3f}"),
                g(ours, "accuracy", "{:.3f}"),
                g(lstm, "accuracy", "{:.3f}"),
                g(ours, "fit_s", "{:.1f}"),
                g(lstm, "fit_s", "{:.1f}"),
                g(ours, "program_size", "{}"),
                f"`{ours['program']}`" if ours is not None else "-",
            ]
        )
    if per_seed:
        out.append("Per seed, ours vs LSTM:")
        out.append("")
        out.append(
            _table(
                [
                    "seed",
                    "ours F1",
                    "LSTM F1",
                    "ours acc",
                    "LSTM acc",
                    "ours fit s",
                    "LSTM fit s",
                    "size",
                    "program",
                ],
                per_seed,
            )
        )
        out.append("")
    errors = [r for r in records if "error" in r]
    for r in errors:
        out.append(f"**{r['model']} seed {r['seed']} failed**: {r['error']}")
    if errors:
        out.append("")
    return "\n".join(out)


def summary_rows(all_records: dict) -> list[dict]:
    rows = []
    for name, records in all_records.items():
        ok = [r for r in records if "error" not in r]
        for s in sorted({r["seed"] for r in ok}):
            ours, lstm = _find(ok, "ours", s), _find(ok, "lstm", s)
            if ours is None or lstm is None:
                continue
            rows.append(
                {
                    "dataset": name,
                    "seed": s,
                    "ours_f1": ours["f1"],
                    "lstm_f1": lstm["f1"],
                    "delta_f1": ours["f1"] - lstm["f1"],
                    "ours_fit_s": ours["fit_s"],
                    "lstm_fit_s": lstm["fit_s"],
                    "fit_ratio": ours["fit_s"] / max(lstm["fit_s"], 1e-9),
                    "planted_found": ours.get("planted_found"),
                }
            )
    return rows


def summary_report(rows: list[dict]) -> str:
    if not rows:
        return "(no data set has both ours and the LSTM)"
    table = []
    for r in rows:
        found = r["planted_found"]
        found = "-" if found is None else ("yes" if found else "no")
        table.append(
            [
                r["dataset"],
                r["seed"],
                f"{r['ours_f1']:.3f}",
                f"{r['lstm_f1']:.3f}",
                f"{r['delta_f1']:+.3f}",
                f"{r['ours_fit_s']:.1f}",
                f"{r['lstm_fit_s']:.1f}",
                f"{r['fit_ratio']:.2f}x",
                found,
            ]
        )
    for name in dict.fromkeys(r["dataset"] for r in rows):
        rs = [r for r in rows if r["dataset"] == name]
        if len(rs) > 1:
            table.append(
                [
                    f"**{name} mean**",
                    "",
                    f"{np.mean([r['ours_f1'] for r in rs]):.3f}",
                    f"{np.mean([r['lstm_f1'] for r in rs]):.3f}",
                    f"{np.mean([r['delta_f1'] for r in rs]):+.3f}",
                    f"{np.mean([r['ours_fit_s'] for r in rs]):.1f}",
                    f"{np.mean([r['lstm_fit_s'] for r in rs]):.1f}",
                    f"{np.mean([r['fit_ratio'] for r in rs]):.2f}x",
                    "",
                ]
            )
    return _table(
        [
            "dataset",
            "seed",
            "ours F1",
            "LSTM F1",
            "ΔF1 (ours - LSTM)",
            "ours fit s",
            "LSTM fit s",
            "fit time ours / LSTM",
            "planted found",
        ],
        table,
    )


# ----------------------------------------------------------------------- main
def parse_args(argv=None):
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument(
        "--datasets",
        nargs="+",
        choices=list(DATASETS),
        default=DEFAULT_DATASETS,
        metavar="NAME",
        help=f"data sets, from {list(DATASETS)}",
    )
    p.add_argument(
        "--models",
        nargs="+",
        choices=list(MODELS),
        default=list(MODELS),
        metavar="NAME",
        help=f"models, from {list(MODELS)}",
    )
    p.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    p.add_argument(
        "--data-dir",
        default=str(REPO_DIR.parent / "shared" / "data"),
        help="folder with calms21/, near_example/, near_classification_example/",
    )
    p.add_argument(
        "--device", default="cpu", help="torch device for ours and the LSTM (e.g. cuda)"
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help=f"smoke test: {QUICK_SAMPLES} samples, first seed only, "
        "3 LSTM epochs, 50 trees, a smaller search for ours",
    )
    p.add_argument("--out", default=None, help="write all results to this JSON file")
    p.add_argument(
        "--isolate",
        choices=["auto", "yes", "no"],
        default="auto",
        help="fit every model in a spawned child process and report its "
        "peak RSS (auto: only for crim13-like)",
    )
    p.add_argument(
        "--ours-params",
        default="{}",
        help="JSON dict of extra ProgramSynthesisClassifier parameters "
        "(empty: the library defaults)",
    )
    p.add_argument(
        "--kernel-windows",
        nargs="+",
        type=int,
        default=[],
        metavar="K",
        help="add kernel<K>_avg productions (a window with a learned centre and "
        "width over the last K frames) to ours",
    )
    p.add_argument(
        "--quadratic",
        action="store_true",
        help="add a quadratic leaf (quadratic_production) for every feature "
        "group of two or more features to ours on long per-sequence clips too "
        "(the default grammar holds them everywhere else)",
    )
    p.add_argument("--lstm-epochs", type=int, default=40)
    p.add_argument("--lstm-hidden", type=int, default=64)
    p.add_argument("--n-trees", type=int, default=300)
    p.add_argument("--hgb-max-iter", type=int, default=100)
    p.add_argument(
        "--frame-context",
        type=int,
        default=5,
        help="per-frame tabular baselines: average of this many previous "
        "frames appended to each frame (0: the frame only)",
    )
    p.add_argument(
        "--max-tabular-rows",
        type=int,
        default=None,
        help="train the tabular baselines on at most this many rows "
        "(frames); None: all, except 200000 for crim13-like",
    )
    p.add_argument("--n-jobs", type=int, default=None, help="random forest n_jobs")
    p.add_argument("--threads", type=int, default=None, help="torch.set_num_threads")
    p.add_argument("--planted-samples", type=int, default=1500)
    p.add_argument("--planted-noise", type=float, default=0.0)
    p.add_argument(
        "--planted-rule",
        choices=["threshold", "product"],
        default=None,
        help="rule of both planted data sets; None: threshold for "
        "planted-sequence, product for planted-frame",
    )
    p.add_argument("--crim13-train", type=int, default=12404)
    p.add_argument("--crim13-test", type=int, default=3000)
    args = p.parse_args(argv)
    args.ours_params = json.loads(args.ours_params)
    if args.quick:
        args.seeds = args.seeds[:1]
    return args


def model_config(args, dataset: str) -> dict:
    ours = dict(QUICK_OURS) if args.quick else {}
    ours.update(args.ours_params)
    max_rows = args.max_tabular_rows
    if max_rows is None and dataset == "crim13-like":
        max_rows = 200_000
    return {
        "device": args.device,
        "ours_params": ours,
        "kernel_windows": list(args.kernel_windows),
        "quadratic": bool(args.quadratic),
        "lstm_epochs": 3 if args.quick else args.lstm_epochs,
        "lstm_hidden": args.lstm_hidden,
        "n_trees": 50 if args.quick else args.n_trees,
        "hgb_max_iter": 50 if args.quick else args.hgb_max_iter,
        "frame_context": args.frame_context,
        "max_tabular_rows": max_rows,
        "n_jobs": args.n_jobs,
        "threads": args.threads,
    }


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.device.startswith("cuda"):
        import torch

        if not torch.cuda.is_available():
            print(f"--device {args.device}: CUDA is not available", file=sys.stderr)
            return 2
    import sklearn_dpads

    print(
        f"# sklearn-dpads {sklearn_dpads.__version__} benchmark "
        f"(python {platform.python_version()}, device {args.device}"
        f"{', QUICK' if args.quick else ''})\n",
        flush=True,
    )
    all_records: dict[str, list[dict]] = {}
    metas: dict[str, dict] = {}
    configs: dict[str, dict] = {}
    reports = []
    for name in args.datasets:
        cfg = model_config(args, name)
        configs[name] = cfg
        isolate = args.isolate == "yes" or (
            args.isolate == "auto" and name == "crim13-like"
        )
        records = []
        for seed in args.seeds:
            try:
                data = load_dataset(name, seed, args)
            except FileNotFoundError as exc:
                print(f"[{name}] skipped: {exc}", flush=True)
                break
            metas.setdefault(name, data["meta"])
            with tempfile.TemporaryDirectory(prefix="dpads-bench-") as tmpdir:
                for model in args.models:
                    rec = run_model(model, seed, data, cfg, isolate, tmpdir)
                    rec["dataset"] = name
                    records.append(rec)
                    if "error" in rec:
                        msg = f"FAILED {rec['error']}"
                    else:
                        msg = (
                            f"F1 {rec['f1']:.3f} acc {rec['accuracy']:.3f} "
                            f"fit {rec['fit_s']:.1f}s predict {rec['predict_s']:.2f}s"
                        )
                        if "peak_rss_mb" in rec:
                            msg += f" peak RSS {rec['peak_rss_mb']:.0f} MB"
                        if "program" in rec:
                            msg += f" | {rec['program']}"
                    print(f"[{name} seed {seed}] {model}: {msg}", flush=True)
        if records:
            all_records[name] = records
            reports.append(dataset_report(name, records, metas[name]))
    print()
    print("\n".join(reports))
    rows = summary_rows(all_records)
    print("### Summary: ours vs LSTM (same run, same split)\n")
    print(summary_report(rows))
    if args.out:
        payload = {
            "argv": sys.argv[1:] if argv is None else list(argv),
            "quick": args.quick,
            "seeds": args.seeds,
            "device": args.device,
            "versions": _versions(),
            "configs": configs,
            "datasets": {k: {**metas[k], "description": DATASETS[k]} for k in metas},
            "results": [r for rs in all_records.values() for r in rs],
            "summary": rows,
        }
        Path(args.out).write_text(json.dumps(payload, indent=2, default=_jsonable))
        print(f"\nresults written to {args.out}")
    failed = sum("error" in r for rs in all_records.values() for r in rs)
    return 1 if failed else 0


def _versions() -> dict:
    import sklearn
    import skorch
    import torch

    import sklearn_dpads

    return {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scikit-learn": sklearn.__version__,
        "torch": torch.__version__,
        "skorch": skorch.__version__,
        "sklearn-dpads": sklearn_dpads.__version__,
    }


def _jsonable(o):
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    return str(o)


if __name__ == "__main__":
    sys.exit(main())
