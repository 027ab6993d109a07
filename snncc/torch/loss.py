"""Losses on the decoded readout, per sample (the caller reduces, so that data-parallel
replicas can weight their share of a batch exactly)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..spec import models as m
from .network import ForwardResult


def per_sample_loss(loss: m.Loss, result: ForwardResult, labels: torch.Tensor, readout_id: str) -> torch.Tensor:
    """Loss of each sample [B].

    cross_entropy: -log softmax(scores)[label].
    mse_count (snnTorch mse_count_loss): the readout's spike counts against targets
    int(T x correct_rate) for the label's neuron and int(T x incorrect_rate) for the
    others (snnTorch truncates with int()); the mean over the readout neurons, divided by T
    as snnTorch does. Its batch mean equals snnTorch's loss.
    """
    if loss.kind == "cross_entropy":
        return F.cross_entropy(result.scores, labels, reduction="none")
    spikes = result.spikes[readout_id]
    steps = spikes.shape[0]
    counts = spikes.sum(dim=0)
    on, off = int(steps * loss.correct_rate), int(steps * loss.incorrect_rate)
    target = torch.full_like(counts, float(off))
    target.scatter_(1, labels[:, None], float(on))
    return ((counts - target) ** 2).mean(dim=1) / steps


def correct(scores: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Number of samples whose highest score (the first on ties) is their label."""
    return (scores.argmax(dim=1) == labels).sum()
