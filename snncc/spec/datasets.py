"""What the published event data sets are: sensor shapes and class counts, and the input
population size and bin width a data block gives. The spec's checks and the loaders
(snncc.data) both read them from here."""

from __future__ import annotations

from dataclasses import dataclass

from .models import HeidelbergData, TonicData

#: When neither bin_width, duration nor the model's dt is given: SHD's and SSC's longest recordings.
DEFAULT_DURATION_S = 1.4


@dataclass(frozen=True)
class EventSet:
    """A data set's sensor (width, height, polarities: tonic's sensor_size order) and classes."""

    width: int
    height: int
    polarities: int
    classes: int
    splits: tuple[str, ...]


#: By tonic's class name; the HDF5 kinds "shd" and "ssc" are the same recordings.
EVENT_SETS = {
    "SHD": EventSet(700, 1, 1, 20, ("train", "test")),
    "SSC": EventSet(700, 1, 1, 35, ("train", "valid", "test")),
    "NMNIST": EventSet(34, 34, 2, 10, ("train", "test")),
    "DVSGesture": EventSet(128, 128, 2, 11, ("train", "test")),
}


def event_set(data: HeidelbergData | TonicData) -> EventSet:
    return EVENT_SETS[data.dataset if isinstance(data, TonicData) else data.kind.upper()]


def downsampled(data: HeidelbergData | TonicData) -> tuple[int, int, int]:
    """(width, height, polarities) after down-sampling: coordinate c -> c // downsample."""
    s, d = event_set(data), data.downsample
    return -(-s.width // d), -(-s.height // d), s.polarities


def input_size(data: HeidelbergData | TonicData) -> int:
    """Input channels: polarity, y and x flattened, index = (p x height + y) x width + x."""
    width, height, polarities = downsampled(data)
    return width * height * polarities


def bin_width(data: HeidelbergData | TonicData, timesteps: int, dt: float | None) -> float:
    """Seconds per timestep: bin_width, else duration / timesteps, else the model's dt, else
    DEFAULT_DURATION_S / timesteps."""
    if data.bin_width is not None:
        return data.bin_width
    if data.duration is not None:
        return data.duration / timesteps
    return dt if dt is not None else DEFAULT_DURATION_S / timesteps
