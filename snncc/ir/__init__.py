"""The graph IR (networkx) built from a validated spec, and its passes."""

from ..machine import collection_paused
from ..spec.models import ModelSpec
from .graph import GivenArray, ModelGraph, PerNeuron, Population, Projection, Shapes, TrainingSettings, build_graph
from .passes import DEFAULT_PASSES, InferShapes, IRError, Schedule, run_passes, verify


def spec_to_ir(spec: ModelSpec, check: bool = False) -> ModelGraph:
    """Build the IR of a validated spec and run the default passes."""
    with collection_paused():
        return run_passes(build_graph(spec), DEFAULT_PASSES, check=check)


__all__ = [
    "DEFAULT_PASSES", "GivenArray", "IRError", "InferShapes", "PerNeuron", "ModelGraph", "Population",
    "Projection", "Schedule", "Shapes", "TrainingSettings", "build_graph", "run_passes", "spec_to_ir", "verify",
]
