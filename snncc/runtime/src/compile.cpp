// Copyright (c) 2024 snncc authors. SPDX-License-Identifier: Apache-2.0
// Compilation of a checked graph into what execution walks: vertex objects
// with their fields bound (grouped by compute set and tile, split edges
// staged) and program trees pointing at compute sets, regions and streams.
#include <algorithm>

#include "engine.hpp"

namespace snncc {
namespace host {

ExecNode compileProgram(EngineState &e, const GraphState &g, const ProgramNode &p, int depth) {
  if (depth > 10000)
    throw poplar::control_program_error(
        "Program nesting too deep (does a program contain itself?)");
  ExecNode n;
  n.kind = p.kind;
  n.count = p.count;
  for (const auto &c : p.children)
    n.children.push_back(compileProgram(e, g, *c, depth + 1));
  switch (p.kind) {
  case ProgramNode::Execute:
    if (p.computeSet >= e.computeSets.size())
      throw poplar::control_program_error("Execute: compute set " +
                                          std::to_string(p.computeSet) +
                                          " does not belong to this graph");
    n.cs = &e.computeSets[p.computeSet];
    break;
  case ProgramNode::Copy: {
    n.src = e.chunks(p.a);
    n.dst = e.chunks(p.b);
    n.bytes = p.a.numElements() * info(p.a.elementType())->size;
    // Elements whose source and destination tiles differ cross the exchange.
    std::vector<unsigned> srcTiles;
    for (const Region &r : TensorAccess::regions(p.a))
      for (std::size_t i = r.begin; i < r.end; ++i)
        srcTiles.push_back(e.varTile[r.var][i]);
    std::size_t k = 0;
    for (const Region &r : TensorAccess::regions(p.b))
      for (std::size_t i = r.begin; i < r.end; ++i, ++k)
        if (e.varTile[r.var][i] != srcTiles[k])
          n.exchangeBytes += e.varType[r.var]->size;
    break;
  }
  case ProgramNode::StreamIn:
  case ProgramNode::StreamOut: {
    auto it = e.streams.find(p.stream);
    if (it == e.streams.end())
      throw poplar::control_program_error("Copy: stream '" + p.stream +
                                          "' does not belong to this graph");
    n.stream = &it->second;
    n.streamName = p.stream;
    if (p.kind == ProgramNode::StreamIn)
      n.dst = e.chunks(p.b);
    else
      n.src = e.chunks(p.a);
    break;
  }
  case ProgramNode::AllReduce:
    n.dst = e.chunks(p.a);
    n.bytes = p.a.numElements() * sizeof(float);
    break;
  case ProgramNode::WhileTrue:
  case ProgramNode::WhileFalse:
  case ProgramNode::If: {
    const auto cs = e.chunks(p.a);
    n.pred = cs.at(0).p;
    n.predType = info(p.a.elementType());
    break;
  }
  default:
    break;
  }
  return n;
}

void buildComputeSets(EngineState &e, const GraphState &g) {
  e.computeSets.resize(g.computeSets.size());
  for (unsigned c = 0; c < g.computeSets.size(); ++c) {
    CSPlan &plan = e.computeSets[c];
    plan.name = g.computeSets[c].name;
    plan.numVertices = g.computeSets[c].vertices.size();
    std::map<unsigned, TileWork> byTile;
    std::vector<AccessRec> writes, reads;
    for (unsigned id : g.computeSets[c].vertices) {
      const VertexNode &v = g.vertices[id];
      TileWork &tw = byTile[v.tile];
      tw.tile = v.tile;
      void *obj = e.alloc(v.info->size, v.info->align);
      // Point an edge at its region, or at a staging buffer if it is split.
      auto edgeView = [&](const poplar::Tensor &t, const FieldInfo &fi,
                          unsigned field) -> EdgeView {
        const std::size_t sz = fi.type->size;
        for (const Region &r : TensorAccess::regions(t)) {
          AccessRec a{r.var, r.begin, r.end, id, field};
          if (fi.access != Access::Read)
            writes.push_back(a);
          else
            reads.push_back(a);
          plan.edgeBytes += (r.end - r.begin) * sz;
        }
        std::vector<Chunk> cs = e.chunks(t);
        if (cs.empty())
          return EdgeView{nullptr, 0};
        EdgeView ev{cs[0].p, t.numElements()};
        if (cs.size() > 1) {
          Staged s{std::move(cs), e.alloc(t.numElements() * sz), fi.access != Access::Write,
                   fi.access != Access::Read};
          tw.staged.push_back(std::move(s));
          ev.data = tw.staged.back().buf;
        }
        // A staged Output is not gathered: poisoning its buffer is what the
        // scatter-back writes, so old values cannot come back through it.
        if (e.poisonOutputs && fi.access == Access::Write)
          tw.poison.push_back(Poison{static_cast<unsigned char *>(ev.data), ev.size, fi.type});
        return ev;
      };
      for (unsigned f = 0; f < v.fields.size(); ++f) {
        const FieldInfo &fi = v.info->fields[f];
        const FieldState &s = v.fields[f];
        switch (fi.kind) {
        case FieldKind::EdgeScalar:
        case FieldKind::EdgeVector: {
          const EdgeView ev = edgeView(s.tensors[0], fi, f);
          fi.bindEdge(obj, ev.data, ev.size);
          break;
        }
        case FieldKind::Edge2D: {
          std::vector<EdgeView> views;
          for (const poplar::Tensor &t : s.tensors)
            views.push_back(edgeView(t, fi, f));
          void *entries = e.alloc(s.size * fi.entrySize, fi.entryAlign);
          fi.bindEdge2D(obj, entries, views.data(), views.size());
          break;
        }
        case FieldKind::StateScalar:
          fi.bindScalar(obj, s.value.data());
          break;
        case FieldKind::StateVector: {
          unsigned char *p = e.alloc(s.size * fi.type->size);
          if (!s.value.empty())
            std::memcpy(p, s.value.data(), s.value.size());
          fi.bindEdge(obj, p, s.size);
          break;
        }
        }
      }
      tw.vertices.push_back(VertexInst{obj, v.info->compute, v.info->multiVertex, id});
    }
    checkConflicts(g, c, std::move(writes), reads);
    for (auto &kv : byTile)
      plan.tiles.push_back(std::move(kv.second));
    const bool allMulti =
        plan.tiles.size() == 1 &&
        std::all_of(plan.tiles[0].vertices.begin(), plan.tiles[0].vertices.end(),
                    [](const VertexInst &v) { return v.multi; });
    if (plan.edgeBytes >= e.parallelEdgeBytes && plan.tiles.size() >= 2)
      plan.threads = CSPlan::Threads::Tiles;
    else if (plan.edgeBytes >= e.parallelEdgeBytes && allMulti)
      plan.threads = CSPlan::Threads::Workers;
  }
}

} // namespace host
} // namespace snncc
