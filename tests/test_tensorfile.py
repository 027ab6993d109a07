"""snncc.tensorfile.append: entries added to an existing file in place read back with the
file's own, and a file that is not a tensor file is refused."""

from __future__ import annotations

import numpy as np
import pytest

from snncc import tensorfile


def test_append_adds_entries_that_read_back_with_the_old_ones(tmp_path):
    path = tmp_path / "t.bin"
    old = {"state.p.w": np.arange(12, dtype=np.float32).reshape(3, 4), "steps": np.array([7], np.uint32)}
    tensorfile.write(path, old)
    size = path.stat().st_size
    extra = {"meta.model": np.frombuffer(b"net", np.uint8), "meta.wall_s": np.array([1.5], np.float32)}
    tensorfile.append(path, extra)
    got = tensorfile.read(path)
    assert sorted(got) == sorted({**old, **extra})
    for k, v in {**old, **extra}.items():
        assert got[k].dtype == v.dtype and np.array_equal(got[k], v), k
    assert path.stat().st_size > size  # in place: the old bytes stay where they were
    assert path.read_bytes()[16:size] == tensorfile.dumps(old)[16:]


def test_append_refuses_a_file_that_is_not_a_tensor_file(tmp_path):
    path = tmp_path / "t.bin"
    path.write_bytes(b"not a tensor file at all")
    with pytest.raises(tensorfile.TensorFileError, match="not an snncc tensor file"):
        tensorfile.append(path, {"x": np.zeros(1, np.float32)})
    assert path.read_bytes() == b"not a tensor file at all"
