// Copyright (c) 2024 snncc authors. SPDX-License-Identifier: Apache-2.0
// The part of the Graphcore Communication Library (GCL) that snncc's programs
// use: summing a tensor over the replicas of a replicated graph. On the host
// runtime each replica is one process of an MPI job (mpirun -n R, as PopRun
// starts one instance per replica), and the all-reduce is an exchange of every
// rank's data followed by a sum in rank order, so that every rank gets the
// same bits whatever MPI's own reduction order would be.
#ifndef snncc_gcl_Collectives_hpp
#define snncc_gcl_Collectives_hpp

#include <vector>

#include <poplar/DebugContext.hpp>
#include <poplar/Graph.hpp>
#include <poplar/OptionFlags.hpp>
#include <poplar/Program.hpp>
#include <poplar/Tensor.hpp>

namespace gcl {

/// How the replicas' values are combined. The host runtime implements ADD and
/// MEAN (the sum divided by the replication factor) on float tensors.
enum class CollectiveOperator {
  ADD,
  MEAN,
  MUL,
  MIN,
  MAX,
  LOGICAL_AND,
  LOGICAL_OR,
  SQUARE_ADD,
  LOCAL,
};

/// Append to prog: data becomes op over every replica's data, in place.
void allReduceInPlaceCrossReplica(poplar::Graph &graph, poplar::Tensor &data, CollectiveOperator op,
                                  poplar::program::Sequence &prog,
                                  const poplar::DebugContext &debugContext = {},
                                  const poplar::OptionFlags &options = {});

/// The same for several tensors (one collective per tensor, in order).
void allReduceInPlaceCrossReplica(poplar::Graph &graph, std::vector<poplar::Tensor> &datas,
                                  CollectiveOperator op, poplar::program::Sequence &prog,
                                  const poplar::DebugContext &debugContext = {},
                                  const poplar::OptionFlags &options = {});

} // namespace gcl

#endif // snncc_gcl_Collectives_hpp
