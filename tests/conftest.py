import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

ROOT = Path(__file__).resolve().parents[1]

# Derandomized in CI so that a red build is reproducible; a few more examples locally.
settings.register_profile(
    "ci", derandomize=True, max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("dev", max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# A long run with a fresh seed (README, Development): SNNCC_FUZZ_EXAMPLES per test.
settings.register_profile("nightly", max_examples=int(os.environ.get("SNNCC_FUZZ_EXAMPLES", "3000")), deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev"))


@pytest.fixture
def root() -> Path:
    return ROOT


@pytest.fixture
def snntorch_layer_spikes():
    """A function: spikes [T, B, N] of every spiking layer of an snnTorch nn.Sequential built with
    init_hidden=True, in layer order, for inputs x [T, B, inputs] (the oracle of the NIR tests)."""
    import torch

    import snntorch as snn
    from snntorch import utils as snn_utils

    def run(net, x):
        snn_utils.reset(net)
        layers = [m for m in net if isinstance(m, snn.SpikingNeuron)]
        rec = {id(m): [] for m in layers}
        hooks = [m.register_forward_hook(
            lambda mod, inp, out: rec[id(mod)].append(out[0] if isinstance(out, tuple) else out)) for m in layers]
        with torch.no_grad():
            for t in range(x.shape[0]):
                net(x[t])
        for h in hooks:
            h.remove()
        return [torch.stack(rec[id(m)]) for m in layers]

    return run
