"""Regret of the search: its program against every program of a small family.

Every program of a small family (depth at most 3 over a reduced production
set, list-level ``ite`` included) is trained through the same fit as the
program a search returns (the search's candidate training, then the
fine-tune, the held-out threshold and the refit: ``_fit_run.run_plan`` with
``program=``), with the same budgets. Trained on all of
``../shared/data/calms21`` and measured on ``calms21_heldout`` (windows from
other recordings). For each seed the script reports:

* the search over the family's own grammar (``max_depth=3``), and the
  default search (whose grammar holds the same kernel window): held-out F1,
  the program, the fit time (both end with the local search, ``grow_steps``);
* the enumerated programs, each trained as given (``grow_steps=0``);
* the enumerated program the search's own criterion prefers (validation
  average precision minus ``penalty`` times the canonical cost) and its
  held-out F1: what a perfect search would return;
* the best enumerated program on the held-out windows (an oracle, for
  scale) and the enumeration's cost.

Usage::

    python benchmarks/regret.py --target investigation --seeds 0 1 2
    python benchmarks/regret.py --max-programs 20 --seeds 0   # a quick look
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch
from scipy.stats import spearmanr
from sklearn.base import clone
from sklearn.metrics import f1_score

from sklearn_dpads import ProgramSynthesisClassifier
from sklearn_dpads._fit_plan import make_plan
from sklearn_dpads._fit_run import run_plan
from sklearn_dpads.grammar import DSL
from sklearn_dpads.grammar.canonical import canonical_cost
from sklearn_dpads.grammar.types import parse_type
from sklearn_dpads.kinds import kernel_window_production
from sklearn_dpads.library import default_dsl
from sklearn_dpads.preprocessing import real_frames, scale_padded
from sklearn_dpads.program import Program
from sklearn_dpads.training.data import SequenceDataset
from sklearn_dpads.training.nets import predict_logits
from sklearn_dpads.utils._torch import torch_threads
from sklearn_dpads.utils.validation import check_X, check_X_y

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run_benchmarks import CALMS21_FEATURE_GROUPS  # noqa: E402

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
#: The family: a kernel window, if-then-else and products over four leaves.
FAMILY = (
    "kernel13_avg",
    "ite",
    "multiply",
    "affine",
    "affine_min_res_nose_dist",
    "affine_facing_angle",
    "affine_overlap_bboxes",
)


def enumerate_programs(dsl: DSL, hole, depth: int, allowed) -> list[Program]:
    """Every program of ``hole``'s type up to ``depth`` over the ``allowed`` names."""
    out = []
    for prod in dsl.productions:
        if prod.name not in allowed:
            continue
        types = prod.child_types(hole, dsl.n_features)
        if types is None:
            continue
        if not types:
            out.append(Program(prod.name, ()))
        elif depth > 1:
            kids = [enumerate_programs(dsl, t, depth - 1, allowed) for t in types]
            out += [Program(prod.name, combo) for combo in itertools.product(*kids)]
    return out


def _top_programs(history: list, k: int, chosen: Program) -> list[Program]:
    """The search's choice and its best other distinct complete programs, ``k`` in all.

    The choice comes first (it may come from refinement or canonicalisation
    and then has no row of its own); the others by the search's objective.
    """
    rows = [r for r in history if r.get("complete") and r.get("program") is not None]
    distinct: dict = {str(chosen): chosen}
    for r in sorted(rows, key=lambda r: -r["objective"]):
        distinct.setdefault(str(r["program"]), r["program"])
    return list(distinct.values())[:k]


def _heldout_f1(module, offset, scaler, est, X, y) -> float:
    x, lengths, _ = check_X(est, X, reset=False)
    ds = SequenceDataset(scale_padded(scaler, x, lengths), lengths)
    z = predict_logits(module, ds).numpy().reshape(-1)
    return float(f1_score(y, (z + offset > 0).astype(int)))


def train_given(est, X, y, program, X_te, y_te) -> dict:
    """``program`` trained through the fit path of a found one; its scores."""
    t0 = time.perf_counter()
    # the program as given: no local search around it
    est = clone(est).set_params(grow_steps=0)
    x, lengths, labels = check_X_y(est, X, y, reset=True)
    classes, y_enc = labels.encode()
    plan = make_plan(est, x, lengths, classes, y_enc, labels.label_type, "cpu")
    scaler = clone(plan.scaler).fit(real_frames(x, lengths).astype(np.float64))
    data = SequenceDataset(scale_padded(scaler, x, lengths), lengths, y_enc)
    with torch_threads(1):
        found = run_plan(plan, data, None, program=program)
    cost = canonical_cost(found.program, plan.dsl)
    return {
        "program": found.program.pretty(plan.dsl),
        "score": found.score,
        "objective": found.score - est.penalty * cost,
        # the same criterion on the fine-tuned program, before its refit
        "finetuned_objective": found.finetune_score - est.penalty * cost,
        "f1": _heldout_f1(found.module, found.logit_offset, scaler, est, X_te, y_te),
        "seconds": time.perf_counter() - t0,
    }


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument(
        "--target", choices=["investigation", "mount"], default="investigation"
    )
    p.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    p.add_argument("--data-dir", default=str(DATA))
    p.add_argument("--max-programs", type=int, default=None)
    p.add_argument("--out", default=None)
    p.add_argument(
        "--rerank", type=int, default=6, help="re-rank the searches' top K programs"
    )
    p.add_argument(
        "--no-enumeration", action="store_true", help="run the searches only"
    )
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    d = Path(args.data_dir)
    X = np.load(d / "calms21" / "X.npy")
    y = np.load(d / "calms21" / f"y_{args.target}.npy")
    X_te = np.load(d / "calms21_heldout" / "X.npy")
    y_te = np.load(d / "calms21_heldout" / f"y_{args.target}.npy")
    kernel = kernel_window_production("kernel13_avg", 13)
    full = default_dsl(X.shape[2], CALMS21_FEATURE_GROUPS, extra_productions=[kernel])
    family = DSL([full[n] for n in FAMILY], full.n_features)
    hole = parse_type(f"list[{X.shape[2]}] -> atom[1]")
    programs = enumerate_programs(family, hole, 3, set(FAMILY))
    if args.max_programs is not None:
        rng = np.random.default_rng(0)
        keep = rng.choice(len(programs), args.max_programs, replace=False)
        programs = [programs[i] for i in sorted(keep)]
    print(f"# regret on calms21 {args.target}: {len(programs)} programs of the family")
    results = []
    for seed in args.seeds:
        row = {"seed": seed}
        for name, params in (
            ("family search", {"dsl": family, "max_depth": 3}),
            ("default search + kernel13", {"extra_productions": [kernel]}),
        ):
            est = ProgramSynthesisClassifier(
                feature_groups=CALMS21_FEATURE_GROUPS, random_state=seed, n_threads=1
            ).set_params(**params)
            t0 = time.perf_counter()
            est.fit(X, y)
            f1 = float(f1_score(y_te, est.predict(X_te)))
            row[name] = {
                "program": str(est),
                "f1": f1,
                "seconds": time.perf_counter() - t0,
            }
            print(
                f"[seed {seed}] {name}: F1 {f1:.3f} in {row[name]['seconds']:.1f}s | {est}"
            )
            # its best distinct complete programs, ranked after the fine-tune
            t0 = time.perf_counter()
            top = _top_programs(est.search_history_, args.rerank, est.program_)
            reranked = [train_given(est, X, y, prog, X_te, y_te) for prog in top]
            best = max(reranked, key=lambda r: r["finetuned_objective"])
            row[name]["reranked"] = {**best, "seconds": time.perf_counter() - t0}
            print(
                f"[seed {seed}] {name}, its top {len(top)} re-ranked after the "
                f"fine-tune: F1 {best['f1']:.3f} "
                f"(+{row[name]['reranked']['seconds']:.1f}s) | {best['program']}"
            )
        if args.no_enumeration:
            results.append(row)
            continue
        est = ProgramSynthesisClassifier(
            dsl=family, max_depth=3, random_state=seed, n_threads=1
        )
        t0 = time.perf_counter()
        runs = [train_given(est, X, y, prog, X_te, y_te) for prog in programs]
        row["enumeration_seconds"] = time.perf_counter() - t0
        chosen = max(runs, key=lambda r: r["objective"])
        oracle = max(runs, key=lambda r: r["f1"])
        row["enumerated_choice"], row["enumerated_oracle"] = chosen, oracle
        row["enumerated"] = runs
        # does the search's criterion rank programs as the new recordings do?
        row["rank_correlation"] = float(
            spearmanr([r["objective"] for r in runs], [r["f1"] for r in runs])[0]
        )
        finetuned = max(runs, key=lambda r: r["finetuned_objective"])
        row["finetuned_choice"] = finetuned
        row["finetuned_rank_correlation"] = float(
            spearmanr(
                [r["finetuned_objective"] for r in runs], [r["f1"] for r in runs]
            )[0]
        )
        print(
            f"[seed {seed}] enumeration of {len(runs)} programs in "
            f"{row['enumeration_seconds']:.0f}s: its criterion chooses "
            f"{chosen['program']} (F1 {chosen['f1']:.3f}); best on held-out "
            f"{oracle['program']} (F1 {oracle['f1']:.3f}); Spearman rank "
            f"correlation of criterion and held-out F1 {row['rank_correlation']:.2f}; "
            f"ranked after the fine-tune: {finetuned['program']} (F1 "
            f"{finetuned['f1']:.3f}), correlation "
            f"{row['finetuned_rank_correlation']:.2f}"
        )
        results.append(row)
    print()
    print("| seed | family search F1 | re-ranked | default+kernel F1 | re-ranked |")
    print("|---|---|---|---|---|")
    for r in results:
        fs, ds = r["family search"], r["default search + kernel13"]
        print(
            f"| {r['seed']} | {fs['f1']:.3f} | {fs['reranked']['f1']:.3f} | "
            f"{ds['f1']:.3f} | {ds['reranked']['f1']:.3f} |"
        )
    if args.no_enumeration:
        if args.out:
            Path(args.out).write_text(json.dumps(results, indent=2, default=str))
        return 0
    print()
    print(
        "| seed | family search F1 | default+kernel F1 | enumerated choice F1 | "
        "regret (choice - family search) | oracle F1 | rank correlation | "
        "choice after fine-tune F1 | its rank correlation | search s | "
        "enumeration s |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        fs, ds = r["family search"], r["default search + kernel13"]
        ch, orc = r["enumerated_choice"], r["enumerated_oracle"]
        print(
            f"| {r['seed']} | {fs['f1']:.3f} | {ds['f1']:.3f} | {ch['f1']:.3f} | "
            f"{ch['f1'] - fs['f1']:+.3f} | {orc['f1']:.3f} | "
            f"{r['rank_correlation']:.2f} | {r['finetuned_choice']['f1']:.3f} | "
            f"{r['finetuned_rank_correlation']:.2f} | {fs['seconds']:.0f} | "
            f"{r['enumeration_seconds']:.0f} |"
        )
    if args.out:
        Path(args.out).write_text(json.dumps(results, indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
