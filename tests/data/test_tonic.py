"""tonic's data sets (snncc.data.tonic_sets): tiny data sets written in tonic 1.x's own
on-disk layouts, read through tonic's classes and transforms, checked spike by spike against
bins worked out by hand. Nothing is downloaded: the sockets are closed for every test.

The layouts, as tonic 1.x reads them under save_to/<class name>/:
  NMNIST      Train/<digit>/<id>.bin and Test/...: 5-byte ATIS events (x, y, p bit 7 and
              t bits 22-16, t 15-8, t 7-0), t in microseconds; the label is the folder's
              last character.
  DVSGesture  ibmGestureTrain/user<NN>_<lighting>/<label>.npy and ibmGestureTest/...:
              [E, 4] arrays of (x, y, p, t in milliseconds; tonic multiplies t by 1000).
  SHD, SSC    shd_train.h5, shd_test.h5 (ssc_train/valid/test.h5): spikes/times (seconds,
              tonic multiplies by 1e6 and truncates to integer microseconds), spikes/units
              (tonic's field "x"), labels, and extra/keys and extra/speaker, which tonic's
              constructor reads.

How tonic decides to download (Dataset._check_exists): the downloaded archive must exist
(check_integrity without an md5: presence only) and the extracted folder must hold at least
10,000 .bin (NMNIST), 100 .npy (DVSGesture) or 1 .h5 (SHD, SSC) files; otherwise its
constructor downloads. A hand-written set of a few samples fails that count, so snncc does
not rely on it: it checks the extracted files itself (tonic_missing) and opens tonic's class
through a subclass of the same name whose _check_exists is true and whose download raises,
as tonic's own tests patch _check_exists. test_tonic_itself_would_download_these_sets shows it.
"""

from __future__ import annotations

import os
import socket
import sys
import time
from pathlib import Path

import numpy as np
import pytest

tonic = pytest.importorskip("tonic")
h5py = pytest.importorskip("h5py")

from snncc.data import DataError, load_data  # noqa: E402
from snncc.data.tonic_sets import _layouts, _reader, load_tonic, spatial_factor, tonic_missing  # noqa: E402
from snncc.spec import models as m  # noqa: E402
from snncc.spec.datasets import input_size  # noqa: E402


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Any connection attempt fails the test at once."""
    def refuse(*args, **kwargs):
        raise AssertionError("a test tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


def tonic_data(dataset, **kw):
    return m.TonicData(kind="tonic", dataset=dataset, path=kw.pop("path", "data"), **kw)


def dense(d):
    return d.dense(np.arange(len(d)))


def expected(n, timesteps, size, spikes):
    """0/1 [n, T, size] with a 1 at each (sample, timestep, channel)."""
    out = np.zeros((n, timesteps, size), np.uint8)
    for s, t, c in spikes:
        out[s, t, c] = 1
    return out


def files_under(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


# ----------------------------------------------------------------------------- writers


def write_nmnist_bin(path: Path, events):
    """events (x, y, p, t in us) in the ATIS 40-bit format N-MNIST's .bin files use."""
    path.parent.mkdir(parents=True, exist_ok=True)
    raw = bytearray()
    for x, y, p, t in events:
        assert 0 <= t < 1 << 23 and y != 240  # y = 240 marks tonic's time-overflow events
        raw += bytes([x, y, (p << 7) | (t >> 16), (t >> 8) & 0xFF, t & 0xFF])
    path.write_bytes(bytes(raw))


def write_dvs_npy(path: Path, events):
    """events (x, y, p, t in ms) as the [E, 4] array tonic's DVSGesture loads."""
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path, np.asarray(events, dtype=np.int64).reshape(-1, 4))


def write_hsd(path: Path, samples, labels):
    """samples: [(times in s, units)]; an SHD/SSC file as published (float32 times, uint16 units)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with h5py.File(path, "w") as f:
        times = f.create_dataset("spikes/times", (len(samples),), dtype=h5py.vlen_dtype(np.float32))
        units = f.create_dataset("spikes/units", (len(samples),), dtype=h5py.vlen_dtype(np.uint16))
        for i, (t, u) in enumerate(samples):
            times[i] = np.asarray(t, np.float32)
            units[i] = np.asarray(u, np.uint16)
        f.create_dataset("labels", data=np.asarray(labels, np.uint16))
        f.create_dataset("extra/keys", data=[b"zero", b"one"])
        f.create_dataset("extra/speaker", data=np.zeros(len(samples), np.uint16))


@pytest.fixture
def nmnist(tmp_path):
    root = tmp_path / "data" / "NMNIST"
    write_nmnist_bin(root / "Train" / "3" / "00000.bin", [
        (1, 0, 0, 1000),   # exactly one bin width: timestep 1
        (5, 7, 1, 2500),   # 2.5 bins: timestep 2
        (0, 0, 0, 3100),   # two events of channel 0 in timestep 3: one spike
        (0, 0, 0, 3900),
        (2, 0, 0, 4999),   # the last microsecond of timestep 4
        (3, 0, 0, 5000),   # T x bin width: dropped
        (4, 0, 0, 7000),   # later still: dropped
    ])
    write_nmnist_bin(root / "Train" / "7" / "00001.bin", [(33, 33, 1, 0), (4, 6, 0, 100), (5, 7, 0, 200),
                                                          (1, 0, 1, 1200)])
    write_nmnist_bin(root / "Test" / "0" / "00002.bin", [(10, 20, 0, 1500)])
    return tmp_path


def test_nmnist_bins_by_hand(nmnist):
    started = time.perf_counter()
    split = load_tonic(tonic_data("NMNIST", bin_width=0.001), 5, None, nmnist)
    took = time.perf_counter() - started
    size = 34 * 34 * 2
    ch = lambda x, y, p: (p * 34 + y) * 34 + x  # noqa: E731: the spec's (p x height + y) x width + x
    # the first sample's first event is at 1000 us: timestep 1, bins count from the recording's 0
    assert np.array_equal(dense(split.train), expected(2, 5, size, [
        (0, 1, ch(1, 0, 0)), (0, 2, ch(5, 7, 1)), (0, 3, ch(0, 0, 0)), (0, 4, ch(2, 0, 0)),
        (1, 0, ch(33, 33, 1)), (1, 0, ch(4, 6, 0)), (1, 0, ch(5, 7, 0)), (1, 1, ch(1, 0, 1)),
    ]))
    assert ch(5, 7, 1) == 1399 and ch(33, 33, 1) == size - 1
    assert split.train.labels.tolist() == [3, 7] and split.test.labels.tolist() == [0]
    assert np.array_equal(dense(split.test), expected(1, 5, size, [(0, 1, ch(10, 20, 0))]))
    assert split.train.num_events == 8 and split.train.size == size == input_size(tonic_data("NMNIST"))
    assert took < 30


def test_nmnist_downsample_2_merges_pixels(nmnist):
    data = tonic_data("NMNIST", bin_width=0.001, downsample=2)
    split = load_tonic(data, 2, None, nmnist)
    size = 17 * 17 * 2
    ch = lambda x, y, p: (p * 17 + y) * 17 + x  # noqa: E731
    assert input_size(data) == size
    # sample 0: (1, 0) at 1000 us -> (0, 0) in timestep 1; its later events are past T = 2 bins.
    # sample 1: (4, 6) and (5, 7) both become (2, 3) in timestep 0: one spike; (33, 33) -> (16, 16)
    assert np.array_equal(dense(split.train), expected(2, 2, size, [
        (0, 1, ch(0, 0, 0)),
        (1, 0, ch(16, 16, 1)), (1, 0, ch(2, 3, 0)), (1, 1, ch(0, 0, 1)),
    ]))
    assert split.train.num_events == 4  # five events in range, two of them merged


def test_duration_and_the_models_dt_give_the_bin_width(nmnist):
    by_duration = load_tonic(tonic_data("NMNIST", duration=0.005), 5, None, nmnist)
    by_dt = load_tonic(tonic_data("NMNIST"), 5, 0.001, nmnist)
    by_width = load_tonic(tonic_data("NMNIST", bin_width=0.001), 5, None, nmnist)
    for other in (by_duration, by_dt):
        assert np.array_equal(other.train.channels, by_width.train.channels)
        assert np.array_equal(other.train.offsets, by_width.train.offsets)


def test_through_load_data(nmnist):
    split = load_data(tonic_data("NMNIST", bin_width=0.001), 5, 34 * 34 * 2, 10, base_dir=nmnist)
    assert split.train.labels.tolist() == [3, 7]
    with pytest.raises(DataError, match="label 7 needs at least 8 readout neurons"):
        load_data(tonic_data("NMNIST", bin_width=0.001), 5, 34 * 34 * 2, 5, base_dir=nmnist)


@pytest.fixture
def dvs(tmp_path):
    root = tmp_path / "data" / "DVSGesture"
    write_dvs_npy(root / "ibmGestureTrain" / "user02_led" / "2.npy", [(0, 0, 0, 1)])
    write_dvs_npy(root / "ibmGestureTrain" / "user01_fluorescent" / "4.npy", [
        (127, 127, 1, 0),  # (31, 31) after downsample 4
        (8, 9, 0, 5),      # 5 ms = 2.5 bins of 2 ms: timestep 2 ...
        (11, 10, 0, 5),    # ... the same pixel (2, 2) after downsample 4: one spike
        (3, 4, 1, 8),      # 8 ms = T x bin width: dropped
    ])
    write_dvs_npy(root / "ibmGestureTrain" / "user01_fluorescent" / "10.npy", [(64, 0, 1, 7)])
    write_dvs_npy(root / "ibmGestureTest" / "user24_led" / "0.npy", [(5, 9, 1, 2)])
    return tmp_path


def test_dvsgesture_bins_by_hand(dvs):
    data = tonic_data("DVSGesture", bin_width=0.002, downsample=4)
    split = load_tonic(data, 4, None, dvs)
    size = 32 * 32 * 2
    ch = lambda x, y, p: (p * 32 + y) * 32 + x  # noqa: E731
    assert input_size(data) == size
    # samples in the order of their paths (tonic walks DVSGesture's folders in the file system's order)
    assert split.train.labels.tolist() == [10, 4, 2]
    assert np.array_equal(dense(split.train), expected(3, 4, size, [
        (0, 3, ch(16, 0, 1)),
        (1, 0, ch(31, 31, 1)), (1, 2, ch(2, 2, 0)),
        (2, 0, ch(0, 0, 0)),
    ]))
    assert split.test.labels.tolist() == [0]
    assert np.array_equal(dense(split.test), expected(1, 4, size, [(0, 1, ch(1, 2, 1))]))


@pytest.fixture
def hsd(tmp_path):
    def write(dataset, splits):
        for split, (samples, labels) in splits.items():
            write_hsd(tmp_path / "data" / dataset / f"{dataset.lower()}_{split}.h5", samples, labels)
        return tmp_path
    return write


SHD_TRAIN = ([
    # unit 3 at 0; 699 at 2.5 bins; 10 twice in timestep 3; 5 at 4.5 bins (past T = 4): dropped
    ([0.0, 0.025, 0.031, 0.038, 0.045], [3, 699, 10, 10, 5]),
    ([0.012, 0.001], [1, 0]),  # not in time order: sorted before ToFrame's binary search
], [7, 2])
SHD_TEST = ([([0.015], [0])], [19])


def test_shd_bins_by_hand(hsd):
    base = hsd("SHD", {"train": SHD_TRAIN, "test": SHD_TEST})
    split = load_tonic(tonic_data("SHD", bin_width=0.01), 4, None, base)
    assert np.array_equal(dense(split.train), expected(2, 4, 700, [
        (0, 0, 3), (0, 2, 699), (0, 3, 10), (1, 0, 0), (1, 1, 1)]))
    assert split.train.labels.tolist() == [7, 2] and split.test.labels.tolist() == [19]
    assert np.array_equal(dense(split.test), expected(1, 4, 700, [(0, 1, 0)]))
    # downsample 2: channel c -> c // 2, so 0 and 1 merge in sample 1 (timesteps 0 and 1 stay apart)
    half = load_tonic(tonic_data("SHD", bin_width=0.01, downsample=2), 4, None, base)
    assert half.train.size == 350
    assert np.array_equal(dense(half.train), expected(2, 4, 350, [
        (0, 0, 1), (0, 2, 349), (0, 3, 5), (1, 0, 0), (1, 1, 0)]))


def test_ssc_reads_the_split_named_by_test_split(hsd):
    one = ([([0.0], [0])], [1])
    base = hsd("SSC", {"train": one, "valid": ([([0.0], [1])], [2]), "test": ([([0.0], [2])], [3])})
    valid = load_tonic(tonic_data("SSC", bin_width=0.01, test_split="valid"), 2, None, base)
    test = load_tonic(tonic_data("SSC", bin_width=0.01), 2, None, base)
    assert valid.train.labels.tolist() == test.train.labels.tolist() == [1]
    assert valid.test.labels.tolist() == [2] and valid.test.channels.tolist() == [1]
    assert test.test.labels.tolist() == [3] and test.test.channels.tolist() == [2]
    with pytest.raises(DataError, match="SHD has no 'valid' split"):
        load_tonic(tonic_data("SHD", test_split="valid"), 2, None, base)
    assert tonic_missing(tonic_data("SHD", test_split="valid"), base) is not None  # the SHD files are missing
    assert tonic_missing(tonic_data("SSC", test_split="valid"), base) is None


# ----------------------------------------------------------------------------- missing files


@pytest.mark.parametrize("dataset, where, call", [
    ("NMNIST", "NMNIST/Train", "tonic.datasets.NMNIST(save_to='{save}', train=True)"),
    ("DVSGesture", "DVSGesture/ibmGestureTrain", "tonic.datasets.DVSGesture(save_to='{save}', train=True)"),
    ("SHD", "SHD/shd_train.h5", "tonic.datasets.SHD(save_to='{save}', train=True)"),
    ("SSC", "SSC/ssc_train.h5", "tonic.datasets.SSC(save_to='{save}', split='train')"),
])
def test_a_missing_data_set_names_the_path_and_the_download_and_downloads_nothing(tmp_path, dataset, where, call):
    data = tonic_data(dataset, path="nowhere")
    message = tonic_missing(data, tmp_path)
    save = tmp_path / "nowhere"
    assert message is not None and "\n" not in message
    assert str(save / where) in message and call.format(save=save) in message and "https://" in message
    with pytest.raises(DataError) as info:
        load_tonic(data, 4, 0.001, tmp_path)
    assert str(info.value) == message
    assert files_under(tmp_path) == []  # tonic would have made save_to/<class> and downloaded into it


def test_the_missing_split_is_the_one_named(nmnist, hsd):
    import shutil

    shutil.rmtree(nmnist / "data" / "NMNIST" / "Test")
    message = tonic_missing(tonic_data("NMNIST"), nmnist)
    assert f"no such directory: {nmnist / 'data' / 'NMNIST' / 'Test'}" in message and "train=False" in message
    base = hsd("SSC", {"train": ([([0.0], [0])], [1])})
    before = files_under(base)
    message = tonic_missing(tonic_data("SSC", test_split="valid"), base)
    assert f"no such file: {base / 'data' / 'SSC' / 'ssc_valid.h5'}" in message and "split='valid'" in message
    with pytest.raises(DataError, match="ssc_valid.h5"):
        load_tonic(tonic_data("SSC", test_split="valid"), 2, 0.01, base)
    assert files_under(base) == before


def test_an_archive_not_yet_extracted(tmp_path):
    (tmp_path / "data" / "NMNIST").mkdir(parents=True)
    (tmp_path / "data" / "NMNIST" / "train.zip").write_bytes(b"")
    assert tonic_missing(tonic_data("NMNIST"), tmp_path) == (
        f"data: no .bin files in {tmp_path / 'data' / 'NMNIST' / 'Train'}, but train.zip is there: "
        f"extract it in {tmp_path / 'data' / 'NMNIST'}")
    (tmp_path / "data" / "SHD").mkdir()
    (tmp_path / "data" / "SHD" / "shd_train.h5.zip").write_bytes(b"")
    assert "shd_train.h5.zip is there: unzip it" in tonic_missing(tonic_data("SHD"), tmp_path)


def test_an_empty_folder_is_missing(tmp_path):
    (tmp_path / "data" / "NMNIST" / "Train" / "0").mkdir(parents=True)
    assert tonic_missing(tonic_data("NMNIST"), tmp_path).startswith(
        f"data: no .bin files in: {tmp_path / 'data' / 'NMNIST' / 'Train'} (NMNIST train split")


def test_tonic_itself_would_download_these_sets(nmnist, dvs):
    """tonic's own check (archive present, at least 10,000 .bin / 100 .npy extracted) fails on the
    hand-written sets, so its constructor would download: snncc opens them through _reader."""
    for cls, folder, filename in ((tonic.datasets.NMNIST, "Train", "train.zip"),
                                  (tonic.datasets.DVSGesture, "ibmGestureTrain", "ibmGestureTrain.tar.gz")):
        plain = object.__new__(cls)
        plain.location_on_system, plain.folder_name, plain.filename = str(nmnist / "data" / cls.__name__), folder, filename
        (nmnist / "data" / cls.__name__ / filename).write_bytes(b"")  # the archive is only checked for presence
        assert not plain._check_exists()
        reader = _reader(cls)
        assert reader.__name__ == cls.__name__ and issubclass(reader, cls)
        opened = reader(save_to=str(nmnist / "data"), train=True)
        assert opened.location_on_system == str(nmnist / "data" / cls.__name__) and len(opened) > 0
        with pytest.raises(DataError, match="snncc never downloads"):
            opened.download()


def test_the_layout_is_tonics():
    """snncc's table of folders and archives (it checks files without importing tonic) is tonic's."""
    d = tonic.datasets
    assert (_layouts("NMNIST", "train").folder, _layouts("NMNIST", "test").folder) == (d.NMNIST.train_folder,
                                                                                      d.NMNIST.test_folder)
    assert (_layouts("NMNIST", "train").archive, _layouts("NMNIST", "test").archive) == (d.NMNIST.train_filename,
                                                                                        d.NMNIST.test_filename)
    assert (_layouts("DVSGesture", "train").archive, _layouts("DVSGesture", "test").archive) == (
        d.DVSGesture.train_filename, d.DVSGesture.test_filename)
    for name, archive in (("train", d.SHD.train_zip), ("test", d.SHD.test_zip)):
        assert _layouts("SHD", name).archive == archive and _layouts("SHD", name).suffix == archive[:-4]
    for name in ("train", "valid", "test"):
        assert _layouts("SSC", name).archive == getattr(d.SSC, f"{name}_zip")


# ----------------------------------------------------------------------------- tonic's quirks


def test_downsample_factor_truncates_exactly():
    """tonic's Downsample multiplies by the factor and truncates: with 1/49, 49 -> 0. snncc passes
    the double just above 1/d, which gives c // d for every coordinate and factor here."""
    events = np.zeros(2048, dtype=tonic.datasets.SHD.dtype)
    events["x"] = np.arange(2048)
    assert tonic.transforms.Downsample(spatial_factor=1 / 49)(events)["x"][49] == 0
    for d in range(1, 1025):
        out = tonic.transforms.Downsample(spatial_factor=spatial_factor(d))(events)["x"]
        assert np.array_equal(out, np.arange(2048) // d), d


def test_toframe_starts_at_the_first_event_unless_told():
    events = np.zeros(1, dtype=tonic.datasets.NMNIST.dtype)
    events["t"] = 2500
    frames = tonic.transforms.ToFrame(sensor_size=(34, 34, 2), time_window=1000)(events)
    assert frames.shape == (1, 2, 34, 34) and frames[0].sum() == 1  # t = 2.5 bins lands in frame 0
    frames = tonic.transforms.ToFrame(sensor_size=(34, 34, 2), time_window=1000, include_incomplete=True,
                                      start_time=0, end_time=5000)(events)
    assert frames.shape == (5, 2, 34, 34) and frames[2].sum() == 1  # [frames, polarities, height, width]


def test_a_sensor_size_that_disagrees_with_the_spec(nmnist, monkeypatch):
    monkeypatch.setattr(tonic.datasets.NMNIST, "sensor_size", (35, 34, 2))
    with pytest.raises(DataError) as info:
        load_tonic(tonic_data("NMNIST", downsample=2), 2, 0.001, nmnist)
    assert str(info.value) == ("data: tonic's NMNIST sensor (35, 34, 2) down-sampled by 2 is (18, 17, 2) (width, "
                               "height, polarities), 612 channels, but snncc's input size is (17, 17, 2), 578 channels")


def test_an_event_outside_the_sensor(nmnist):
    bad = nmnist / "data" / "NMNIST" / "Train" / "5" / "00009.bin"
    write_nmnist_bin(bad, [(34, 0, 0, 0)])
    with pytest.raises(DataError) as info:
        load_tonic(tonic_data("NMNIST", bin_width=0.001), 2, None, nmnist)
    assert str(info.value) == f"{bad}: an event has x = 34, outside the sensor's 0-33"


def test_a_broken_shd_file(hsd, tmp_path):
    base = hsd("SHD", {"test": SHD_TEST})
    (tmp_path / "data" / "SHD" / "shd_train.h5").write_bytes(b"not hdf5")
    with pytest.raises(DataError, match=r"tonic cannot read the SHD train split in .*: OSError"):
        load_tonic(tonic_data("SHD"), 2, 0.01, base)


def test_without_tonic(nmnist, monkeypatch):
    for name in [n for n in sys.modules if n == "tonic" or n.startswith("tonic.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "tonic", None)  # import tonic raises ImportError
    with pytest.raises(DataError, match=r"pip install 'snncc\[tonic\]' or pip install tonic"):
        load_tonic(tonic_data("NMNIST"), 2, 0.001, nmnist)
    assert tonic_missing(tonic_data("NMNIST"), nmnist) is None  # the file check needs no tonic


def test_no_download_from_the_spec_checks(tmp_path):
    """`snncc validate` reports a missing data set through tonic_missing, without tonic."""
    assert os.listdir(tmp_path) == []
    assert "tonic.datasets.DVSGesture(" in tonic_missing(tonic_data("DVSGesture"), tmp_path)
    assert os.listdir(tmp_path) == []


def test_a_downsample_factor_whose_reciprocal_rounds_down(hsd):
    """49 x (1/49) < 1 in doubles: tonic's Downsample with 1/49 would put unit 49 into channel 0."""
    base = hsd("SHD", {"train": ([([0.0, 0.0, 0.0], [48, 49, 699])], [0]), "test": SHD_TEST})
    split = load_tonic(tonic_data("SHD", bin_width=0.01, downsample=49), 1, None, base)
    assert split.train.size == 15 and split.train.channels.tolist() == [0, 1, 14]
