"""A progress bar per epoch (tqdm, on stderr; quiet when disabled)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

from tqdm import tqdm

T = TypeVar("T")


def progress(items: Iterable[T], *, desc: str, total: int | None = None, enabled: bool = True, unit: str = "batch") -> tqdm:
    """A tqdm bar over items; set_postfix on it shows running values (loss, accuracy)."""
    return tqdm(items, desc=desc, total=total, disable=not enabled, unit=unit, leave=True, dynamic_ncols=True)
