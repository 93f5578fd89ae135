"""Optimiser steps per second of one bi-level training of a depth-4 derivation graph.

The graph is the CalMS21 investigation one with a ``fold`` kept (unfolded to
depth 2, pruned to two candidates per edge, unfolded to depth 4), trained on
840 sequences with 560 for the architecture, batch 210, one torch thread::

    python benchmarks/stage_steps.py [--data-dir ../shared/data]

It also prints a checksum of the graph's output, to compare engines.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch
from torch.optim.optimizer import register_optimizer_step_post_hook

from sklearn_dpads.datasets import load_calms21
from sklearn_dpads.grammar.types import parse_type
from sklearn_dpads.graph import DerivationGraph
from sklearn_dpads.library import default_dsl
from sklearn_dpads.preprocessing import SequenceStandardScaler
from sklearn_dpads.training import SequenceDataset
from sklearn_dpads.training.search_trainer import SkorchSearchTrainer, TrainerSettings

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--epochs", type=int, default=3)
    args = ap.parse_args()
    torch.set_num_threads(1)
    steps = [0]
    register_optimizer_step_post_hook(
        lambda *a, **k: steps.__setitem__(0, steps[0] + 1)
    )
    d = load_calms21(args.data_dir / "calms21")
    X, y = d.X[:1400], d.y[:1400]
    frames = X.reshape(-1, X.shape[-1]).astype(np.float64)
    scaler = SequenceStandardScaler(robust=True, clip=5).fit(frames)
    Xs = scaler.transform(frames).reshape(X.shape).astype(np.float32)
    torch.manual_seed(0)
    graph = DerivationGraph(
        default_dsl(18, d.feature_groups), parse_type("list[18] -> atom[1]"), 4
    )
    graph.unfold(2)
    graph.prune(2)
    graph.unfold(4)
    lengths = np.full(len(X), X.shape[1])
    train = SequenceDataset(Xs[:840], lengths[:840], y[:840])
    arch = SequenceDataset(Xs[840:], lengths[840:], y[840:])
    weights = np.array([0.7, 1.9], dtype=np.float32)
    settings = TrainerSettings(n_classes=2, batch_size=210, class_weight=weights)
    trainer = SkorchSearchTrainer(train, arch, settings)
    trainer.train_graph(graph, 1, seed=0)  # warm-up
    steps[0] = 0
    t0 = time.perf_counter()
    trainer.train_graph(graph, args.epochs, seed=1)
    dt = time.perf_counter() - t0
    print(f"{steps[0]} optimiser steps in {dt:.2f} s: {steps[0] / dt:.1f} steps/s")
    with torch.no_grad():
        out = graph(torch.as_tensor(Xs[:210]), torch.as_tensor(lengths[:210]))
    print(f"output checksum {float(out.double().sum()):.6f}")


if __name__ == "__main__":
    main()
