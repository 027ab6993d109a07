"""Pydantic models of model.json: the single source of the format and its JSON Schema.

Every field carries a description (with units) and a default where one makes sense,
so that the generated schema documents the format inside an editor. Checks that
involve one value live here as schema constraints (the editor shows them too);
checks across fields live in `snncc.spec.semantic`.
"""

from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Discriminator, Field, PrivateAttr, Tag

#: Ids become C++ identifiers, file names and command arguments downstream.
ID_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]{0,63}$"

Identifier = Annotated[
    str,
    Field(
        pattern=ID_PATTERN,
        description="An identifier: a letter or underscore, then up to 63 letters, "
        "digits or underscores. It names C++ symbols and files, so nothing else is allowed.",
    ),
]
Fraction = Annotated[float, Field(ge=0.0, le=1.0)]


class SpecModel(BaseModel):
    """Base of every spec model: strict types, unknown keys rejected, immutable."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


#: Names of arrays in the model's arrays file (.npz keys).
ARRAY_NAME_PATTERN = r"^[A-Za-z0-9_.\-]{1,128}$"


class ArrayRef(SpecModel):
    """A named array of the model's arrays file (the top-level "arrays", an .npz): per-neuron
    parameters ([population size]) or given weights ([source size, target size]) and biases
    ([target size]). snncc import-nir writes such files."""

    array: str = Field(
        pattern=ARRAY_NAME_PATTERN,
        description="Name of the array in the arrays file (letters, digits, '_', '.', '-').",
    )


#: Union tags of a value that is a number or an ArrayRef (they are not in the document).
VALUE_TAGS = ("number", "array_ref")


def _number_or_ref(value) -> str:
    return "array_ref" if isinstance(value, (dict, ArrayRef)) else "number"


def _or_array(number_type, what: str):
    """A number, or an ArrayRef to one value per neuron."""
    return Annotated[
        Union[Annotated[number_type, Tag("number")], Annotated[ArrayRef, Tag("array_ref")]],
        Discriminator(_number_or_ref),
        Field(description=f"{what}: one number for every neuron, or {{\"array\": NAME}}, one value per "
              "neuron from the arrays file."),
    ]


FractionOrArray = _or_array(Fraction, "A value in [0, 1]")
PositiveOrArray = _or_array(Annotated[float, Field(gt=0.0)], "A value > 0")


# --------------------------------------------------------------------------- neurons


class _Spiking(SpecModel):
    threshold: PositiveOrArray = Field(
        1.0,
        description="Firing threshold theta (dimensionless), > 0. A neuron spikes when U - theta > 0. "
        "One number, or {\"array\": NAME} for one threshold per neuron (from the arrays file).",
    )
    reset: Literal["subtract", "zero", "zero_updated", "none"] = Field(
        "subtract",
        description="Reset after a spike, driven by the previous step's spike R[t] = [U[t-1] > theta] and "
        "detached from the gradient (snnTorch's convention). 'subtract': U[t] = beta U[t-1] + I[t] - R[t] theta; "
        "'zero': the previous membrane is zeroed, the new input kept, U[t] = beta (1 - R[t]) U[t-1] + I[t] "
        "(snnTorch Leaky, NIR v_reset = 0); 'zero_updated': the whole updated membrane is zeroed, input "
        "included, U[t] = (1 - R[t]) (beta U[t-1] + I[t]) (what snnTorch's Synaptic and RLeaky do for "
        "reset_mechanism='zero'; NIR cannot express it); 'none': no reset.",
    )


class _Leak(SpecModel):
    beta: FractionOrArray | None = Field(
        None,
        description="Membrane decay factor per timestep, in [0, 1]: U[t] = beta U[t-1] + I[t]. "
        "One number, or {\"array\": NAME} for one value per neuron (from the arrays file). "
        "Give either beta or tau_mem.",
    )
    tau_mem: float | None = Field(
        None,
        gt=0.0,
        description="Membrane time constant in seconds; needs the model's dt and maps to beta by its "
        "discretisation. Give either beta or tau_mem.",
    )


class LIF(_Leak, _Spiking):
    """Leaky integrate-and-fire (snnTorch Leaky, NIR LIF).

    U[t] = beta U[t-1] + I[t] - R[t] theta;  S[t] = [U[t] - theta > 0];  R[t] = S[t-1] (subtract reset).
    """

    model: Literal["lif"] = Field(description="Neuron model: leaky integrate-and-fire.")


class CubaLIF(_Leak, _Spiking):
    """Current-based LIF (snnTorch Synaptic, NIR CubaLIF).

    Isyn[t] = alpha Isyn[t-1] + I[t];  U[t] = beta U[t-1] + Isyn[t] - R[t] theta;  S[t] = [U[t] - theta > 0].
    """

    model: Literal["cuba_lif"] = Field(description="Neuron model: current-based leaky integrate-and-fire.")
    alpha: FractionOrArray | None = Field(
        None,
        description="Synaptic current decay factor per timestep, in [0, 1]. One number, or "
        "{\"array\": NAME} for one value per neuron (from the arrays file). Give either alpha or tau_syn.",
    )
    tau_syn: float | None = Field(
        None,
        gt=0.0,
        description="Synaptic time constant in seconds; needs the model's dt. Give either alpha or tau_syn.",
    )


class IF(_Spiking):
    """Integrate-and-fire: LIF with beta = 1.

    U[t] = U[t-1] + I[t] - R[t] theta;  S[t] = [U[t] - theta > 0].
    """

    model: Literal["if"] = Field(description="Neuron model: integrate-and-fire (no leak).")


class LI(_Leak):
    """Leaky integrator, a readout without spikes (NIR LI).

    U[t] = beta U[t-1] + I[t]. It never spikes, so it cannot be a projection source.
    """

    model: Literal["li"] = Field(description="Neuron model: leaky integrator (membrane readout, no spikes).")


Neuron = Annotated[Union[LIF, CubaLIF, IF, LI], Field(discriminator="model")]


# --------------------------------------------------------------------------- populations


class Sparsity(SpecModel):
    """Capacity of the spike-id list a population emits per sample and timestep.

    Spikes travel between tiles as fixed-capacity id lists. The capacity is max_spikes,
    or ceil(max_activity x size); with neither, it is the population size (dense, never
    overflows). Input populations need it too: their lists are what the first layer reads.
    """

    max_activity: float | None = Field(
        None,
        gt=0.0,
        le=1.0,
        description="Expected largest fraction of the population that spikes in one timestep of one sample; "
        "the list capacity is ceil(max_activity x size). Give at most one of max_activity and max_spikes.",
    )
    max_spikes: int | None = Field(
        None,
        ge=1,
        description="Capacity of the spike-id list per sample and timestep, in neurons (at most the "
        "population size). Give at most one of max_activity and max_spikes.",
    )
    gradient_threshold: float | None = Field(
        None,
        gt=0.0,
        le=1.0,
        description="Second, lower threshold as a fraction of theta (typically 0.9): only neurons whose "
        "membrane reaches it get a surrogate gradient, so the backward pass is sparse too. Absent means "
        "every neuron gets a surrogate gradient (dense backward). Spiking neuron populations only.",
    )
    overflow: Literal["drop", "error"] = Field(
        "drop",
        description="What happens when more neurons spike than the capacity: 'drop' keeps the "
        "lowest-index spikes and counts the rest (reported per population), 'error' stops the run.",
    )


class InputPopulation(SpecModel):
    """Where the data enters: one spike per neuron per timestep, from the data source."""

    kind: Literal["input"] = Field(description="Population kind: input spikes from the data source.")
    id: Identifier = Field(description="Unique population id (an identifier).")
    size: int = Field(ge=1, le=1 << 24, description="Number of input channels (neurons).")
    sparsity: Sparsity = Field(
        default_factory=Sparsity, description="Capacity of this population's spike-id list."
    )
    description: str | None = Field(None, description="Free text for humans.")


class NeuronPopulation(SpecModel):
    """A population of identical neurons updated every timestep."""

    kind: Literal["neuron"] = Field(description="Population kind: simulated neurons.")
    id: Identifier = Field(description="Unique population id (an identifier).")
    size: int = Field(ge=1, le=1 << 24, description="Number of neurons.")
    neuron: Neuron = Field(description="The neuron model and its parameters.")
    sparsity: Sparsity = Field(
        default_factory=Sparsity, description="Capacity of this population's spike-id list, second threshold."
    )
    description: str | None = Field(None, description="Free text for humans.")


Population = Annotated[Union[InputPopulation, NeuronPopulation], Field(discriminator="kind")]


# --------------------------------------------------------------------------- projections


class Dense(SpecModel):
    kind: Literal["dense"] = Field(description="All-to-all connectivity.")


class Sparse(SpecModel):
    """A fixed random mask drawn once from the seed; masked weights stay zero in training."""

    kind: Literal["sparse"] = Field(description="Fixed random connectivity.")
    fan_in: int | None = Field(
        None, ge=1, description="Exactly this many inputs per target neuron. Give fan_in or probability."
    )
    probability: float | None = Field(
        None, gt=0.0, le=1.0, description="Each connection exists with this probability. Give fan_in or probability."
    )
    seed: int = Field(0, ge=0, description="Seed of the connectivity mask.")


Connectivity = Annotated[Union[Dense, Sparse], Field(discriminator="kind")]


class WeightInit(SpecModel):
    """Initial weights, scaled by the fan-in (the number of inputs per target neuron).

    uniform: U(-a, a) with a = scale / sqrt(fan_in); scale = 1 is torch.nn.Linear's default.
    normal: N(0, (scale / sqrt(fan_in))^2). Biases, when present, start at U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
    """

    distribution: Literal["uniform", "normal"] = Field("uniform", description="Distribution of initial weights.")
    scale: float = Field(1.0, gt=0.0, description="Gain applied to 1/sqrt(fan_in).")


class Projection(SpecModel):
    """Weighted connections from a source population to a target population."""

    id: Identifier = Field(description="Unique projection id (an identifier, distinct from population ids).")
    source: Identifier = Field(description="Id of the population whose spikes are read.")
    target: Identifier = Field(description="Id of the neuron population that receives the current.")
    connectivity: Connectivity = Field(default_factory=lambda: Dense(kind="dense"), description="Which connections exist.")
    weight_init: WeightInit = Field(default_factory=WeightInit, description="Initial weight distribution.")
    bias: bool = Field(True, description="Whether the projection adds a trainable bias current per target neuron.")
    initial_weights: ArrayRef | None = Field(
        None,
        description="Given initial weights: an array [source size, target size] of the arrays file "
        "(row i holds source neuron i's outgoing weights), used instead of weight_init. Dense connectivity only.",
    )
    initial_bias: ArrayRef | None = Field(
        None,
        description="Given initial bias: an array [target size] of the arrays file, used instead of the "
        "random bias. Needs bias true.",
    )
    delay: int | None = Field(
        None,
        ge=0,
        description="Delay in whole timesteps: the target at t sees the source's spikes of t - delay (none "
        "before t = delay). 0 (the default) is snnTorch's same-step semantics; a recurrent projection (a "
        "self-loop or one that closes a cycle) needs delay >= 1 and defaults to 1. Delay-1 projections let "
        "layers update in the same superstep, pipelined in time.",
    )
    description: str | None = Field(None, description="Free text for humans.")


# --------------------------------------------------------------------------- readout and training


class Readout(SpecModel):
    population: Identifier = Field(description="Id of the neuron population whose activity is the output.")
    decoding: Literal["spike_count", "membrane_sum", "membrane_max"] = Field(
        "spike_count",
        description="How the output becomes class scores: spikes summed over time, membrane summed over "
        "time, or the membrane's maximum over time.",
    )


class CrossEntropy(SpecModel):
    kind: Literal["cross_entropy"] = Field(description="Cross-entropy of softmax(decoded readout) and the label.")


class MSECount(SpecModel):
    """Mean squared error between spike counts and target counts (snnTorch mse_count_loss)."""

    kind: Literal["mse_count"] = Field(description="MSE on spike counts against target firing rates.")
    correct_rate: Fraction = Field(0.8, description="Target fraction of timesteps the correct class neuron fires.")
    incorrect_rate: Fraction = Field(0.2, description="Target fraction of timesteps every other class neuron fires.")


Loss = Annotated[Union[CrossEntropy, MSECount], Field(discriminator="kind")]


class Adam(SpecModel):
    kind: Literal["adam"] = Field(description="Adam (torch.optim.Adam semantics).")
    lr: float = Field(1e-3, gt=0.0, description="Learning rate.")
    betas: tuple[Annotated[float, Field(ge=0.0, lt=1.0)], Annotated[float, Field(ge=0.0, lt=1.0)]] = Field(
        (0.9, 0.999), description="Decay rates of the first and second moment estimates."
    )
    eps: float = Field(1e-8, gt=0.0, description="Added to the denominator for numerical stability.")


class SGD(SpecModel):
    kind: Literal["sgd"] = Field(description="Stochastic gradient descent (torch.optim.SGD semantics).")
    lr: float = Field(1e-2, gt=0.0, description="Learning rate.")
    momentum: float = Field(0.0, ge=0.0, lt=1.0, description="Momentum factor (0 disables it).")


Optimizer = Annotated[Union[Adam, SGD], Field(discriminator="kind")]


class FastSigmoid(SpecModel):
    """SuperSpike: dS/dx = 1 / (k |x| + 1)^2 with x = U - theta."""

    kind: Literal["fast_sigmoid"] = Field(description="Fast sigmoid (SuperSpike) surrogate.")
    slope: float = Field(25.0, gt=0.0, description="Slope k (snnTorch 25, Norse 100, the IPU paper 10).")


class Atan(SpecModel):
    """dS/dx = (alpha/2) / (1 + (pi/2 alpha x)^2) with x = U - theta (snnTorch's default)."""

    kind: Literal["atan"] = Field(description="Arctangent surrogate.")
    alpha: float = Field(2.0, gt=0.0, description="Sharpness alpha.")


class Sigmoid(SpecModel):
    """dS/dx = k e^(-kx) / (1 + e^(-kx))^2 with x = U - theta."""

    kind: Literal["sigmoid"] = Field(description="Logistic sigmoid surrogate.")
    slope: float = Field(25.0, gt=0.0, description="Slope k.")


class Triangle(SpecModel):
    """dS/dx = max(0, 1 - |x|/w) / w with x = U - theta."""

    kind: Literal["triangle"] = Field(description="Triangular surrogate.")
    width: float = Field(1.0, gt=0.0, description="Half-width w of the triangle (its area is 1).")


class Boxcar(SpecModel):
    """dS/dx = 1/(2w) where |x| < w, else 0, with x = U - theta."""

    kind: Literal["boxcar"] = Field(description="Rectangular surrogate.")
    width: float = Field(0.5, gt=0.0, description="Half-width w of the box (its area is 1).")


Surrogate = Annotated[Union[FastSigmoid, Atan, Sigmoid, Triangle, Boxcar], Field(discriminator="kind")]


class Training(SpecModel):
    loss: Loss = Field(default_factory=lambda: CrossEntropy(kind="cross_entropy"), description="Loss on the decoded readout.")
    optimizer: Optimizer = Field(default_factory=lambda: Adam(kind="adam"), description="Optimizer and its hyper-parameters.")
    batch_size: int = Field(32, ge=1, le=1 << 16, description="Samples per training step (over all replicas).")
    epochs: int = Field(10, ge=1, le=100000, description="Passes over the training split.")
    surrogate: Surrogate = Field(default_factory=lambda: FastSigmoid(kind="fast_sigmoid"), description="Surrogate gradient of the spike step.")
    seed: int = Field(0, ge=0, description="Seed of weight initialisation and batch order.")
    precision: Literal["float32", "float16"] = Field(
        "float32", description="Arithmetic precision of states, weights and gradients."
    )


# --------------------------------------------------------------------------- data


class RateEncoding(SpecModel):
    """Each pixel spikes at each timestep with probability gain x intensity (intensity scaled to [0, 1])."""

    kind: Literal["rate"] = Field(description="Bernoulli rate coding (snntorch.spikegen.rate).")
    gain: float = Field(1.0, gt=0.0, description="Multiplier of the spike probability (clipped to 1).")


class LatencyEncoding(SpecModel):
    """Each pixel spikes once; brighter pixels spike earlier, linearly over the timesteps."""

    kind: Literal["latency"] = Field(description="Time-to-first-spike coding, linear in intensity.")
    threshold: Fraction = Field(
        0.01, description="Intensities below this fraction of the maximum never spike."
    )


Encoding = Annotated[Union[RateEncoding, LatencyEncoding], Field(discriminator="kind")]


class _Split(SpecModel):
    test_fraction: float = Field(0.25, gt=0.0, lt=1.0, description="Fraction of samples held out for testing.")
    seed: int = Field(0, ge=0, description="Seed of the split, the encoding and the generated data.")


class DigitsData(_Split):
    """scikit-learn's 8x8 handwritten digits (1797 samples, 64 inputs, 10 classes), spike-encoded."""

    kind: Literal["digits"] = Field(description="scikit-learn's 8x8 digits data set.")
    encoding: Encoding = Field(default_factory=lambda: RateEncoding(kind="rate"), description="How pixel intensities become spikes.")


class SyntheticData(_Split):
    """Class-conditional Poisson spike patterns: each class has its own random per-channel rate profile."""

    kind: Literal["synthetic"] = Field(description="Generated class-conditional Poisson spike trains.")
    num_classes: int = Field(10, ge=2, description="Number of classes (the readout size).")
    num_samples: int = Field(1000, ge=2, description="Total samples, before the test split.")
    spikes_per_step: float = Field(
        10.0, gt=0.0, description="Expected number of input spikes per sample and timestep over all channels."
    )


class NpzData(_Split):
    """A user's .npz file: `spikes` [N, T, inputs] (bool or 0/1), or an event list `events` [E, 3]
    of (sample, timestep, channel), and `labels` [N] as integers from 0."""

    kind: Literal["npz"] = Field(description="Spikes and labels from a NumPy .npz file.")
    path: str = Field(
        min_length=1, description="Path of the .npz file, relative to the model file's directory."
    )


class _Binning(SpecModel):
    """How event times become T timesteps: an event at time t (seconds from the sample's start)
    falls into timestep floor(t / bin_width); events at or after T x bin_width are dropped, and
    a channel that fires twice within one bin spikes once."""

    bin_width: float | None = Field(
        None, gt=0.0, description="Seconds per timestep. Default: the model's dt when it gives one, else "
        "duration / timesteps. Give at most one of bin_width and duration.")
    duration: float | None = Field(
        None, gt=0.0, description="Seconds of each recording that the timesteps cover (bin_width = duration / "
        "timesteps); later events are dropped. Default when neither this, bin_width nor the model's dt is given: "
        "1.4 s (SHD's and SSC's longest recordings).")
    downsample: int = Field(
        1, ge=1, le=1024, description="Input down-sampling factor: audio channels c -> c // downsample (SHD, SSC: "
        "700 -> 350 with 2), sensor pixels (x, y) -> (x // downsample, y // downsample) (N-MNIST, DVS Gesture). "
        "The input population's size must equal the result.")


class HeidelbergData(_Binning):
    """The Spiking Heidelberg Digits (SHD: 20 classes, 8,156 training and 2,264 test samples) or the
    Spiking Speech Commands (SSC: 35 classes, train/valid/test) from their published HDF5 files
    (`spikes/times` in seconds, `spikes/units` 0-699, `labels`), with the files' own train/test split.
    The files are read in chunks and kept as binned events, never as a dense [N, T, 700] array."""

    kind: Literal["shd", "ssc"] = Field(description="Which of the Heidelberg spiking data sets.")
    path: str = Field(
        min_length=1, description="Directory holding the uncompressed files under their published names "
        "(shd_train.h5 and shd_test.h5; ssc_train.h5, ssc_valid.h5 and ssc_test.h5), relative to the model "
        "file's directory.")
    test_split: Literal["test", "valid"] = Field(
        "test", description="The file evaluated after each epoch: 'test', or SSC's 'valid'.")


class TonicData(_Binning):
    """A data set already on disk in tonic's layout (`pip install tonic`; it is what
    `tonic.datasets.<NAME>(save_to=path, train=...)` reads), binned with tonic's own transforms;
    polarity and the sensor's x and y are flattened into the input population
    (index = (p x height + y) x width + x). Nothing is downloaded: a missing data set is an error
    naming where tonic expects it."""

    kind: Literal["tonic"] = Field(description="A tonic data set.")
    dataset: Literal["SHD", "SSC", "NMNIST", "DVSGesture"] = Field(description="The tonic data set class.")
    path: str = Field(
        min_length=1, description="tonic's save_to directory, relative to the model file's directory.")
    test_split: Literal["test", "valid"] = Field(
        "test", description="The split evaluated after each epoch: 'test', or SSC's 'valid'.")


class RandmanData(_Split):
    """The random manifold spike-timing task of Zenke and Vogels (2021): each class is a smooth
    random manifold of dimension manifold_dim embedded in the input units' spike times; every
    input unit spikes spikes_per_unit times per sample. Generated from the seed; no download."""

    kind: Literal["randman"] = Field(description="Generated random-manifold spike-timing data.")
    num_classes: int = Field(10, ge=2, le=1000, description="Number of classes (the readout size).")
    samples_per_class: int = Field(1000, ge=1, le=1_000_000, description="Samples drawn per class, before the test split.")
    manifold_dim: int = Field(1, ge=1, le=16, description="Intrinsic dimension D of each class's manifold.")
    alpha: float = Field(
        2.0, gt=0.0, le=16.0, description="Smoothness: the manifold's Fourier amplitudes fall as 1/k^alpha.")
    spikes_per_unit: int = Field(1, ge=1, le=64, description="Spikes of each input unit per sample.")
    time_fraction: float = Field(
        1.0, gt=0.0, le=1.0, description="Fraction of the timesteps the spike times spread over (from the first).")


Data = Annotated[Union[DigitsData, SyntheticData, NpzData, HeidelbergData, TonicData, RandmanData],
                 Field(discriminator="kind")]


# --------------------------------------------------------------------------- target


class IPUTarget(SpecModel):
    """The IPU system to plan for. The host runtime emulates it, possibly with fewer tiles."""

    kind: Literal["ipu"] = Field("ipu", description="Target kind.")
    arch: Literal["ipu2", "ipu21"] = Field("ipu2", description="Poplar target name: ipu2 (GC200, Bow) or ipu21 (C600).")
    num_ipus: int = Field(1, ge=1, le=1024, description="IPUs the model is partitioned over.")
    tiles_per_ipu: int = Field(1472, ge=1, le=1472, description="Tiles per IPU.")
    bytes_per_tile: int = Field(
        638976, ge=1024, description="Memory per tile in bytes (624 KiB on GC200 and Bow)."
    )
    workers_per_tile: int = Field(6, ge=1, le=16, description="Worker threads per tile.")
    min_neurons_per_tile: int = Field(
        1, ge=1, description="The fewest neurons of a population on one tile, unless its memory needs more "
        "tiles: a population of N neurons is spread over at most ceil(N / this) tiles. 1 on an IPU, "
        "where more tiles are faster; the host backend's CPU-shaped target uses 64, since there each "
        "tile costs a vertex call and a share of every input-gradient reduction.")
    clock_hz: float = Field(1.33e9, gt=0.0, description="Tile clock in Hz (GC200 about 1.33 GHz, Bow 1.85 GHz).")
    replication_factor: int = Field(
        1, ge=1, description="Data-parallel replicas, each with num_ipus IPUs; the batch is split over them."
    )


# --------------------------------------------------------------------------- the model


class ModelSpec(SpecModel):
    """An snncc model: a spiking network and how to train it."""

    model_config = ConfigDict(populate_by_name=True, title="snncc model")

    schema_: str | None = Field(
        None,
        alias="$schema",
        description="The JSON Schema this file follows; editors use it to check the file.",
    )
    name: Identifier = Field(description="Model name (an identifier); names the generated program.")
    description: str | None = Field(None, description="Free text for humans.")
    timesteps: int = Field(ge=1, le=100000, description="Timesteps T per sample.")
    dt: float | None = Field(
        None,
        gt=0.0,
        description="Timestep in seconds. Needed only when a neuron gives time constants (tau_mem, tau_syn).",
    )
    discretisation: Literal["euler", "exact"] = Field(
        "euler",
        description="How a time constant becomes a decay factor: 'euler' beta = 1 - dt/tau (what snnTorch's "
        "and Norse's NIR conversions assume), 'exact' beta = exp(-dt/tau).",
    )
    arrays: str | None = Field(
        None,
        min_length=1,
        description="Path of a NumPy .npz file, relative to the model file's directory, holding the named "
        "arrays that {\"array\": NAME} values refer to (per-neuron parameters, given weights and biases). "
        "snncc import-nir writes one beside the model.",
    )
    populations: list[Population] = Field(min_length=1, description="The neuron populations, inputs included.")
    projections: list[Projection] = Field(
        default_factory=list, description="The weighted connections between populations."
    )
    readout: Readout = Field(description="Which population is the output and how it is decoded.")
    training: Training = Field(default_factory=Training, description="Loss, optimizer and training settings.")
    data: Data = Field(description="Where the spikes and labels come from.")
    target: IPUTarget = Field(default_factory=IPUTarget, description="The hardware to plan for.")

    #: The arrays file's arrays by name (read-only numpy arrays), set by parse_spec/load_spec
    #: once they passed the checks (snncc.spec.arrays); None when the spec has no "arrays".
    _arrays: dict | None = PrivateAttr(None)
