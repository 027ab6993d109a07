"""Helpers of the NIR tests: run `snncc import-nir` and evaluate the result with snncc.torch."""

from __future__ import annotations

import pytest
import torch

from snncc.cli import main
from snncc.ir import spec_to_ir
from snncc.spec import load_spec
from snncc.torch import build_model


@pytest.fixture
def import_nir(tmp_path, capsys):
    """import_nir(graph, *options) -> (ir, snncc.torch model, printed stdout).

    compression=None writes 0-d parameters (Norse's default modules): nir 1.0.8's nir.write
    fails on them with its default gzip compression."""
    import nir

    def run(graph, *options, compression="gzip"):
        src = tmp_path / "net.nir"
        nir.write(str(src), graph, compression=compression)
        out = tmp_path / "imported" / "model.json"
        assert main(["import-nir", str(src), "-o", str(out), *options]) == 0
        printed = capsys.readouterr().out
        ir = spec_to_ir(load_spec(out))
        return ir, build_model(ir), printed

    return run


@pytest.fixture
def snncc_spikes():
    """snncc_spikes(model, x [T, B, inputs]) -> emitted spikes [T, B, N] per population."""

    def spikes(model, x: torch.Tensor) -> dict[str, torch.Tensor]:
        with torch.no_grad():
            return model(x).spikes

    return spikes
