"""The run of a :class:`~sklearn_dpads._fit_plan.FitPlan`.

``run_plan`` searches a program, folds its redundant leaves, fine-tunes it
(:func:`~sklearn_dpads.training.finetune.tune`), moves from it by the local
search (:func:`~sklearn_dpads.search.grow_program`, ``plan.grow_steps``),
sets the decision threshold on the held-out split and refits the program on
all the data (:func:`~sklearn_dpads.training.finetune.refit`).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.metrics import average_precision_score

from sklearn_dpads._fit_plan import FitPlan
from sklearn_dpads._threshold import tune_logit_offset
from sklearn_dpads.search.driver import run_search
from sklearn_dpads.search.edits import neighbours
from sklearn_dpads.search.grow import GrowCandidate, grow_program
from sklearn_dpads.search.schedule import SearchClock
from sklearn_dpads.semantics.canonical import canonicalize
from sklearn_dpads.semantics.compile import compile_program
from sklearn_dpads.training.candidates import CandidateTrainer
from sklearn_dpads.training.data import SequenceDataset
from sklearn_dpads.training.finetune import Tuned, refit, tune
from sklearn_dpads.training.nets import valid_binary_logits
from sklearn_dpads.training.search_trainer import SkorchSearchTrainer
from sklearn_dpads.utils._torch import seeded_torch

__all__ = ["FitOutcome", "run_plan"]


@dataclass(frozen=True)
class FitOutcome:
    """What :func:`run_plan` found.

    Parameters
    ----------
    program : Program
        The chosen program.
    module : ProgramModule
        It, trained (float64, CPU, eval mode).
    score : float
        Its validation score in the search.
    logit_offset : float
        The binary decision threshold as a logit offset.
    timed_out : bool
        Whether ``max_time`` cut the search or the fine-tune short.
    finetune_score : float
        Binary programs: the average precision, on the held-out split, of the
        fine-tuned program before its refit (a model not trained on that
        split); NaN for multiclass programs.
    """

    program: Any
    module: Any
    score: float
    logit_offset: float
    timed_out: bool
    finetune_score: float = float("nan")


def run_plan(
    plan: FitPlan, data: SequenceDataset, reporter=None, program=None
) -> FitOutcome:
    """Search a program, fine-tune it, set the threshold, refit it on all the data.

    Parameters
    ----------
    plan : FitPlan
        The plan.
    data : SequenceDataset
        All the training data, scaled.
    reporter : SearchReporter, default=None
        Receives every :class:`~sklearn_dpads.search.SearchRecord`, and is
        told the fit's phases as they start and end (it estimates the time
        left from them).
    program : Program, optional
        A program of ``plan.dsl`` to train instead of searching one: it is
        trained as the search trains each of its candidates (the trainer's
        ``program_epochs`` on the search splits, scored on the architecture
        split), then fine-tuned, grown (``plan.grow_steps``), thresholded
        and refitted like a found one. Used to compare the search with the
        programs its grammar holds (``benchmarks/regret.py``, with
        ``grow_steps=0``).

    Returns
    -------
    FitOutcome
        The program and its trained module.
    """
    fit_clock = SearchClock(plan.total_time)
    search_clock = SearchClock(plan.search_time)
    if reporter is not None:
        reporter.plan(
            [st.epochs for st in plan.search.stages()],
            program_epochs=plan.trainer.program_epochs,
            finetune_epochs=plan.finetune_epochs,
            finetune_patience=plan.finetune_patience,
            n_search=len(plan.search_train),
            n_train=len(plan.idx_train),
            n_total=len(data),
        )
    with seeded_torch(plan.seed, plan.search.device):
        trainer = SkorchSearchTrainer(
            data.subset(plan.search_train),
            data.subset(plan.search_arch),
            plan.trainer,
            clock=search_clock,
        )
        if program is None:
            result = run_search(
                plan.dsl if plan.search_dsl is None else plan.search_dsl,
                plan.hole,
                trainer,
                plan.search,
                seeds=plan.search_seeds,
                clock=search_clock,
                record=reporter,
            )
            found, score, timed_out = result.module, result.score, result.timed_out
        else:
            found = compile_program(program, plan.dsl, plan.hole)
            found, score, _ = trainer.fit_program(
                found.to(plan.search.device),
                trainer.train,
                trainer.arch,
                plan.trainer.program_epochs,
                seed=plan.seed,
            )
            timed_out = False
        # redundant leaves are folded before anything else sees the program
        module = canonicalize(found)
        if reporter is not None:
            reporter.search_done(module.program, score)
            reporter.finetune_start()
        held = data.subset(plan.idx_arch)
        offset = plan.logit_offset
        held_ap = float("nan")

        train = data.subset(plan.idx_train)

        def finetune(start):
            return tune(
                start,
                train,
                held,
                plan.trainer,
                max_epochs=plan.finetune_epochs,
                patience=plan.finetune_patience,
                batch_size=plan.finetune_batch_size,
                seed=plan.finetune_seed,
                clock=fit_clock,
            )

        tuned = finetune(module)
        grow = plan.grow_steps > 0 and plan.finetune_epochs > 0
        if reporter is not None and plan.finetune_epochs > 0:
            reporter.finetune_done(tuned.epochs, grow=grow)
        if grow:
            gtrain, gheld = train, held
            if plan.grow_train is not None:  # large data: a subsample of it
                gtrain = data.subset(plan.grow_train)
                gheld = data.subset(plan.grow_arch)
            screen = None
            if plan.screen_train is not None:  # large data: screened on less
                screen = data.subset(plan.screen_train)
            before = tuned.module.program
            tuned = _grow(plan, gtrain, gheld, tuned, reporter, fit_clock, screen)
            if gtrain is not train and tuned.module.program != before:
                # the program moved to was trained on the subsample
                tuned = finetune(copy.deepcopy(tuned.module))
            if reporter is not None:
                reporter.grow_done(tuned.module.program, tuned.score)
        if plan.n_classes == 2:
            # the threshold is tuned on predictions of a model not trained on
            # the held-out split
            z, y = valid_binary_logits(tuned.module, held)
            held_ap = _average_precision(y, z)
            if plan.threshold == "tune":
                offset = tune_logit_offset(z, y)
        module = refit(
            tuned,
            data,
            plan.trainer,
            batch_size=plan.finetune_batch_size,
            seed=plan.finetune_seed,
            clock=fit_clock,
        )
    module = copy.deepcopy(module).to("cpu").double().eval()
    return FitOutcome(
        module.program,
        module,
        score,
        float(offset),
        timed_out or fit_clock.out(),
        held_ap,
    )


def _grow(
    plan: FitPlan, train, held, tuned: Tuned, reporter, clock, screen=None
) -> Tuned:
    """The local search from the fine-tuned program; the program it ends on, tuned.

    ``screen``: the data the neighbours are screened on (None: ``train``).
    """
    candidates = CandidateTrainer(
        plan.dsl,
        plan.hole,
        train,
        held,
        plan.trainer,
        finetune_epochs=plan.finetune_epochs,
        patience=plan.finetune_patience,
        batch_size=plan.finetune_batch_size,
        device=plan.search.device,
        clock=clock,
        random_state=plan.finetune_seed,
        screen_train=screen,
    )
    program = tuned.module.program
    # a neighbour that keeps the current program's trained parts (a swap, a
    # branch) starts from them, and is screened for half the program epochs;
    # a prune starts afresh
    warm_epochs = -(-plan.trainer.program_epochs // 2)
    best = grow_program(
        GrowCandidate(program, tuned.score, candidates.cost(program), tuned),
        neighbours=lambda p: neighbours(
            p, plan.dsl, plan.hole, plan.search.max_depth, reshape=plan.reshape
        ),
        train=lambda ps, ss, parent: candidates.screen(
            ps, ss, parent, warm_epochs=warm_epochs
        ),
        resume=candidates.resume,
        margin=candidates.margin,
        cost=candidates.cost,
        seeds=lambda k: plan.search_seeds.seed(3, k),
        penalty=plan.search.penalty,
        max_steps=plan.grow_steps,
        record=reporter,
        clock=clock,
        reads=candidates.reads,
        # the relabels of the reshaping edits are swaps a growth may need
        swap_step=plan.reshape,
    )
    return best.trained


def _average_precision(y, z) -> float:
    """Average precision of logits ``z`` for labels ``y`` (NaN without positives)."""
    if not np.any(y == 1):
        return float("nan")
    return float(average_precision_score(y, z))
