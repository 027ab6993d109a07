"""The random manifold ("Randman") spike-timing data set of Zenke and Vogels (2021).

F. Zenke and T. P. Vogels, "The remarkable robustness of surrogate gradient learning for
instilling complex function in spiking neural networks", Neural Computation 33(4):899-925
(2021), doi:10.1162/neco_a_01367. Reference code: github.com/fzenke/randman (`NumpyRandman`,
`TorchRandman`; `Randman` is TorchRandman) and its notebook "Spiking dataset generation
example" (`make_spiking_dataset`). This is an independent numpy implementation of the
algorithm; nothing of the reference is imported.

The manifolds
-------------
Every class c has, for each of the `spikes_per_unit` spikes s of a unit, its own smooth
random manifold: a map from coordinates x in [0, 1)^D (D = `manifold_dim`) to one value per
input unit u, a product over the dimensions of random Fourier series,

    y[u](x) = prod_{d < D} g[u, d](x_d),   g(x) = sum_{i < F} a_i w_i sin(2 pi (h_i x f_i + p_i)),

with amplitude a_i, frequency f_i and phase p_i drawn uniformly in [0, 1) for every
(class, spike, unit, dimension, term), F = f_cutoff = min(ceil(prec^(-1/alpha)), 1000),
prec = 1e-3 (alpha = 2: 32 terms; alpha = 3: 10; alpha <= 1: 1000). Three spectra (h, w) are
published, and `spectrum` picks one:

- "numpy" (used for the spec's data set): the reference's NumpyRandman, h_i = i,
  w_i = 1/(i + 1)^alpha, and term 0 (h = 0: a constant, the reference's bias) dropped, as
  the reference does without `use_bias`: the harmonic k = 1 .. F-1 has weight 1/(k + 1)^alpha.
- "torch": the reference's TorchRandman, the `Randman` that `make_spiking_dataset` (and
  stork's `make_tempo_randman`) use, the same with w_i = 1/((i + 1)^alpha + 1).
- "paper": the formula printed in the paper's Methods (Sec. 4.1.1), harmonic k = 1 .. F with
  weight k^-alpha, h_i = i + 1, w_i = (i + 1)^-alpha.

At alpha = 1 the harmonics' weights relative to the first are 1, 1/2, 1/3, .. ("paper"),
1, 2/3, 1/2, .. ("numpy") and 1, 3/4, 3/5, .. ("torch"): the code's manifolds are rougher.

The spikes
----------
A class's samples share their coordinates across its spikes_per_unit manifolds: sample n of
class c draws x_n uniformly in [0, 1)^D once, and unit u fires its s-th spike at the value
y[c, s, u](x_n), standardised over the class's samples per unit and manifold to [0, 1),
v = (y - min) / ((max - min)(1 + 1e-7)) (the reference's `standardize`, its epsilon made
relative: see below). That value becomes a time step as `make_spiking_dataset` and the code
that bins its times does (stork.datasets.make_tempo_randman: `int(nb_steps * step_frac * t)`):
step = floor(v x timesteps x time_fraction), clipped to timesteps - 1. So every spike lies in
[0, ceil(timesteps x time_fraction)), and each unit fires at step 0 (its minimum) and at
ceil(timesteps x time_fraction) - 1 (its maximum) in some sample of every class and
manifold. Spikes of one unit in the same step are one spike of the 0/1 raster (as the dense
conversion `X[times, units] = 1` of the reference's users makes them), so a unit fires
spikes_per_unit times per sample, fewer exactly where its spike times collide in a step;
with spikes_per_unit = 1 every unit fires exactly once per sample.

The spec's fields and the reference's names
-------------------------------------------
    the input population's size (channels)  nb_units (Randman's embedding_dim)
    the model's timesteps                   nb_steps
    RandmanData.time_fraction               step_frac
    RandmanData.manifold_dim                dim_manifold (Randman's manifold_dim)
    RandmanData.alpha                       alpha (smoothness: the spectrum's fall-off)
    RandmanData.spikes_per_unit             nb_spikes
    RandmanData.num_classes                 nb_classes
    RandmanData.samples_per_class           nb_samples (per class)
    RandmanData.seed                        seed (of other generators: see below)

Settings. `make_spiking_dataset`'s defaults: nb_classes 10, nb_units 100, nb_steps 100,
step_frac 1.0, dim_manifold 2, nb_spikes 1, nb_samples 1000, alpha 2.0. The paper's Randman
experiments (Sec. 4.1.1 and Table 1): a 10-way problem, M = 20 input units, D = alpha = 1, each
input firing once, at a time standardised to lie between 0 and tau_randman = 50 ms, 1000
samples per class (800 training, 100 validation, 100 test), n_cutoff = 1000; networks
simulated at 1 ms steps for 100 steps, with 100 hidden current-based LIF units. As a spec:
num_classes 10, samples_per_class 1000, manifold_dim 1, alpha 1, spikes_per_unit 1,
time_fraction 0.5, timesteps 100 (dt 1e-3), an input population of 20, test_fraction 0.1 or
0.2 (snncc splits in two).

Where this differs from the reference
-------------------------------------
- float64 throughout (TorchRandman computes in float32), with its own sine (sin_cycles) of
  numpy's IEEE operations alone, so the data set has the same bits on every machine.
- The random streams are numpy Generators seeded from (seed, 5, ...), not the global
  numpy or torch state: (seed, 5, 0, c) draws class c's manifolds, (seed, 5, 1, c) its
  samples' coordinates, (seed, 5, 2) the shuffle. A class's manifolds depend neither on
  samples_per_class nor on the other classes, its coordinates not on the number of units.
- The standardisation divides by (max - min)(1 + 1e-7) where the reference's divides by
  (max - min + 1e-7). Both map a unit's values into [0, 1), and they agree to a relative
  1e-7 / (max - min): for manifold_dim <= 2 (at alpha = 2 a unit's range over 1000 samples
  is 0.008 to 0.6) that is below 1.3e-5, so a spike moves by one step only where its time
  lies within 1.3e-5 x timesteps x time_fraction steps of a step boundary. For larger D the
  reference's absolute epsilon breaks the task: a unit's value is a product of D factors
  mostly well below 1, whose range over the samples falls with D (alpha = 2, median over
  units: 1e-3 at D = 4, 1e-7 at D = 8, 1e-11 at D = 12), so (max - min + 1e-7) squeezes the
  spike times toward step 0 (at D = 8 the median unit's latest spike is at 57 % of the
  window; at D = 12 every spike lies in the first 1.1 %). The spec allows manifold_dim up to
  16, so the epsilon here is relative.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from ..spec import models as m

#: The purpose number of the Randman streams in the seed tuple (snncc.data.sources uses 1-4).
_RANDMAN = 5
#: The reference's precision and cap of the number of Fourier terms, and its standardisation
#: epsilon (relative here).
PREC = 1e-3
MAX_F_CUTOFF = 1000
EPS = 1e-7
#: The Fourier series' spectra (the module docstring), and the one the spec's data set uses.
SPECTRA = ("numpy", "torch", "paper")
DEFAULT_SPECTRUM = "numpy"
#: (samples x units x dims) values per block of the evaluation: bounds its temporaries.
_BLOCK = 1 << 15


class RandmanSamples(NamedTuple):
    """A Randman data set before rasterising, in its shuffled order: steps int64 [N, spikes_per_unit,
    units] (the time step of each spike of each unit), labels int64 [N], coordinates float64 [N, D]
    (each sample's point on its class's manifolds)."""

    steps: np.ndarray
    labels: np.ndarray
    coordinates: np.ndarray


def f_cutoff(alpha: float, prec: float = PREC, max_f_cutoff: int = MAX_F_CUTOFF) -> int:
    """The number of Fourier terms F = min(ceil(prec^(-1/alpha)), max_f_cutoff)."""
    return int(min(math.ceil(prec ** (-1.0 / alpha)), max_f_cutoff))


def spectrum_terms(alpha: float, terms: int, spectrum: str = DEFAULT_SPECTRUM) -> tuple[np.ndarray, np.ndarray]:
    """(harmonic h, weight w) float64 [F] of the terms i = 0 .. F-1 of a random function
    g(x) = sum_i a_i w_i sin(2 pi (h_i x f_i + p_i)) (the module docstring's three spectra):
    "numpy": h_i = i, w_i = (i + 1)^-alpha, w_0 = 0; "torch": h_i = i, w_i = 1 / ((i + 1)^alpha + 1),
    w_0 = 0; "paper": h_i = i + 1, w_i = (i + 1)^-alpha."""
    k = np.arange(1, terms + 1, dtype=np.float64)
    if spectrum == "paper":
        return k, k**-alpha
    if spectrum == "numpy":
        weight = k**-alpha
    elif spectrum == "torch":
        weight = 1.0 / (k**alpha + 1.0)
    else:
        raise ValueError(f"randman: unknown spectrum {spectrum!r} (known: {', '.join(SPECTRA)})")
    weight[0] = 0.0  # the constant term (harmonic 0): the reference's bias, off without use_bias
    return k - 1.0, weight


def random_function_1d(x: np.ndarray, amplitude: np.ndarray, frequency: np.ndarray, phase: np.ndarray,
                       alpha: float, spectrum: str = DEFAULT_SPECTRUM) -> np.ndarray:
    """One random function g(x) = sum_i a_i w_i sin(2 pi (h_i x f_i + p_i)) at the points x, for
    the parameters a, f, p [F] (a plain evaluation with np.sin, term by term)."""
    x = np.asarray(x, dtype=np.float64)
    harmonic, weight = spectrum_terms(alpha, len(amplitude), spectrum)
    out = np.zeros(x.shape)
    for a, f, p, h, w in zip(amplitude, frequency, phase, harmonic, weight):
        out += a * w * np.sin(2 * np.pi * (h * x * f + p))
    return out


def sin_cycles(t: np.ndarray) -> np.ndarray:
    """sin(2 pi t), float64, from numpy's elementwise IEEE operations alone (no libm), so that the
    data set has the same bits on every machine; within 1e-15 of the exact value."""
    t = np.asarray(t, dtype=np.float64)
    out, tmp, acc = np.empty_like(t), np.empty_like(t), np.empty_like(t)
    _sin_cycles(t, out, tmp, acc)
    return out


#: (-1)^k / (2k + 1)!, k = 9 .. 0: sin's Taylor coefficients in theta^2, highest first. The series
#: to theta^19 is within 3e-16 of sin on |theta| <= pi/2.
_SIN_TAYLOR = tuple((-1) ** k / math.factorial(2 * k + 1) for k in range(9, -1, -1))


def _sin_cycles(t: np.ndarray, out: np.ndarray, tmp: np.ndarray, acc: np.ndarray) -> None:
    """out = sin(2 pi t), with tmp and acc arrays of t's shape for scratch (out may be t).

    r = t - rint(t) in [-1/2, 1/2] cycles; s = rint(2 r) in {-1, 0, 1}; r' = r (1 - 2 s^2) + s / 2,
    which is r where s = 0 and s/2 - r otherwise (sin(pi s - 2 pi r) = sin(2 pi r)), so
    |r'| <= 1/4; then the Taylor series at theta = 2 pi r'."""
    np.rint(t, out=tmp)
    np.subtract(t, tmp, out=out)  # r
    np.multiply(out, 2.0, out=tmp)
    np.rint(tmp, out=tmp)  # s
    np.multiply(tmp, tmp, out=acc)
    acc *= -2.0
    acc += 1.0  # 1 - 2 s^2
    out *= acc
    tmp *= 0.5
    out += tmp  # r'
    out *= 2 * np.pi  # theta in [-pi/2, pi/2]
    np.multiply(out, out, out=tmp)  # theta^2
    np.multiply(tmp, _SIN_TAYLOR[0], out=acc)
    for c in _SIN_TAYLOR[1:-1]:
        acc += c
        acc *= tmp
    acc += _SIN_TAYLOR[-1]
    out *= acc


def eval_manifold(x: np.ndarray, params: np.ndarray, alpha: float, spectrum: str = DEFAULT_SPECTRUM) -> np.ndarray:
    """The manifold's values float64 [N, units] at the coordinates x [N, D], for the parameters
    params [units, D, 3, F] (amplitude, frequency, phase per unit, dimension and term): for each
    unit the product over dimensions of random_function_1d, with sin_cycles for the sine."""
    x = np.asarray(x, dtype=np.float64)
    n, dims = x.shape
    units, _, _, terms = params.shape
    harmonic, weight = spectrum_terms(alpha, terms, spectrum)
    # per term, contiguous [F, D, U, 1]: a_i w_i, h_i f_i (cycles per unit of x), p_i
    per_term = np.moveaxis(params, (3, 1, 0), (0, 1, 2))[..., None]  # [F, D, U, 3, 1]
    amp = per_term[:, :, :, 0] * weight[:, None, None, None]
    cycles = per_term[:, :, :, 1] * harmonic[:, None, None, None]
    phase = np.ascontiguousarray(per_term[:, :, :, 2])
    live = np.flatnonzero(weight)  # not the dropped constant term
    out = np.empty((n, units))
    rows = max(64, _BLOCK // (units * dims))
    for lo in range(0, n, rows):
        xs = np.ascontiguousarray(x[lo : lo + rows].T)[:, None, :]  # [D, 1, b]
        shape = (dims, units, xs.shape[2])
        total, buf, tmp, acc = np.zeros(shape), np.empty(shape), np.empty(shape), np.empty(shape)
        for i in live:
            np.multiply(xs, cycles[i], out=buf)
            buf += phase[i]  # h_i x f_i + p_i
            _sin_cycles(buf, buf, tmp, acc)
            buf *= amp[i]
            total += buf
        out[lo : lo + rows] = total.prod(axis=0).T
    return out


def standardise(y: np.ndarray, eps: float = EPS) -> np.ndarray:
    """Each column mapped to [0, 1) over the rows: (y - min) / ((max - min)(1 + eps)), 0 in a
    constant column. The reference's `standardize` divides by (max - min + eps) instead: see the
    module docstring for why the epsilon is relative here."""
    lo = y.min(axis=0)
    span = (y.max(axis=0) - lo) * (1.0 + eps)
    return (y - lo) / np.where(span > 0, span, 1.0)


def manifold_params(rng: np.random.Generator, units: int, dims: int, terms: int) -> np.ndarray:
    """One manifold's parameters [units, D, 3, F]: amplitude, frequency and phase of every term,
    uniform in [0, 1)."""
    return rng.random((units, dims, 3, terms))


def _class_steps(data: m.RandmanData, timesteps: int, channels: int, spectrum: str):
    """For each class c and spike s in turn: (c, s, the class's coordinates [P, D], the steps of
    its samples' s-th spikes int64 [P, units]), P = samples_per_class, samples in generated order."""
    if timesteps < 1 or channels < 1:
        raise ValueError(f"randman: needs timesteps and channels >= 1, not {timesteps} and {channels}")
    terms = f_cutoff(data.alpha)
    scale = timesteps * data.time_fraction
    for c in range(data.num_classes):
        manifolds = np.random.default_rng([data.seed, _RANDMAN, 0, c])
        x = np.random.default_rng([data.seed, _RANDMAN, 1, c]).random((data.samples_per_class, data.manifold_dim))
        for s in range(data.spikes_per_unit):
            params = manifold_params(manifolds, channels, data.manifold_dim, terms)
            values = standardise(eval_manifold(x, params, data.alpha, spectrum))
            yield c, s, x, np.minimum((values * scale).astype(np.int64), timesteps - 1)


def _order(data: m.RandmanData) -> np.ndarray:
    """The shuffle: output position j holds generated sample order[j] (class-major generation)."""
    return np.random.default_rng([data.seed, _RANDMAN, 2]).permutation(data.num_classes * data.samples_per_class)


def _labels(data: m.RandmanData) -> np.ndarray:
    return np.repeat(np.arange(data.num_classes, dtype=np.int64), data.samples_per_class)


def randman_samples(data: m.RandmanData, timesteps: int, channels: int,
                    spectrum: str = DEFAULT_SPECTRUM) -> RandmanSamples:
    """Every sample's spike steps, label and manifold coordinates, in randman's order (see the
    module docstring)."""
    per_class = data.samples_per_class
    n = data.num_classes * per_class
    steps = np.empty((n, data.spikes_per_unit, channels), dtype=np.int64)
    coordinates = np.empty((n, data.manifold_dim))
    for c, s, x, block in _class_steps(data, timesteps, channels, spectrum):
        coordinates[c * per_class : (c + 1) * per_class] = x
        steps[c * per_class : (c + 1) * per_class, s] = block
    order = _order(data)
    return RandmanSamples(steps[order], _labels(data)[order], coordinates[order])


def randman(data: m.RandmanData, timesteps: int, channels: int,
            spectrum: str = DEFAULT_SPECTRUM) -> tuple[np.ndarray, np.ndarray]:
    """The Randman data set: (spikes uint8 0/1 [N, timesteps, channels], labels int64 [N]), N =
    num_classes x samples_per_class, balanced labels in a seeded shuffled order; channels is the
    input population's size (the reference's nb_units). Spikes of one unit in one step are one
    spike. Written class by class into the raster: besides it, memory holds one class's values."""
    per_class = data.samples_per_class
    order = _order(data)
    position = np.empty_like(order)
    position[order] = np.arange(len(order))  # where each generated sample goes
    spikes = np.zeros((len(order), timesteps, channels), dtype=np.uint8)
    flat = spikes.reshape(-1)
    unit = np.arange(channels, dtype=np.int64)
    for c, _, _, block in _class_steps(data, timesteps, channels, spectrum):
        rows = position[c * per_class : (c + 1) * per_class].astype(np.int64) * timesteps
        block += rows[:, None]
        block *= channels
        block += unit
        flat[block.reshape(-1)] = 1
    return spikes, _labels(data)[order]
