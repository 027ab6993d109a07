// Copyright (c) 2024 snncc authors. SPDX-License-Identifier: Apache-2.0
// The memory model (bytes per tile as an Engine allocates them, vertex state
// as the IPU would hold it, receive buffers for edges to other tiles), the
// runtime report and its JSON.
#include <cstdio>
#include <fstream>
#include <sstream>

#include "engine.hpp"

namespace snncc {
namespace host {
namespace {

std::string jsonString(const std::string &s) {
  std::string o = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      o += '\\';
      o += c;
    } else if ((unsigned char)c < 0x20) {
      char b[8];
      std::snprintf(b, sizeof b, "\\u%04x", c);
      o += b;
    } else {
      o += c;
    }
  }
  return o + "\"";
}

} // namespace

TileRuns::TileRuns(const GraphState &g) : start(g.vars.size()), tile(g.vars.size()) {
  for (std::size_t k = 0; k < g.vars.size(); ++k) {
    const Variable &v = g.vars[k];
    for (std::size_t i = 0; i < v.n; ++i)
      if (!i || v.tile[i] != v.tile[i - 1]) {
        start[k].push_back(i);
        tile[k].push_back(v.tile[i]);
      }
    start[k].push_back(v.n);
  }
}

std::uint64_t remoteBytes(const GraphState &g, const TileRuns &runs, const poplar::Tensor &t,
                          unsigned tile) {
  std::uint64_t b = 0;
  for (const Region &r : TensorAccess::regions(t)) {
    // Walk the runs of one tile that the region overlaps: a wide edge spans
    // few runs, so this is far cheaper than a test per element.
    const std::vector<std::size_t> &s = runs.start[r.var];
    const std::vector<unsigned> &rt = runs.tile[r.var];
    std::size_t k = std::size_t(std::upper_bound(s.begin(), s.end(), r.begin) - s.begin()) - 1;
    std::size_t n = 0;
    for (; s[k] < r.end; ++k)
      if (rt[k] != tile && rt[k] != kUnmapped)
        n += std::min(s[k + 1], r.end) - std::max(s[k], r.begin);
    b += n * info(g.vars[r.var].type)->size;
  }
  return b;
}

std::uint64_t remoteFieldBytes(const GraphState &g, const TileRuns &runs, const VertexNode &v,
                               unsigned f) {
  switch (v.info->fields[f].kind) {
  case FieldKind::EdgeScalar:
  case FieldKind::EdgeVector:
  case FieldKind::Edge2D: {
    std::uint64_t b = 0;
    for (const poplar::Tensor &t : v.fields[f].tensors)
      b += remoteBytes(g, runs, t, v.tile);
    return b;
  }
  default:
    return 0;
  }
}

std::uint64_t vertexStateBytes(const VertexNode &v) {
  std::uint64_t b = 0;
  for (std::size_t f = 0; f < v.fields.size(); ++f) {
    const FieldInfo &fi = v.info->fields[f];
    const FieldState &s = v.fields[f];
    switch (fi.kind) {
    case FieldKind::Edge2D:
      b += fi.ptrBytes + s.size * fi.entryBytes;
      break;
    case FieldKind::StateVector:
      b += fi.ptrBytes + s.size * fi.type->size;
      break;
    default:
      b += fi.ptrBytes;
    }
  }
  return (b + 3) / 4 * 4;
}

snncc::runtime::Report memoryModel(const GraphState &g) {
  snncc::runtime::Report r;
  r.target = g.target.getTargetArchString();
  r.numTiles = g.target.getNumTiles();
  r.bytesPerTile = g.target.getBytesPerTile();
  std::map<unsigned, snncc::runtime::TileReport> tiles;
  auto tileReport = [&](unsigned t) -> snncc::runtime::TileReport & {
    auto &tr = tiles[t];
    tr.tile = t;
    return tr;
  };
  for (const Variable &v : g.vars) {
    const unsigned sz = info(v.type)->size;
    std::size_t i = 0;
    while (i < v.n) { // runs of one tile
      std::size_t j = i;
      while (j < v.n && v.tile[j] == v.tile[i])
        ++j;
      if (v.tile[i] != kUnmapped) {
        auto &tr = tileReport(v.tile[i]);
        tr.tensorBytes[v.name] += (j - i) * sz;
        tr.totalBytes += (j - i) * sz;
      }
      i = j;
    }
  }
  for (const VertexNode &v : g.vertices) {
    if (v.tile == kUnmapped)
      continue;
    auto &tr = tileReport(v.tile);
    const std::uint64_t b = vertexStateBytes(v);
    tr.vertexStateBytes += b;
    tr.totalBytes += b;
  }
  // Receive buffers: per compute set, each tile's bytes of edge elements on
  // other tiles; a tile needs the peak over compute sets.
  const TileRuns runs(g);
  const unsigned numTiles = g.target.getNumTiles();
  std::vector<std::uint64_t> cur(numTiles), peak(numTiles);
  std::vector<unsigned> peakCs(numTiles, kUnmapped), seen(numTiles, kUnmapped), touched;
  for (unsigned c = 0; c < g.computeSets.size(); ++c) {
    snncc::runtime::ComputeSetReport cr;
    cr.id = c;
    cr.name = g.computeSets[c].name;
    cr.numVertices = g.computeSets[c].vertices.size();
    touched.clear();
    for (unsigned id : g.computeSets[c].vertices) {
      const VertexNode &v = g.vertices[id];
      if (v.tile == kUnmapped)
        continue;
      if (seen[v.tile] != c) {
        seen[v.tile] = c;
        cur[v.tile] = 0;
        touched.push_back(v.tile);
      }
      for (unsigned f = 0; f < v.fields.size(); ++f)
        cur[v.tile] += remoteFieldBytes(g, runs, v, f);
    }
    cr.numTiles = touched.size();
    for (unsigned t : touched) {
      cr.exchangeBytes += cur[t];
      cr.maxTileReceiveBytes = std::max(cr.maxTileReceiveBytes, cur[t]);
      if (cur[t] > peak[t]) {
        peak[t] = cur[t];
        peakCs[t] = c;
      }
    }
    r.computeSets.push_back(std::move(cr));
  }
  for (unsigned t = 0; t < numTiles; ++t) {
    if (!peak[t])
      continue;
    auto &tr = tileReport(t);
    tr.receiveBytes = peak[t];
    tr.receiveComputeSet = g.computeSets[peakCs[t]].name;
    tr.totalBytes += peak[t];
  }
  for (auto &kv : tiles) {
    r.maxTileBytes = std::max(r.maxTileBytes, kv.second.totalBytes);
    r.totalBytes += kv.second.totalBytes;
    r.tiles.push_back(std::move(kv.second));
  }
  return r;
}

} // namespace host
} // namespace snncc

namespace snncc {
namespace runtime {

Report report(const poplar::Engine &engine) {
  const host::EngineState &e = host::EngineAccess::state(engine);
  Report r = e.memory;
  r.numThreads = e.numThreads;
  for (unsigned c = 0; c < e.computeSets.size(); ++c) {
    r.computeSets[c].executions = e.computeSets[c].executions;
    r.computeSets[c].nanoseconds = e.computeSets[c].nanoseconds;
    static const char *const names[] = {"caller", "tiles", "workers"}; // CSPlan::Threads
    r.computeSets[c].threads = names[static_cast<int>(e.computeSets[c].threads)];
  }
  r.copyExchangeBytes = e.copyExchangeBytes;
  r.streamBytesToDevice = e.streamIn;
  r.streamBytesToHost = e.streamOut;
  return r;
}

Report memoryReport(const poplar::Graph &graph) {
  return host::memoryModel(host::GraphAccess::state(graph));
}

void writeReport(const poplar::Engine &engine, const std::string &path) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp);
    out << report(engine).toJSON() << "\n";
    if (!out)
      throw std::runtime_error("cannot write runtime report " + tmp);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0)
    throw std::runtime_error("cannot rename runtime report to " + path);
}

std::string Report::toJSON() const {
  using host::jsonString;
  std::ostringstream o;
  o << "{\"target\": " << jsonString(target) << ", \"numTiles\": " << numTiles
    << ", \"bytesPerTile\": " << bytesPerTile << ", \"numThreads\": " << numThreads
    << ", \"maxTileBytes\": " << maxTileBytes << ", \"totalBytes\": " << totalBytes
    << ", \"copyExchangeBytes\": " << copyExchangeBytes
    << ", \"streamBytesToDevice\": " << streamBytesToDevice
    << ", \"streamBytesToHost\": " << streamBytesToHost << ", \"tiles\": [";
  for (std::size_t i = 0; i < tiles.size(); ++i) {
    const TileReport &t = tiles[i];
    o << (i ? ", " : "") << "{\"tile\": " << t.tile << ", \"totalBytes\": " << t.totalBytes
      << ", \"vertexStateBytes\": " << t.vertexStateBytes
      << ", \"receiveBytes\": " << t.receiveBytes
      << ", \"receiveComputeSet\": " << jsonString(t.receiveComputeSet) << ", \"tensorBytes\": {";
    std::size_t k = 0;
    for (const auto &kv : t.tensorBytes)
      o << (k++ ? ", " : "") << jsonString(kv.first) << ": " << kv.second;
    o << "}}";
  }
  o << "], \"computeSets\": [";
  for (std::size_t i = 0; i < computeSets.size(); ++i) {
    const ComputeSetReport &c = computeSets[i];
    o << (i ? ", " : "") << "{\"id\": " << c.id << ", \"name\": " << jsonString(c.name)
      << ", \"numVertices\": " << c.numVertices << ", \"numTiles\": " << c.numTiles
      << ", \"exchangeBytes\": " << c.exchangeBytes
      << ", \"maxTileReceiveBytes\": " << c.maxTileReceiveBytes
      << ", \"executions\": " << c.executions << ", \"nanoseconds\": " << c.nanoseconds
      << ", \"threads\": " << jsonString(c.threads) << "}";
  }
  o << "]}";
  return o.str();
}

} // namespace runtime
} // namespace snncc
