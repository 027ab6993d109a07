// Copyright (c) 2024 snncc authors. SPDX-License-Identifier: Apache-2.0
// The checks an Engine makes of a graph, refusing what Poplar's graph
// compiler refuses: unmapped tensors and vertices, unconnected fields,
// conflicting accesses in a compute set, tiles out of memory (receive
// buffers included).
#include <cstdlib>
#include <fstream>

#include "engine.hpp"

namespace snncc {
namespace host {
namespace {

std::string csName(const GraphState &g, unsigned cs) {
  return "'" + g.computeSets[cs].name + "'";
}

std::string vertexDesc(const GraphState &g, unsigned id) {
  const VertexNode &v = g.vertices[id];
  return "vertex " + std::to_string(id) + " (" + v.info->name + ") in compute set " +
         csName(g, v.cs);
}

std::string accessDesc(const GraphState &g, const AccessRec &a) {
  const VertexNode &v = g.vertices[a.vertex];
  return "Field " + v.info->name + "." + v.info->fields[a.field].name + " (vertex " +
         std::to_string(a.vertex) + ")";
}

std::string elemsDesc(const GraphState &g, const AccessRec &a, std::size_t b, std::size_t e) {
  return "elements [" + std::to_string(b) + ":" + std::to_string(e) + ") of variable '" +
         g.vars[a.var].name + "'";
}

} // namespace

void checkMappings(const GraphState &g) {
  for (const Variable &v : g.vars) {
    auto it = std::find(v.tile.begin(), v.tile.end(), kUnmapped);
    if (it == v.tile.end())
      continue;
    const std::size_t b = std::size_t(it - v.tile.begin());
    std::size_t e = b;
    while (e < v.n && v.tile[e] == kUnmapped)
      ++e;
    throw poplar::invalid_tile_mapping("Tensor '" + v.name + "' has no tile mapping for elements [" +
                                       std::to_string(b) + ":" + std::to_string(e) + ") of " +
                                       std::to_string(v.n) + " (every element must be mapped)");
  }
  for (std::size_t id = 0; id < g.vertices.size(); ++id) {
    const VertexNode &v = g.vertices[id];
    if (v.tile == kUnmapped)
      throw poplar::invalid_tile_mapping("The " + vertexDesc(g, unsigned(id)) +
                                         " has no tile mapping");
    for (std::size_t f = 0; f < v.fields.size(); ++f) {
      const FieldInfo &fi = v.info->fields[f];
      const FieldState &s = v.fields[f];
      const bool ok = s.connected || (fi.kind == FieldKind::StateVector && s.sized);
      if (!ok)
        throw poplar::graph_connection_error(
            "Field " + v.info->name + "." + fi.name + " of the " + vertexDesc(g, unsigned(id)) +
            (fi.kind == FieldKind::StateScalar || fi.kind == FieldKind::StateVector
                 ? " has no initial value (setInitialValue)"
                 : " is not connected"));
    }
  }
}

/// Poplar forbids two vertices of one compute set writing one element; the
/// host runtime also forbids reading an element another vertex writes,
/// because the result would depend on thread scheduling.
void checkConflicts(const GraphState &g, unsigned cs, std::vector<AccessRec> writes,
                    const std::vector<AccessRec> &reads) {
  auto byStart = [](const AccessRec &x, const AccessRec &y) {
    return x.var != y.var ? x.var < y.var : x.b < y.b;
  };
  std::sort(writes.begin(), writes.end(), byStart);
  // Sweep keeping the furthest end of two distinct vertices per variable.
  const AccessRec *best = nullptr, *second = nullptr;
  for (const AccessRec &w : writes) {
    if (best && best->var != w.var)
      best = second = nullptr;
    const AccessRec *other = best && best->vertex != w.vertex ? best : second;
    if (other && other->e > w.b)
      throw poplar::graph_cycle_error(
          accessDesc(g, w) + " writes to " +
          elemsDesc(g, w, w.b, std::min(w.e, other->e)) +
          " that are written to elsewhere in the same compute set " + csName(g, cs) +
          " (by " + accessDesc(g, *other) + ")");
    if (!best || w.e > best->e) {
      if (best && best->vertex != w.vertex)
        second = best;
      best = &w;
    } else if (w.vertex != best->vertex && (!second || w.e > second->e)) {
      second = &w;
    }
  }
  // Merge into disjoint runs (overlaps left are within one vertex).
  std::vector<AccessRec> runs;
  for (const AccessRec &w : writes) {
    if (!runs.empty() && runs.back().var == w.var && runs.back().e > w.b)
      runs.back().e = std::max(runs.back().e, w.e);
    else
      runs.push_back(w);
  }
  for (const AccessRec &r : reads) {
    auto it = std::lower_bound(runs.begin(), runs.end(), r, [](const AccessRec &x, const AccessRec &y) {
      return x.var != y.var ? x.var < y.var : x.e <= y.b;
    });
    for (; it != runs.end() && it->var == r.var && it->b < r.e; ++it)
      if (it->vertex != r.vertex)
        throw poplar::graph_cycle_error(
            accessDesc(g, r) + " reads " +
            elemsDesc(g, r, std::max(r.b, it->b), std::min(r.e, it->e)) + " that " +
            accessDesc(g, *it) + " writes in the same compute set " + csName(g, cs) +
            ": the result would depend on execution order (double-buffer the data)");
  }
}

void checkTileMemory(const GraphState &g, const snncc::runtime::Report &memory,
                     bool allowOutOfMemory) {
  for (const auto &t : memory.tiles) {
    if (t.totalBytes <= memory.bytesPerTile || allowOutOfMemory)
      continue;
    std::vector<std::pair<std::uint64_t, std::string>> top;
    for (const auto &kv : t.tensorBytes)
      top.emplace_back(kv.second, "'" + kv.first + "'");
    top.emplace_back(t.vertexStateBytes, "vertex state");
    if (t.receiveBytes)
      top.emplace_back(t.receiveBytes, "receive buffers");
    std::sort(top.rbegin(), top.rend());
    std::string list;
    for (std::size_t i = 0; i < top.size() && i < 4; ++i)
      list += (i ? ", " : "") + top[i].second + " " + std::to_string(top[i].first);
    std::string receive;
    if (t.receiveBytes) {
      // The edge of the peak compute set that receives most on this tile
      // (names need not be unique: the peak is the one whose sum matches).
      const TileRuns runs(g);
      unsigned cs = 0, bestVertex = 0, bestField = 0;
      std::uint64_t best = 0;
      for (; cs < g.computeSets.size(); ++cs) {
        if (g.computeSets[cs].name != t.receiveComputeSet)
          continue;
        std::uint64_t sum = 0;
        best = 0;
        for (unsigned id : g.computeSets[cs].vertices) {
          const VertexNode &v = g.vertices[id];
          if (v.tile != t.tile)
            continue;
          for (unsigned f = 0; f < v.fields.size(); ++f) {
            const std::uint64_t b = remoteFieldBytes(g, runs, v, f);
            sum += b;
            if (b > best) {
              best = b;
              bestVertex = id;
              bestField = f;
            }
          }
        }
        if (sum == t.receiveBytes)
          break;
      }
      const VertexNode &v = g.vertices[bestVertex];
      receive = "; receive buffers at their peak, compute set " + csName(g, cs) + ": " +
                std::to_string(t.receiveBytes) + " bytes, largest edge " + v.info->name + "." +
                v.info->fields[bestField].name + " of vertex " + std::to_string(bestVertex) +
                " receiving " + std::to_string(best) + " bytes from other tiles";
    }
    if (const char *path = std::getenv("SNNCC_RUNTIME_REPORT")) {
      std::ofstream out(path);
      out << memory.toJSON() << "\n";
    }
    throw poplar::graph_memory_allocation_error(
        "Out of memory: tile " + std::to_string(t.tile) + " needs " +
        std::to_string(t.totalBytes) + " bytes but the target has " +
        std::to_string(memory.bytesPerTile) + " bytes per tile (largest: " + list + ")" +
        receive);
  }
}

} // namespace host
} // namespace snncc
