"""Data sources and spike encoders, in numpy only.

The generated training program reads data files written from these same sources, so
nothing here depends on torch. A data set is a spike array [N, T,
inputs] of 0/1, held as events (snncc.data.dataset), with integer `labels` [N]; splits and
batch order are pure functions of the seeds in the spec.
"""

from .encode import latency_encode, rate_encode
from .dataset import Dataset
from .sources import (DataError, Split, batch_order, data_memory_problem, load_data, spec_data_problems,
                      split_indices)

__all__ = [
    "DataError", "Dataset", "Split", "batch_order", "data_memory_problem", "latency_encode", "load_data",
    "rate_encode", "spec_data_problems", "split_indices",
]
