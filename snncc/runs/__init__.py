"""Backend-neutral run directories: metrics.jsonl, atomic checkpoints, resume, progress, plots.

A run directory holds
  metrics.jsonl    one JSON object per finished epoch, appended;
  checkpoint.bin   the last finished epoch's state, written atomically (opaque bytes
                   from the backend; the torch backend stores torch.save output);
  checkpoint.json  which epoch checkpoint.bin holds, written after it;
  loss.png, accuracy.png, raster.png   plots;
  program/, work/  the host backend's generated program and its working files.
Nothing here knows about torch models, so every backend can share it.
"""

from .progress import progress
from .rundir import NonFiniteError, RunDir, check_finite
from .summary import TrainOptions, TrainSummary

__all__ = ["NonFiniteError", "RunDir", "TrainOptions", "TrainSummary", "check_finite", "progress"]
