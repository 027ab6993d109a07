// Copyright (c) 2024 snncc authors. SPDX-License-Identifier: Apache-2.0
// The replica group an engine of a replicated graph belongs to: one replica per
// process of an MPI job. collective_mpi.cpp implements it over MPI;
// collective_none.cpp, built when CMake finds no MPI, refuses replication.
#ifndef snncc_host_collective_hpp
#define snncc_host_collective_hpp

#include <cstddef>
#include <memory>

namespace snncc {
namespace host {

class ReplicaGroup {
public:
  virtual ~ReplicaGroup() = default;
  virtual unsigned replica() const = 0;
  /// data[0..n) becomes the sum over the replicas, added in replica order
  /// (the same bits on every replica).
  virtual void sum(float *data, std::size_t n) = 0;
};

/// The group of `replicas` processes this one belongs to; throws
/// poplar::poplar_error (one line: what to do) when there is none.
std::unique_ptr<ReplicaGroup> joinReplicas(unsigned replicas);

} // namespace host
} // namespace snncc

#endif
