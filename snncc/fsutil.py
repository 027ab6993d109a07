"""Output paths: atomic writes, and the checks that keep every command from deleting or
overwriting what it did not write itself.

The rule: a command writes a new path, or replaces only its own previous output of the
same kind (recognised by content: a file of the format it writes, a directory whose
contents it can account for); it refuses everything else (a symbolic link, a directory
where a file goes, a file where a directory goes, what the command reads, a directory
holding the current directory or an input) with one line that says what and why, before
any work is done. A failed or interrupted write leaves the previous output in place.
"""

from __future__ import annotations

import ctypes
import errno
import json
import os
import re
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator

from .errors import UserError


def write_bytes_atomic(path: str | Path, data: bytes) -> None:
    """Write data to a temporary file beside path, flush it to disk, then rename it over path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_text_atomic(path: str | Path, text: str) -> None:
    write_bytes_atomic(path, text.encode("utf-8"))


# --------------------------------------------------------------------------- file kinds

#: bytes read from an existing file to recognise its kind
HEAD_BYTES = 4096


@dataclass(frozen=True)
class FileKind:
    """What a command writes to a file option: an existing file is replaced only when it is
    empty or `matches` recognises it as this kind (the command's previous output)."""

    what: str
    matches: Callable[[Path], bool]


def _head(path: Path) -> bytes:
    with open(path, "rb") as f:
        return f.read(HEAD_BYTES)


def _head_matches(pattern: bytes) -> Callable[[Path], bool]:
    regex = re.compile(pattern, re.DOTALL)
    return lambda path: regex.match(_head(path)) is not None


GRAPHML = FileKind("a GraphML file", _head_matches(rb"\s*(<\?xml[^>]*>\s*)?<graphml\b"))
DOT = FileKind("a Graphviz DOT file", _head_matches(rb"\s*(strict\s+)?(di)?graph\b"))
PNG = FileKind("a PNG image", _head_matches(rb"\x89PNG\r\n\x1a\n"))
JSON_SCHEMA = FileKind("a JSON Schema", _head_matches(rb'\s*\{\s*"\$schema"\s*:\s*"https?://json-schema\.org/'))
NIR = FileKind("a NIR (HDF5) file", _head_matches(rb"\x89HDF\r\n\x1a\n"))

#: how the description of a model file written by `snncc import-nir` begins (snncc.nir.importer)
IMPORTED_DESCRIPTION = "Imported from NIR by snncc import-nir"
#: model files larger than this are not parsed to recognise them (an import is kilobytes)
IMPORTED_MODEL_MAX_BYTES = 64 << 20


def imported_model_arrays(path: Path) -> str | None:
    """The arrays file name of a model file that `snncc import-nir` wrote (its description
    says so), or None when path is not one."""
    try:
        if path.stat().st_size > IMPORTED_MODEL_MAX_BYTES:
            return None
        doc = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return None
    if not isinstance(doc, dict) or not str(doc.get("description", "")).startswith(IMPORTED_DESCRIPTION):
        return None
    arrays = doc.get("arrays")
    return arrays if isinstance(arrays, str) else None


# --------------------------------------------------------------------------- checks


def _label(path: str | os.PathLike, option: str) -> str:
    return f"{option} {os.fspath(path)}" if option else os.fspath(path)


def _check_parent(path: Path, label: str) -> None:
    """The nearest existing ancestor of path is a directory this process may write in."""
    parent = path.parent
    while not os.path.lexists(parent) and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        what = "a file" if parent.is_file() else "not a directory"
        raise UserError(f"{label}: {parent} is {what}, not a directory to write in")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise UserError(f"{label}: cannot write in {parent} (permission denied)")


def _check_not_link(path: Path, label: str) -> None:
    if path.is_symlink():
        raise UserError(f"{label}: is a symbolic link; snncc does not write through links: give the real path")


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def check_output_file(path: str | os.PathLike, option: str, kind: FileKind | None,
                      reads: Iterable[str | os.PathLike] = ()) -> Path:
    """Path, checked as a file output of `option` (e.g. "--graphml"): refused, with one line,
    when it is empty, ends with a slash, is a symbolic link, a directory or not a regular
    file, is a file the command reads, is a non-empty file that `kind` does not recognise
    (kind None: any regular file may be replaced), or cannot be created (its parent is a file,
    no permission)."""
    text = os.fspath(path)
    label = _label(path, option)
    if not text:
        raise UserError(f"{option}: the path is empty")
    if text.endswith(("/", os.sep)):
        raise UserError(f"{label}: ends with a slash; give a file name")
    p = Path(text)
    _check_not_link(p, label)
    if os.path.lexists(p):
        if p.is_dir():
            raise UserError(f"{label}: is a directory; give a file name")
        if not p.is_file():
            raise UserError(f"{label}: is not a regular file")
        for read in reads:
            if _same_file(p, Path(read)):
                raise UserError(f"{label}: is {os.fspath(read)}, which this command reads; choose another name")
        try:
            foreign = kind is not None and p.stat().st_size > 0 and not kind.matches(p)
        except OSError as exc:
            raise UserError(f"{label}: cannot read it to check what it is ({exc.strerror or exc})") from None
        if foreign:
            raise UserError(f"{label}: exists and is not {kind.what}, so not an earlier output of this command; "
                            "choose another name or remove it")
        if not os.access(p, os.W_OK) or not os.access(p.parent, os.W_OK | os.X_OK):
            raise UserError(f"{label}: cannot replace it (permission denied)")
    _check_parent(p, label)
    return p


def check_output_dir(path: str | os.PathLike, option: str, problem: Callable[[Path], str | None],
                     reads: Iterable[str | os.PathLike] = (), replaced: bool = True) -> Path:
    """Path, checked as a directory output of `option` that the command may empty or replace:
    refused, with one line, when it is empty, a symbolic link or not a directory, is or holds
    a file the command reads (or the current directory, when the command replaces the whole
    directory), cannot be created, or is a non-empty directory for which problem(path) says
    why it is not the command's own (None: it is)."""
    text = os.fspath(path)
    label = _label(path, option)
    if not text:
        raise UserError(f"{option}: the path is empty")
    p = Path(text)
    _check_not_link(p, label)
    if os.path.lexists(p) and not p.is_dir():
        what = "a file" if p.is_file() else "not a directory"
        raise UserError(f"{label}: is {what}; give a directory")
    where = p.resolve()
    try:
        cwd = Path.cwd().resolve()
    except OSError:  # the current directory was deleted: nothing to protect there
        cwd = None
    if replaced and cwd is not None and (where == cwd or where in cwd.parents):
        raise UserError(f"{label}: is the current directory or holds it; choose a new directory")
    for read in reads:
        r = Path(read).resolve()
        if where == r or where in r.parents:
            raise UserError(f"{label}: holds {os.fspath(read)}, which this command reads; choose a new directory")
    if p.is_dir():
        try:
            nonempty = any(True for _ in os.scandir(p))
        except OSError as exc:
            raise UserError(f"{label}: cannot list it ({exc.strerror or exc})") from None
        if nonempty and (why := problem(p)) is not None:
            raise UserError(f"{label}: {why}")
        if not os.access(p, os.W_OK | os.X_OK):
            raise UserError(f"{label}: cannot write in it (permission denied)")
    else:
        _check_parent(p, label)
    return p


def import_output_paths(output: str | os.PathLike) -> tuple[Path, Path]:
    """The model file and the arrays file beside it that `snncc import-nir -o output` writes."""
    out = Path(output)
    stem = out.name[:-5] if out.name.endswith(".json") else out.name
    return out, out.with_name(f"{stem}.arrays.npz")


def check_import_outputs(output: str | os.PathLike, option: str, reads: Iterable[str | os.PathLike] = ()
                         ) -> tuple[Path, Path]:
    """The model and arrays paths of `snncc import-nir -o output`, checked: each is new or
    empty, or the pair is an earlier import (the model file's description says it was
    imported and it names this arrays file). A hand-written model file, or an arrays file
    that no earlier import beside it names, is refused: either may be a user's only copy."""
    model, arrays = import_output_paths(output)
    earlier = FileKind(f"a model file written by snncc import-nir (naming {arrays.name})",
                       lambda path: imported_model_arrays(path) == arrays.name)
    check_output_file(model, option, earlier, reads)
    arrays_kind = FileKind(f"the arrays file of an earlier snncc import-nir to {model.name}",
                           lambda _path: model.is_file() and imported_model_arrays(model) == arrays.name)
    check_output_file(arrays, f"{option} {os.fspath(output)}: arrays file", arrays_kind, reads)
    return model, arrays


@contextmanager
def write_errors(path: str | os.PathLike, option: str) -> Iterator[None]:
    """An OSError while writing path (no space, permission, a race with another process)
    becomes one line for the user."""
    try:
        yield
    except OSError as exc:
        raise UserError(f"{_label(path, option)}: cannot write: {exc.strerror or exc}") from None


# --------------------------------------------------------------------------- renames

AT_FDCWD = -100
RENAME_NOREPLACE = 1
RENAME_EXCHANGE = 2
_renameat2_fn: object = None


def _renameat2(src: Path, dst: Path, flags: int) -> bool:
    """Linux renameat2(2): True when done, False where it is unavailable (no such libc
    function, ENOSYS from the kernel, EINVAL from a filesystem without the flag)."""
    global _renameat2_fn
    if _renameat2_fn is None:
        try:
            fn = ctypes.CDLL(None, use_errno=True).renameat2
            fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
            fn.restype = ctypes.c_int
            _renameat2_fn = fn
        except (OSError, AttributeError):
            _renameat2_fn = False
    if _renameat2_fn is False:
        return False
    if _renameat2_fn(AT_FDCWD, os.fsencode(src), AT_FDCWD, os.fsencode(dst), flags) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
        return False
    raise OSError(err, os.strerror(err), os.fspath(src), None, os.fspath(dst))


def exchange_paths(a: Path, b: Path) -> bool:
    """Swap two existing paths atomically (RENAME_EXCHANGE); False where that is unavailable."""
    return _renameat2(a, b, RENAME_EXCHANGE)


def rename_noreplace(src: Path, dst: Path) -> None:
    """Rename src to dst, refusing (FileExistsError) when dst exists; os.rename would replace
    an empty directory that appeared meanwhile. Without RENAME_NOREPLACE: check, then rename."""
    if not _renameat2(src, dst, RENAME_NOREPLACE):
        if os.path.lexists(dst):
            raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), os.fspath(dst))
        os.rename(src, dst)
