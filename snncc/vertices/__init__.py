"""The generated program's vocabulary, shared by partition, lower and codegen: the records
of populations and projections (facts), the tensors and vertex families with their fields
(decls), and the compute-set steps of one training step (steps)."""

from .decls import (
    BIAS_NAMES, CONSTANT_BYTES, DTYPE_BYTES, ELEMENT_BYTES, FIELD_BYTES, DType, Field, Layout, TensorDecl, VertexDecl,
    backward_vertex, compact_vertex, forward_vertex, generic_vertices, global_tensors, list_slot_vertex, loss_vertex,
    neuron_parameters, network_weights, optimizer_vertices, population_tensors, projection_tensors, reduce_sum_vertex,
    reduce_vertex, state_type, tick_vertex, weightgrad_vertex,
)
from .facts import (
    PopulationFacts, ProjectionFacts, counts_spikes, model_facts, optimizer_family, population_facts, projection_facts,
    ring_slots, state_copies,
)
from .steps import ComputeSetSpec, backward_steps, forward_steps, loss_step, update_step

__all__ = [
    "BIAS_NAMES", "CONSTANT_BYTES", "ComputeSetSpec", "DTYPE_BYTES", "DType", "ELEMENT_BYTES", "FIELD_BYTES", "Field",
    "Layout", "PopulationFacts", "ProjectionFacts", "TensorDecl", "VertexDecl", "backward_steps", "backward_vertex",
    "compact_vertex", "counts_spikes", "forward_steps", "forward_vertex", "generic_vertices", "global_tensors",
    "list_slot_vertex", "loss_step", "loss_vertex", "model_facts", "network_weights", "neuron_parameters",
    "optimizer_family", "optimizer_vertices", "population_facts", "population_tensors", "projection_facts", "projection_tensors",
    "reduce_sum_vertex", "reduce_vertex", "ring_slots", "state_copies", "state_type", "tick_vertex",
    "update_step", "weightgrad_vertex",
]
