"""tonic's event data sets already on disk (N-MNIST, DVS Gesture, SHD, SSC), binned with
tonic's own transforms.

`tonic.datasets.<NAME>(save_to=path, ...)` reads `path/<NAME>/...`; this module opens the
same files through tonic and never downloads anything: it checks the files first
(tonic_missing) and opens tonic's class through a subclass of the same name (tonic names the
folder after the class) whose `_check_exists` is true and whose `download` raises. tonic's
own check would not do: it only looks for the downloaded archive (no md5) and a minimum
number of extracted files (10,000 .bin for N-MNIST, 100 .npy for DVS Gesture), and
downloads when either is short; snncc needs the extracted files only.

Each sample's events go through `tonic.transforms.Downsample` (spatial factor 1/downsample,
on x and y; SHD's and SSC's channel is the field "x") and `tonic.transforms.ToFrame` with
the bin width as its time window (tonic's times are microseconds in all four: N-MNIST's
files hold them, DVS Gesture's hold milliseconds that tonic multiplies by 1000, SHD's
seconds that tonic multiplies by 1e6 and truncates to integers). ToFrame would start the
first bin at the sample's first event; it is given start_time 0 and end_time T x bin width,
so timestep t covers [t w, (t + 1) w) of the recording as the spec says. Frames are
[bins, polarities, height, width] (without a y field, [bins, polarities, width]), so a
frame flattened row-major is the spec's channel index (p x height + y) x width + x; a
nonzero count is one spike, bins past T are dropped. Samples are binned a chunk at a time
into events (snncc.data.dataset), never into a dense [N, T, channels] array.
"""

from __future__ import annotations

import functools
import os
import stat
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..machine import memory_problem
from ..spec import models as m
from ..spec.datasets import bin_width, downsampled, event_set, input_size
from .dataset import Dataset, concat, event_keys
from .sources import DataError, Split

#: Samples binned at a time: bounds the memory of the keys in flight.
CHUNK = 256
#: tonic's time unit in seconds, per class (see the module's docstring).
TIME_UNIT_S = {"SHD": 1e-6, "SSC": 1e-6, "NMNIST": 1e-6, "DVSGesture": 1e-6}
INSTALL = "pip install 'snncc[tonic]' or pip install tonic"


@dataclass(frozen=True)
class _Layout:
    """Where tonic 1.x reads one split under save_to/<class name>: the extracted folder and the
    data files' suffix (folder None: the suffix is the file's name), the archive tonic
    downloads, and where else to get the files."""

    folder: str | None
    suffix: str
    archive: str
    elsewhere: str


def _layouts(dataset: str, split: str) -> _Layout:
    if dataset == "NMNIST":  # Train/<digit>/<id>.bin, from train.zip
        folder = "Train" if split == "train" else "Test"
        return _Layout(folder, ".bin", f"{split}.zip", f"or from https://www.garrickorchard.com/datasets/n-mnist "
                       f"({folder}.zip, extracted here)")
    if dataset == "DVSGesture":  # ibmGestureTrain/user<NN>_<lighting>/<label>.npy
        name = "ibmGestureTrain" if split == "train" else "ibmGestureTest"
        return _Layout(name, ".npy", f"{name}.tar.gz", "(tonic's own preprocessed .npy version of "
                       "https://research.ibm.com/dvsgesture/, whose original .aedat files tonic does not read)")
    # SHD, SSC: the uncompressed shd_train.h5, from shd_train.h5.zip
    name = f"{dataset.lower()}_{split}.h5"
    return _Layout(None, name, f"{name}.zip", f"or from https://zenkelab.org/resources/spiking-heidelberg-datasets-shd/ "
                   f"({name}.gz, gunzipped here)")


def _splits(data: m.TonicData) -> dict[str, str]:
    """{"train": "train", "test": the split evaluated}."""
    if data.test_split not in event_set(data).splits:
        raise DataError(f"data: {data.dataset} has no '{data.test_split}' split "
                        f"(it has {', '.join(event_set(data).splits)})")
    return {"train": "train", "test": data.test_split}


def _save_to(data: m.TonicData, base_dir: Path) -> Path:
    # absolute: tonic expands a leading "~" itself, which would read somewhere else than checked here
    return (Path(base_dir) / data.path).absolute()


def _constructor_call(data: m.TonicData, save_to: Path, split: str) -> str:
    arg = f"split='{split}'" if data.dataset == "SSC" else f"train={split == 'train'}"
    return f"python -c \"import tonic; tonic.datasets.{data.dataset}(save_to='{save_to}', {arg})\""


def _regular(path: Path) -> bool:
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except (OSError, ValueError):
        return False


def _has_file(folder: Path, suffix: str) -> bool:
    """Whether a regular file ending in suffix lies anywhere under folder (stops at the first)."""
    for path, _dirs, files in os.walk(folder):
        if any(f.endswith(suffix) and _regular(Path(path, f)) for f in files):
            return True
    return False


def tonic_missing(data: m.TonicData, base_dir: Path) -> str | None:
    """One line: what of the data set is missing, where tonic expects it and how to download
    it; None when the files of the train split and the evaluated split are there."""
    save_to = _save_to(data, base_dir)
    root = save_to / data.dataset
    # an unknown test_split is the spec checks' to report (snncc.spec.semantic), not a missing file
    splits = [split for split in ("train", data.test_split) if split in event_set(data).splits]
    for split in splits:
        lay = _layouts(data.dataset, split)
        how = f"download it with {_constructor_call(data, save_to, split)} {lay.elsewhere}"
        if lay.folder is None:
            path = root / lay.suffix
            if _regular(path):
                continue
            archive = root / lay.archive
            if _regular(archive):
                return f"data: no {path}, but {archive.name} is there: unzip it in {root}"
            what = "not a regular file" if path.exists() else "no such file"
            return f"data: {what}: {path} ({data.dataset} {split} split, as tonic lays it out): {how}"
        folder = root / lay.folder
        if folder.is_dir() and _has_file(folder, lay.suffix):
            continue
        archive = root / lay.archive
        if _regular(archive):
            return (f"data: no {lay.suffix} files in {folder}, but {archive.name} is there: extract it in {root}")
        what = "no such directory" if not folder.exists() else f"no {lay.suffix} files in"
        return f"data: {what}: {folder} ({data.dataset} {split} split, as tonic lays it out): {how}"
    return None


def _import_tonic():
    try:
        import tonic  # noqa: F401
        import tonic.datasets
        import tonic.transforms
    except ImportError as exc:
        raise DataError(f"data: the tonic data sets need the tonic package ({exc}): {INSTALL}") from None
    return tonic


def _no_download(self) -> None:
    raise DataError(f"data: tonic wanted to download {self.__class__.__name__} into {self.location_on_system}; "
                    "snncc never downloads")


@functools.lru_cache(maxsize=None)
def _reader(cls: type) -> type:
    """tonic's class with its download disabled: the same name (tonic reads save_to/<class
    name>), files taken as present (snncc checked them), and download() raising."""
    return type(cls.__name__, (cls,), {"_check_exists": lambda self: True, "download": _no_download,
                                       "__module__": __name__, "__doc__": cls.__doc__})


def spatial_factor(downsample: int) -> float:
    """The factor tonic's Downsample multiplies x and y with (and truncates): the double just
    above 1/downsample, so that c x factor truncates to c // downsample for every coordinate
    below 2^40 (1/d rounded to nearest makes e.g. 49 x (1/49) = 0.999..., truncated to 0)."""
    return float(np.nextafter(1.0 / downsample, np.inf))


def _sensor(tonic, data: m.TonicData) -> tuple[int, int, int]:
    """The sensor (width, height, polarities) after tonic's Downsample, from its class's
    sensor_size and the largest coordinates; must be the spec's (snncc.spec.datasets)."""
    cls = getattr(tonic.datasets, data.dataset)
    width, height, polarities = (int(s) for s in cls.sensor_size)
    size = (width, height, polarities)
    if data.downsample > 1:
        probe = np.zeros(1, dtype=cls.dtype)
        probe["x"] = width - 1
        if "y" in cls.dtype.names:
            probe["y"] = height - 1
        out = tonic.transforms.Downsample(spatial_factor=spatial_factor(data.downsample))(probe)
        size = (int(out["x"][0]) + 1, int(out["y"][0]) + 1 if "y" in cls.dtype.names else height, polarities)
    expected = downsampled(data)
    if size != expected:
        raise DataError(f"data: tonic's {data.dataset} sensor {tuple(cls.sensor_size)} down-sampled by "
                        f"{data.downsample} is {size} (width, height, polarities), {int(np.prod(size))} channels, "
                        f"but snncc's input size is {expected}, {input_size(data)} channels")
    return size


def _open(tonic, data: m.TonicData, save_to: Path, split: str):
    cls = _reader(getattr(tonic.datasets, data.dataset))
    try:
        if data.dataset == "SSC":
            return cls(save_to=str(save_to), split=split)
        return cls(save_to=str(save_to), train=split == "train")
    except (OSError, KeyError, ValueError, IndexError) as exc:
        raise DataError(f"data: tonic cannot read the {data.dataset} {split} split in {save_to / data.dataset}: "
                        f"{type(exc).__name__}: {exc}") from None


def _sample_order(ds) -> list[int]:
    """Samples in the order of their files' paths where tonic reads one file per sample (tonic
    walks DVS Gesture's folders in the file system's order), else tonic's order."""
    paths = getattr(ds, "data", None)
    n = len(ds)
    if isinstance(paths, list) and len(paths) == n and all(isinstance(p, str) for p in paths):
        return sorted(range(n), key=paths.__getitem__)
    return list(range(n))


def _where(ds, index: int) -> str:
    paths = getattr(ds, "data", None)
    if isinstance(paths, list) and index < len(paths) and isinstance(paths[index], str):
        return paths[index]
    return f"{Path(ds.location_on_system) / getattr(ds, 'data_filename', '')} sample {index}"


def _bin_sample(tonic, events: np.ndarray, tonic_sensor: tuple[int, int, int], sensor: tuple[int, int, int],
                downsample: int, timesteps: int, window: float, where: str) -> tuple[np.ndarray, np.ndarray]:
    """(timestep, channel) of one sample's spikes, through tonic's Downsample and ToFrame;
    tonic_sensor is the class's sensor_size, sensor the down-sampled one."""
    if len(events) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    raw = tuple(int(v) for v in tonic_sensor)
    # the recorded coordinates, before Downsample (which would truncate -1 / d to 0)
    for field, limit in (("x", raw[0]), ("y", raw[1]), ("p", raw[2])):
        if field not in events.dtype.names or (field == "p" and raw[2] == 1):
            continue  # single polarity: ToFrame sets p = 0 (and refuses two polarities)
        values = events[field].astype(np.int64)
        outside = (values < 0) | (values >= limit)
        if outside.any():
            bad = int(values[np.argmax(outside)])
            raise DataError(f"{where}: an event has {field} = {bad}, outside the sensor's 0-{limit - 1}")
    if downsample > 1:  # in range before, in range after: _sensor checked the largest coordinates
        events = tonic.transforms.Downsample(spatial_factor=spatial_factor(downsample))(events)
    t = events["t"]
    if t.size > 1 and (np.diff(t) < 0).any():  # ToFrame finds bins by binary search on t
        events = events[np.argsort(t, kind="stable")]
    # start_time 0: bins from the recording's start, not its first event; include_incomplete
    # with end_time T w gives T bins (T + 1 where rounding adds one), whatever the events' span
    try:
        frames = tonic.transforms.ToFrame(sensor_size=sensor, time_window=window, include_incomplete=True,
                                          start_time=0, end_time=timesteps * window)(events)
    except ValueError as exc:  # e.g. two polarities on a single-polarity sensor
        raise DataError(f"{where}: tonic's ToFrame refuses its events: {exc}") from None
    frames = frames[:timesteps].reshape(min(len(frames), timesteps), -1)
    step, channel = np.nonzero(frames)  # counts wrap in tonic's int16 frames: != 0 rather than > 0
    return step, channel


def _bin_split(tonic, ds, data: m.TonicData, split: str, sensor, timesteps: int, window: float) -> Dataset:
    size = input_size(data)
    order = _sample_order(ds)
    n = len(order)
    if n == 0:
        raise DataError(f"data: tonic finds no samples in the {data.dataset} {split} split in {ds.location_on_system}")
    parts: list[Dataset] = []
    held = 0
    for lo in range(0, n, CHUNK):
        samples, steps, channels, labels = [], [], [], []
        for j, index in enumerate(order[lo:lo + CHUNK]):
            where = _where(ds, index)
            try:
                events, target = ds[index]
            except (OSError, KeyError, ValueError, IndexError) as exc:
                raise DataError(f"{where}: tonic cannot read it: {type(exc).__name__}: {exc}") from None
            step, channel = _bin_sample(tonic, events, ds.sensor_size, sensor, data.downsample, timesteps, window, where)
            samples.append(np.full(step.size, j, np.int64))
            steps.append(step)
            channels.append(channel)
            labels.append(int(target))
        keys = event_keys(np.concatenate(samples), np.concatenate(steps), np.concatenate(channels), timesteps, size)
        part = Dataset.from_keys(keys, np.asarray(labels, np.int64), timesteps, size)
        parts.append(part)
        held += part.offsets.nbytes + part.channels.nbytes + 2 * part.labels.nbytes
        if lo == 0 and n > CHUNK:  # the whole split, extrapolated from its first chunk, twice (the parts, concat)
            what = (f"data: the binned {data.dataset} {split} split ({n:,} samples x {timesteps} timesteps, "
                    f"extrapolated from its first {CHUNK})")
            if (problem := memory_problem(2 * held * n / CHUNK, what)) is not None:
                raise DataError(problem)
    return concat(parts)


def load_tonic(data: m.TonicData, timesteps: int, dt: float | None, base_dir: Path) -> Split:
    """The train split and the evaluated split (data.test_split) of a tonic data set on disk,
    binned into T timesteps of the spec's bin width; nothing is downloaded."""
    splits = _splits(data)
    if (missing := tonic_missing(data, base_dir)) is not None:
        raise DataError(missing)
    tonic = _import_tonic()
    sensor = _sensor(tonic, data)
    window = bin_width(data, timesteps, dt) / TIME_UNIT_S[data.dataset]
    if abs(window - round(window)) <= 1e-9 * window:  # 0.014 s is 14000.000000000002 us: bins on whole us
        window = float(round(window))
    save_to = _save_to(data, base_dir)
    out = {}
    for role, split in splits.items():
        ds = _open(tonic, data, save_to, split)
        out[role] = _bin_split(tonic, ds, data, split, sensor, timesteps, window)
    return Split(out["train"], out["test"])


__all__ = ["load_tonic", "tonic_missing", "spatial_factor", "CHUNK", "TIME_UNIT_S"]
