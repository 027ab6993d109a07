"""Lazy, bounded reading of .npz archives and the memory a data set may take.

np.load inflates a member on access, whatever its size, and a zip member's .npy header may
declare any shape. `NpzArchive` reads only the members asked for, and reads each one's
shape and dtype from its .npy header first, so that callers check them (and the memory
they need) before any data is inflated. Files that are not regular (a FIFO would block
np.load forever) are refused without being opened.
"""

from __future__ import annotations

import math
import os
import stat
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.lib import format as npy_format


NPY_MAGIC = b"\x93NUMPY"


class NpzError(ValueError):
    """An .npz file or member that cannot be read: a one-line message without the path."""


def not_regular_file(path: Path) -> str | None:
    """Why path cannot be read as a file (missing, a directory, a FIFO or device), else None.
    Uses stat only, so a FIFO is never opened."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return f"no such file: {path}"
    except OSError as exc:
        return f"cannot read {path}: {exc.strerror}"
    except ValueError:  # a NUL character, which no file name can hold
        return f"not a file name (it holds a NUL character): {path}"
    if stat.S_ISDIR(mode):
        return f"is a directory, not an .npz file: {path}"
    if not stat.S_ISREG(mode):
        kind = "a FIFO" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode) else "a device"
        return f"{path} is {kind}, not a regular .npz file"
    return None


@dataclass(frozen=True)
class Header:
    shape: tuple[int, ...]
    dtype: np.dtype
    fortran_order: bool

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    @property
    def nbytes(self) -> int:
        return self.size * self.dtype.itemsize

    @property
    def numeric(self) -> bool:
        return self.dtype.kind in "fiub" and not self.dtype.hasobject and self.dtype.fields is None


_READ_ERRORS = (OSError, EOFError, ValueError, zipfile.BadZipFile, zlib.error, NotImplementedError, RuntimeError)


class NpzArchive:
    """An .npz file opened for lazy reading: `names`, then `header(name)` and `read(name)`.

    Raises NpzError (message without the path) for files that are not .npz archives and for
    damaged members; call not_regular_file first.
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._file = open(self.path, "rb")  # noqa: SIM115 (closed by close())
        try:
            self._zip = zipfile.ZipFile(self._file)
        except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
            self._file.seek(0)
            head = self._file.read(len(NPY_MAGIC))
            self._file.close()
            if head == NPY_MAGIC:
                raise NpzError("it is a .npy file (one array), not an archive of named arrays: "
                               "write it with numpy.savez(FILE, NAME=array)") from None
            if head.startswith(b"PK"):
                raise NpzError(f"it is a damaged or truncated zip archive ({_reason(exc)})") from None
            raise NpzError("it is not a zip archive") from None
        # np.savez stores NAME as NAME.npy; np.load lists it as NAME
        self.members = {(m[:-4] if m.endswith(".npy") else m): m for m in self._zip.namelist()}
        self._headers: dict[str, tuple[Header, int]] = {}

    @property
    def names(self) -> list[str]:
        return sorted(self.members)

    def close(self) -> None:
        self._zip.close()
        self._file.close()

    def __enter__(self) -> "NpzArchive":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _open_header(self, name: str):
        stream = self._zip.open(self.members[name])
        try:
            version = npy_format.read_magic(stream)
            if version == (1, 0):
                shape, fortran, dtype = npy_format.read_array_header_1_0(stream)
            elif version == (2, 0):
                shape, fortran, dtype = npy_format.read_array_header_2_0(stream)
            else:
                raise NpzError(f"member '{name}': .npy format version {version[0]}.{version[1]} is not supported")
        except NpzError:
            stream.close()
            raise
        except _READ_ERRORS as exc:
            stream.close()
            raise NpzError(f"member '{name}' is not a NumPy array ({_reason(exc)})") from None
        return stream, Header(tuple(int(n) for n in shape), np.dtype(dtype), bool(fortran))

    def header(self, name: str) -> Header:
        """Shape and dtype of a member from its .npy header; nothing is inflated beyond it."""
        if name not in self._headers:
            stream, head = self._open_header(name)
            offset = stream.tell()
            stream.close()
            self._headers[name] = (head, offset)
        return self._headers[name][0]

    def read(self, name: str) -> np.ndarray:
        """A member's array (numeric dtypes only). Check header() and the memory it needs first."""
        stream, head = self._open_header(name)
        try:
            if not head.numeric:
                raise NpzError(f"member '{name}' holds {head.dtype} values, not numbers")
            stored = self._zip.getinfo(self.members[name]).file_size - stream.tell()
            if stored < head.nbytes:
                raise NpzError(f"member '{name}' is truncated: its header declares {list(head.shape)} "
                               f"{head.dtype} ({head.nbytes:,} bytes), it holds {max(stored, 0):,}")
            out = np.empty(head.size, dtype=head.dtype)
            view = memoryview(out.view(np.uint8).reshape(-1))  # byte view: any byte order
            filled = 0
            while filled < head.nbytes:
                got = stream.readinto(view[filled:])
                if not got:
                    raise NpzError(f"member '{name}' is truncated ({filled:,} of {head.nbytes:,} bytes)")
                filled += got
        except NpzError:
            raise
        except _READ_ERRORS as exc:
            raise NpzError(f"member '{name}' is damaged ({_reason(exc)})") from None
        finally:
            stream.close()
        return out.reshape(head.shape, order="F" if head.fortran_order else "C")


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__
