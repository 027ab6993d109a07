"""The tensor file format of generated programs (docs/codegen.md).

"SNNCCTEN", u32 version (1), u32 count, then per tensor: u32 name length, the name
(UTF-8), u32 dtype (0 float32, 1 uint32, 2 uint8), u32 rank, u64 dims[rank], u64 byte
count, the data (row-major, little endian).

The one file format between Python and a generated program on either runtime: the INIT,
DATA and batch files it reads, the result and epoch files it writes, and the host backend's
checkpoints. Its C++ side is the program's (templates/host/program_support.hpp); this side
depends on no stage of the compiler, so the backends, verification and tests all read and
write it through this module.
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

from .fsutil import write_bytes_atomic

MAGIC = b"SNNCCTEN"
VERSION = 1
DTYPES = {0: np.dtype("<f4"), 1: np.dtype("<u4"), 2: np.dtype("u1")}
CODES = {v: k for k, v in DTYPES.items()}


class TensorFileError(ValueError):
    pass


def dumps(tensors: dict[str, np.ndarray]) -> bytes:
    parts = [MAGIC, struct.pack("<II", VERSION, len(tensors))]
    for name in sorted(tensors):
        a = np.ascontiguousarray(tensors[name])
        dt = a.dtype.newbyteorder("<") if a.dtype.byteorder == ">" else a.dtype
        if dt not in CODES:
            raise TensorFileError(f"tensor '{name}': dtype {a.dtype} is not float32, uint32 or uint8")
        raw = name.encode()
        parts.append(struct.pack("<I", len(raw)) + raw + struct.pack("<II", CODES[dt], a.ndim))
        parts.append(struct.pack(f"<{a.ndim}Q", *a.shape))
        data = a.astype(dt, copy=False).tobytes()
        parts.append(struct.pack("<Q", len(data)) + data)
    return b"".join(parts)


def append(path: str | Path, tensors: dict[str, np.ndarray]) -> None:
    """Add tensors at the end of an existing tensor file, in place (the file's count is
    rewritten last): a few small entries without reading or copying what it holds."""
    extra = dumps(tensors)[16:]
    with open(path, "r+b") as f:
        head = f.read(16)
        if head[:8] != MAGIC:
            raise TensorFileError(f"{path}: not an snncc tensor file")
        version, count = struct.unpack_from("<II", head, 8)
        if version != VERSION:
            raise TensorFileError(f"{path}: tensor file version {version} (expected {VERSION})")
        f.seek(0, 2)
        f.write(extra)
        f.seek(12)
        f.write(struct.pack("<I", count + len(tensors)))


def loads(data: bytes) -> dict[str, np.ndarray]:
    if data[:8] != MAGIC:
        raise TensorFileError("not an snncc tensor file")
    version, count = struct.unpack_from("<II", data, 8)
    if version != VERSION:
        raise TensorFileError(f"tensor file version {version} (expected {VERSION})")
    pos, out = 16, {}
    for _ in range(count):
        (n,) = struct.unpack_from("<I", data, pos)
        name = data[pos + 4: pos + 4 + n].decode()
        pos += 4 + n
        code, rank = struct.unpack_from("<II", data, pos)
        pos += 8
        dims = struct.unpack_from(f"<{rank}Q", data, pos)
        pos += 8 * rank
        (nbytes,) = struct.unpack_from("<Q", data, pos)
        pos += 8
        out[name] = np.frombuffer(data[pos: pos + nbytes], dtype=DTYPES[code]).reshape(dims).copy()
        pos += nbytes
    return out


def write(path: str | Path, tensors: dict[str, np.ndarray]) -> None:
    write_bytes_atomic(path, dumps(tensors))


def read(path: str | Path) -> dict[str, np.ndarray]:
    return loads(Path(path).read_bytes())
