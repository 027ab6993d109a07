// Copyright (c) 2024 snncc authors. SPDX-License-Identifier: Apache-2.0
/// \file runtime_report.hpp
/// What the host runtime measured: memory per tile (per tensor debug name,
/// vertex state and receive buffers) and exchange per compute set. Outside namespace poplar:
/// generated programs need not call it, since setting the environment
/// variable SNNCC_RUNTIME_REPORT=path makes every Engine write this report as
/// JSON when it is destroyed (and when it fails with out-of-memory).
#ifndef snncc_runtime_report_hpp
#define snncc_runtime_report_hpp

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <poplar/Engine.hpp>
#include <poplar/Graph.hpp>

namespace snncc {
namespace runtime {

/// One compute set.
struct ComputeSetReport {
  unsigned id;
  std::string name;
  std::size_t numVertices;
  std::size_t numTiles; ///< tiles with at least one vertex
  /// Bytes of tensor elements connected to a vertex on a tile other than the
  /// element's tile (inputs and outputs), per execution.
  std::uint64_t exchangeBytes = 0;
  std::uint64_t executions = 0; ///< times run so far
  std::uint64_t nanoseconds = 0; ///< host wall time of those executions
  /// How the host runs it: "tiles" (tiles spread over the threads), "workers"
  /// (one tile's MultiVertex workers spread over them) or "caller" (the
  /// calling thread alone); "" where no engine runs it (a graph's report).
  std::string threads;
  /// The largest receive bytes of one tile in this compute set (the
  /// exchangeBytes of the vertices of that tile).
  std::uint64_t maxTileReceiveBytes = 0;
};

/// Memory of one tile.
struct TileReport {
  unsigned tile = 0;
  std::uint64_t totalBytes = 0;       ///< tensors + vertex state + receiveBytes
  std::uint64_t vertexStateBytes = 0; ///< modelled, see docs/runtime.md
  /// Receive buffers: the peak over compute sets of the bytes of elements on
  /// other tiles connected to this tile's vertices (per edge, no sharing).
  std::uint64_t receiveBytes = 0;
  std::string receiveComputeSet; ///< the compute set at the peak, "" if none
  /// Bytes of tensor elements mapped here, per variable debug name (summed
  /// over variables sharing a name).
  std::map<std::string, std::uint64_t> tensorBytes;
};

struct Report {
  std::string target;  ///< e.g. "ipu2"
  unsigned numTiles = 0;
  unsigned bytesPerTile = 0;
  unsigned numThreads = 0;
  std::uint64_t maxTileBytes = 0;
  std::uint64_t totalBytes = 0;
  std::vector<TileReport> tiles; ///< tiles holding anything, by tile id
  std::vector<ComputeSetReport> computeSets;
  std::uint64_t copyExchangeBytes = 0; ///< Copy programs across tiles, so far
  std::uint64_t streamBytesToDevice = 0;
  std::uint64_t streamBytesToHost = 0;
  /// The report as one JSON object (keys as the member names).
  std::string toJSON() const;
};

/// Measured memory and exchange of an engine.
/// \param engine A constructed engine.
Report report(const poplar::Engine &engine);
/// Memory per tile of a graph as an Engine would allocate it, receive
/// buffers included, and the static compute set figures (executions 0): what
/// report() gives for an engine of this graph before it runs, without
/// numThreads, copies and streams. Works also for graphs that do not fit or
/// are not complete (unmapped elements and vertices are left out).
/// \param graph The graph.
Report memoryReport(const poplar::Graph &graph);
/// Write report(engine).toJSON() to path atomically.
/// \param engine The engine.  \param path File to write.
void writeReport(const poplar::Engine &engine, const std::string &path);

} // namespace runtime
} // namespace snncc

#endif // snncc_runtime_report_hpp
