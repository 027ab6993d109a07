// Copyright (c) 2024 snncc authors. SPDX-License-Identifier: Apache-2.0
// gcl::allReduceInPlaceCrossReplica: an AllReduce node in the program tree,
// executed by the engine over its replica group (collective.hpp).
#include <gcl/Collectives.hpp>
#include <poplar/exceptions.hpp>

#include "internal.hpp"

namespace gcl {
using snncc::host::ProgramAccess;
using snncc::host::ProgramNode;

void allReduceInPlaceCrossReplica(poplar::Graph &, poplar::Tensor &data, CollectiveOperator op,
                                  poplar::program::Sequence &prog, const poplar::DebugContext &,
                                  const poplar::OptionFlags &) {
  if (op != CollectiveOperator::ADD && op != CollectiveOperator::MEAN)
    throw poplar::poplar_error("gcl::allReduceInPlaceCrossReplica: the snncc host runtime implements "
                               "CollectiveOperator ADD and MEAN only");
  if (!data.valid() || data.elementType() != poplar::FLOAT)
    throw poplar::poplar_error("gcl::allReduceInPlaceCrossReplica: the data must be a float tensor");
  poplar::program::Program p;
  auto n = std::make_shared<ProgramNode>();
  n->kind = ProgramNode::AllReduce;
  n->count = static_cast<unsigned>(op);
  n->a = data;
  ProgramAccess::node(p) = n;
  prog.add(p);
}

void allReduceInPlaceCrossReplica(poplar::Graph &graph, std::vector<poplar::Tensor> &datas,
                                  CollectiveOperator op, poplar::program::Sequence &prog,
                                  const poplar::DebugContext &debugContext,
                                  const poplar::OptionFlags &options) {
  for (poplar::Tensor &t : datas)
    allReduceInPlaceCrossReplica(graph, t, op, prog, debugContext, options);
}

} // namespace gcl
