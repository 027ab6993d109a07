// Copyright (c) 2024 snncc authors. SPDX-License-Identifier: Apache-2.0
// Replicas over MPI: replica r is rank r of MPI_COMM_WORLD, whose size must be
// the replication factor (mpirun -n R). The sum gathers every rank's data and
// adds it in rank order, so all ranks hold the same bits (MPI_Allreduce leaves
// the order of its additions to the implementation).
#include <mpi.h>

#include <algorithm>
#include <string>
#include <vector>

#include <poplar/exceptions.hpp>

#include "collective.hpp"

namespace snncc {
namespace host {
namespace {

// MPI is initialised once per process and finalised at exit (a rank that ends
// without MPI_Finalize is reported as failed by mpirun).
struct MpiSession {
  MpiSession() {
    int ready = 0;
    MPI_Initialized(&ready);
    if (!ready) {
      int provided = 0;
      MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided);
      owned = true;
    }
  }
  ~MpiSession() {
    int done = 0;
    MPI_Finalized(&done);
    if (owned && !done)
      MPI_Finalize();
  }
  bool owned = false;
};

class MpiReplicas : public ReplicaGroup {
public:
  MpiReplicas(unsigned replicas, unsigned rank) : replicas_(replicas), rank_(rank) {}
  unsigned replica() const override { return rank_; }
  void sum(float *data, std::size_t n) override {
    // counts are ints in MPI: large tensors go in pieces
    constexpr std::size_t kPiece = std::size_t(1) << 28;
    for (std::size_t lo = 0; lo < n; lo += kPiece) {
      const int m = int(std::min(kPiece, n - lo));
      piece_.resize(std::size_t(m) * replicas_);
      MPI_Allgather(data + lo, m, MPI_FLOAT, piece_.data(), m, MPI_FLOAT, MPI_COMM_WORLD);
      for (int i = 0; i < m; ++i) {
        float s = piece_[i];
        for (unsigned r = 1; r < replicas_; ++r)
          s += piece_[std::size_t(r) * m + i];
        data[lo + i] = s;
      }
    }
  }

private:
  unsigned replicas_, rank_;
  std::vector<float> piece_;
};

} // namespace

std::unique_ptr<ReplicaGroup> joinReplicas(unsigned replicas) {
  static MpiSession session;
  int size = 1, rank = 0;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  if (unsigned(size) != replicas)
    throw poplar::poplar_error("replication factor " + std::to_string(replicas) +
                               " runs one replica per MPI process, but this job has " + std::to_string(size) +
                               (size == 1 ? " (start it with mpirun -n " + std::to_string(replicas) + ")"
                                          : " processes (start it with mpirun -n " + std::to_string(replicas) + ")"));
  return std::make_unique<MpiReplicas>(replicas, unsigned(rank));
}

} // namespace host
} // namespace snncc
