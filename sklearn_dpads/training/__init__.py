"""skorch-based training of programs and derivation graphs."""

from sklearn_dpads.training.callbacks import f1_from_logits
from sklearn_dpads.training.data import BatchIterator, SequenceDataset
from sklearn_dpads.training.losses import ProgramLoss
from sklearn_dpads.training.nets import BilevelNet, ProgramNet, predict_logits
from sklearn_dpads.training.search_trainer import SkorchSearchTrainer

__all__ = [
    "BatchIterator",
    "SequenceDataset",
    "ProgramLoss",
    "ProgramNet",
    "BilevelNet",
    "f1_from_logits",
    "predict_logits",
    "SkorchSearchTrainer",
]
