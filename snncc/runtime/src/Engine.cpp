// Copyright (c) 2024 snncc authors. SPDX-License-Identifier: Apache-2.0
// The Engine: checks and lays out a graph like Poplar's compiler, then walks
// the program tree, running compute sets as BSP supersteps.
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <fstream>
#include <sstream>

#include <poplar/Engine.hpp>

#include "internal.hpp"

namespace snncc {
namespace host {
namespace {

/// A compute set whose edges connect fewer bytes than this runs on the
/// calling thread: waking workers would cost more than the work (override:
/// SNNCC_PARALLEL_MIN_BYTES, for measurements).
constexpr std::uint64_t kParallelEdgeBytes = 16384;

/// 64-byte aligned, zeroed storage (a cache line: tiles written by different
/// threads never share one through the start of a buffer).
class Buffer {
public:
  explicit Buffer(std::size_t bytes, std::size_t align = 64)
      : align_(std::max<std::size_t>(align, 64)),
        p_(static_cast<unsigned char *>(::operator new(std::max<std::size_t>(bytes, 1),
                                                       std::align_val_t(align_)))) {
    std::memset(p_, 0, std::max<std::size_t>(bytes, 1));
  }
  ~Buffer() { ::operator delete(p_, std::align_val_t(align_)); }
  Buffer(const Buffer &) = delete;
  Buffer &operator=(const Buffer &) = delete;
  unsigned char *get() const { return p_; }

private:
  std::size_t align_;
  unsigned char *p_;
};

struct Chunk {
  unsigned char *p;
  std::size_t bytes;
};

/// A non-contiguous edge: gathered into a tile-local buffer before the
/// vertices run and scattered back after, as exchange would.
struct Staged {
  std::vector<Chunk> chunks;
  unsigned char *buf;
  bool gather, scatter;
};

struct VertexInst {
  void *obj;
  bool (*compute)(void *, unsigned);
  bool multi;
  unsigned id;
};

struct TileWork {
  unsigned tile;
  std::vector<VertexInst> vertices;
  std::vector<Staged> staged;
};

struct CSPlan {
  std::string name;
  std::vector<TileWork> tiles;
  std::size_t numVertices = 0;
  std::uint64_t exchangeBytes = 0;
  /// Bytes of tensor elements connected to the vertices' edges: the measure
  /// of work that decides whether the compute set runs on the thread pool.
  std::uint64_t edgeBytes = 0;
  /// Run on all threads (else on the calling thread only): at least two tiles
  /// and edgeBytes >= kParallelEdgeBytes. Depends on the graph only; results
  /// are the same either way.
  bool parallel = false;
  std::uint64_t executions = 0;
};

struct StreamConn {
  std::size_t bytes = 0;
  bool toDevice = true;
  bool connected = false;
  bool circular = false;
  unsigned char *begin = nullptr, *end = nullptr, *pos = nullptr;
};

struct ExecNode {
  ProgramNode::Kind kind = ProgramNode::Empty;
  std::vector<ExecNode> children;
  unsigned count = 0;
  CSPlan *cs = nullptr;
  std::vector<Chunk> src, dst;
  std::size_t bytes = 0;
  std::uint64_t exchangeBytes = 0;
  StreamConn *stream = nullptr;
  std::string streamName;
  const unsigned char *pred = nullptr;
  const TypeInfo *predType = nullptr;
};

void gather(const std::vector<Chunk> &cs, unsigned char *out) {
  for (const Chunk &c : cs) {
    std::memcpy(out, c.p, c.bytes);
    out += c.bytes;
  }
}
void scatter(const std::vector<Chunk> &cs, const unsigned char *in) {
  for (const Chunk &c : cs) {
    std::memcpy(c.p, in, c.bytes);
    in += c.bytes;
  }
}

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

struct EngineState {
  poplar::Target target;
  std::vector<std::unique_ptr<Buffer>> buffers;
  std::vector<unsigned char *> varData;
  std::vector<const TypeInfo *> varType;
  std::vector<std::vector<unsigned>> varTile; // for copy exchange accounting
  std::vector<CSPlan> computeSets;
  std::vector<ExecNode> programs;
  std::map<std::string, StreamConn> streams;
  std::map<std::string, std::vector<Chunk>> hostReads, hostWrites;
  std::vector<unsigned char> scratch;
  std::unique_ptr<ThreadPool> pool;
  unsigned numThreads = 1;
  std::uint64_t parallelEdgeBytes = kParallelEdgeBytes;
  bool loaded = false;
  snncc::runtime::Report memory;
  std::uint64_t copyExchangeBytes = 0, streamIn = 0, streamOut = 0;

  std::vector<Chunk> chunks(const poplar::Tensor &t) const {
    std::vector<Chunk> out;
    for (const Region &r : TensorAccess::regions(t)) {
      const unsigned sz = varType[r.var]->size;
      out.push_back(Chunk{varData[r.var] + r.begin * sz, (r.end - r.begin) * sz});
    }
    return out;
  }
  unsigned char *alloc(std::size_t bytes, std::size_t align = 64) {
    buffers.push_back(std::make_unique<Buffer>(bytes, align));
    return buffers.back()->get();
  }
  void runComputeSet(CSPlan &cs);
  void run(const ExecNode &n);
};

struct EngineAccess {
  static EngineState &state(const poplar::Engine &e) { return *e.state_; }
};

namespace {

unsigned threadsFrom(const poplar::OptionFlags &opts) {
  auto parse = [](const std::string &s, const std::string &what) {
    char *end = nullptr;
    const long v = std::strtol(s.c_str(), &end, 10);
    if (s.empty() || *end || v < 1 || v > 4096)
      throw poplar::invalid_option(what + " must be a positive integer, not '" + s + "'");
    return unsigned(v);
  };
  for (const auto &kv : opts)
    if (kv.first == "snncc.numThreads")
      return parse(kv.second, "Engine option snncc.numThreads");
  if (const char *env = std::getenv("SNNCC_NUM_THREADS"))
    return parse(env, "SNNCC_NUM_THREADS");
  return std::max(1u, std::thread::hardware_concurrency());
}

bool checkOptions(const poplar::OptionFlags &opts) {
  // Poplar engine options that only affect profiling or IPU code generation
  // are accepted and ignored; anything else is an error, as in Poplar.
  static const std::set<std::string> ignored = {
      "autoReport.all", "autoReport.directory", "autoReport.outputExecutionProfile",
      "autoReport.outputGraphProfile", "autoReport.outputArchive",
      "debug.instrument", "debug.instrumentCompute", "debug.instrumentControlFlow",
      "debug.instrumentExternalExchange", "debug.computeInstrumentationLevel",
      "debug.retainDebugInformation", "debug.outputAllSymbols",
      "opt.enableMultiAccessCopies", "opt.maxCopyMergeSize", "profiler.format",
      "target.deterministicWorkers", "target.workerStackSizeInBytes",
      "target.supervisorStackSizeInBytes", "exchange.streamBufferOverlap",
      "streamCallbacks.maxLookahead"};
  bool allowOOM = false;
  for (const auto &kv : opts) {
    if (kv.first == "snncc.numThreads" || ignored.count(kv.first))
      continue;
    if (kv.first == "debug.allowOutOfMemory") {
      if (kv.second != "true" && kv.second != "false")
        throw poplar::invalid_option("debug.allowOutOfMemory must be true or false, not '" +
                                     kv.second + "'");
      allowOOM = kv.second == "true";
      continue;
    }
    throw poplar::invalid_option("Unrecognised engine option '" + kv.first + "'");
  }
  return allowOOM;
}

std::string csName(const GraphState &g, unsigned cs) {
  return "'" + g.computeSets[cs].name + "'";
}

std::string vertexDesc(const GraphState &g, unsigned id) {
  const VertexNode &v = g.vertices[id];
  return "vertex " + std::to_string(id) + " (" + v.info->name + ") in compute set " +
         csName(g, v.cs);
}

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

struct AccessRec {
  unsigned var;
  std::size_t b, e;
  unsigned vertex;
  unsigned field;
};

std::string accessDesc(const GraphState &g, const AccessRec &a) {
  const VertexNode &v = g.vertices[a.vertex];
  return "Field " + v.info->name + "." + v.info->fields[a.field].name + " (vertex " +
         std::to_string(a.vertex) + ")";
}

std::string elemsDesc(const GraphState &g, const AccessRec &a, std::size_t b, std::size_t e) {
  return "elements [" + std::to_string(b) + ":" + std::to_string(e) + ") of variable '" +
         g.vars[a.var].name + "'";
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

} // namespace

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
  for (auto &kv : tiles) {
    r.maxTileBytes = std::max(r.maxTileBytes, kv.second.totalBytes);
    r.totalBytes += kv.second.totalBytes;
    r.tiles.push_back(std::move(kv.second));
  }
  return r;
}

void EngineState::runComputeSet(CSPlan &cs) {
  ++cs.executions;
  std::mutex errMutex;
  std::size_t errTile = ~std::size_t(0);
  std::string errText;
  std::exception_ptr errPtr;
  auto work = [&](std::size_t i) {
    TileWork &tw = cs.tiles[i];
    try {
      for (const Staged &s : tw.staged)
        if (s.gather)
          gather(s.chunks, s.buf);
      for (const VertexInst &v : tw.vertices) {
        bool ok = true;
        if (v.multi) {
          for (unsigned w = 0; w < poplar::MultiVertex::numWorkers(); ++w)
            ok = v.compute(v.obj, w) && ok;
        } else {
          ok = v.compute(v.obj, 0);
        }
        if (!ok) {
          std::lock_guard<std::mutex> lock(errMutex);
          if (i < errTile) {
            errTile = i;
            errPtr = nullptr;
            errText = "Vertex " + std::to_string(v.id) + " on tile " + std::to_string(tw.tile) +
                      " in compute set '" + cs.name + "' returned false";
          }
          return;
        }
      }
      for (const Staged &s : tw.staged)
        if (s.scatter)
          scatter(s.chunks, s.buf);
    } catch (...) {
      std::lock_guard<std::mutex> lock(errMutex);
      if (i < errTile) {
        errTile = i;
        errPtr = std::current_exception();
      }
    }
  };
  if (cs.parallel)
    pool->parallelFor(cs.tiles.size(), work);
  else
    ThreadPool::serialFor(cs.tiles.size(), work);
  if (errPtr)
    std::rethrow_exception(errPtr);
  if (errTile != ~std::size_t(0))
    throw poplar::runtime_error(errText);
}

void EngineState::run(const ExecNode &n) {
  switch (n.kind) {
  case ProgramNode::Empty:
  case ProgramNode::Sync:
    return;
  case ProgramNode::Sequence:
    for (const ExecNode &c : n.children)
      run(c);
    return;
  case ProgramNode::Execute:
    runComputeSet(*n.cs);
    return;
  case ProgramNode::Copy:
    if (n.src.size() == 1 && n.dst.size() == 1) {
      std::memmove(n.dst[0].p, n.src[0].p, n.bytes);
    } else {
      scratch.resize(n.bytes);
      gather(n.src, scratch.data());
      scatter(n.dst, scratch.data());
    }
    copyExchangeBytes += n.exchangeBytes;
    return;
  case ProgramNode::StreamIn:
  case ProgramNode::StreamOut: {
    StreamConn &s = *n.stream;
    if (!s.connected)
      throw poplar::stream_connection_error("Stream '" + n.streamName +
                                            "' is not connected (Engine::connectStream)");
    if (n.kind == ProgramNode::StreamIn) {
      scatter(n.dst, s.pos);
      streamIn += s.bytes;
    } else {
      gather(n.src, s.pos);
      streamOut += s.bytes;
    }
    if (s.circular) {
      s.pos += s.bytes;
      if (s.pos >= s.end)
        s.pos = s.begin;
    }
    return;
  }
  case ProgramNode::Repeat:
    for (unsigned i = 0; i < n.count; ++i)
      run(n.children[0]);
    return;
  case ProgramNode::WhileTrue:
  case ProgramNode::WhileFalse: {
    const bool want = n.kind == ProgramNode::WhileTrue;
    for (;;) {
      run(n.children[1]);
      if ((readAsDouble(n.pred, n.predType) != 0.0) != want)
        return;
      run(n.children[0]);
    }
  }
  case ProgramNode::If:
    run(n.children[readAsDouble(n.pred, n.predType) != 0.0 ? 0 : 1]);
    return;
  }
}

} // namespace host
} // namespace snncc

namespace poplar {
using namespace snncc::host;

namespace {

ExecNode compileProgram(EngineState &e, const GraphState &g, const ProgramNode &p, int depth) {
  if (depth > 10000)
    throw control_program_error("Program nesting too deep (does a program contain itself?)");
  ExecNode n;
  n.kind = p.kind;
  n.count = p.count;
  for (const auto &c : p.children)
    n.children.push_back(compileProgram(e, g, *c, depth + 1));
  switch (p.kind) {
  case ProgramNode::Execute:
    if (p.computeSet >= e.computeSets.size())
      throw control_program_error("Execute: compute set " + std::to_string(p.computeSet) +
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
      throw control_program_error("Copy: stream '" + p.stream + "' does not belong to this graph");
    n.stream = &it->second;
    n.streamName = p.stream;
    if (p.kind == ProgramNode::StreamIn)
      n.dst = e.chunks(p.b);
    else
      n.src = e.chunks(p.a);
    break;
  }
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
      auto edgeView = [&](const Tensor &t, const FieldInfo &fi, unsigned field) -> EdgeView {
        const std::size_t sz = fi.type->size;
        for (const Region &r : TensorAccess::regions(t)) {
          AccessRec a{r.var, r.begin, r.end, id, field};
          if (fi.access != Access::Read)
            writes.push_back(a);
          else
            reads.push_back(a);
          plan.edgeBytes += (r.end - r.begin) * sz;
          for (std::size_t i = r.begin; i < r.end; ++i)
            if (g.vars[r.var].tile[i] != v.tile)
              plan.exchangeBytes += sz;
        }
        std::vector<Chunk> cs = e.chunks(t);
        if (cs.empty())
          return EdgeView{nullptr, 0};
        if (cs.size() == 1)
          return EdgeView{cs[0].p, t.numElements()};
        Staged s{std::move(cs), e.alloc(t.numElements() * sz), fi.access != Access::Write,
                 fi.access != Access::Read};
        tw.staged.push_back(std::move(s));
        return EdgeView{tw.staged.back().buf, t.numElements()};
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
          for (const Tensor &t : s.tensors)
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
    plan.parallel = plan.tiles.size() >= 2 && plan.edgeBytes >= e.parallelEdgeBytes;
  }
}

} // namespace

Engine::Engine(const Graph &graph, ArrayRef<program::Program> progs,
               const OptionFlags &options, ProgressFunc progressCallBack)
    : state_(std::make_unique<EngineState>()) {
  const GraphState &g = GraphAccess::state(graph);
  EngineState &e = *state_;
  const bool allowOOM = checkOptions(options);
  e.numThreads = threadsFrom(options);
  if (const char *env = std::getenv("SNNCC_PARALLEL_MIN_BYTES"))
    e.parallelEdgeBytes = std::strtoull(env, nullptr, 10);
  e.target = g.target;
  checkMappings(g);

  // Memory per tile, checked before anything is allocated.
  e.memory = memoryModel(g);
  for (const auto &t : e.memory.tiles) {
    if (t.totalBytes <= e.memory.bytesPerTile || allowOOM)
      continue;
    std::vector<std::pair<std::uint64_t, std::string>> top;
    for (const auto &kv : t.tensorBytes)
      top.emplace_back(kv.second, "'" + kv.first + "'");
    top.emplace_back(t.vertexStateBytes, "vertex state");
    std::sort(top.rbegin(), top.rend());
    std::string list;
    for (std::size_t i = 0; i < top.size() && i < 4; ++i)
      list += (i ? ", " : "") + top[i].second + " " + std::to_string(top[i].first);
    if (const char *path = std::getenv("SNNCC_RUNTIME_REPORT")) {
      std::ofstream out(path);
      out << e.memory.toJSON() << "\n";
    }
    throw graph_memory_allocation_error(
        "Out of memory: tile " + std::to_string(t.tile) + " needs " +
        std::to_string(t.totalBytes) + " bytes but the target has " +
        std::to_string(e.memory.bytesPerTile) + " bytes per tile (largest: " + list + ")");
  }

  for (const Variable &v : g.vars) {
    const TypeInfo *ti = info(v.type);
    unsigned char *p = e.alloc(v.n * ti->size);
    if (!v.init.empty())
      std::memcpy(p, v.init.data(), v.init.size());
    e.varData.push_back(p);
    e.varType.push_back(ti);
    e.varTile.push_back(v.tile);
  }
  buildComputeSets(e, g);
  for (const auto &kv : g.streams) {
    StreamConn s;
    s.bytes = kv.second.numElements() * info(kv.second.elementType())->size;
    s.toDevice = isHostToDevice(kv.second.type());
    e.streams.emplace(kv.first, s);
  }
  for (const auto &kv : g.hostReads)
    e.hostReads.emplace(kv.first, e.chunks(kv.second));
  for (const auto &kv : g.hostWrites)
    e.hostWrites.emplace(kv.first, e.chunks(kv.second));
  for (const program::Program &p : progs) {
    const auto &node = ProgramAccess::node(p);
    e.programs.push_back(node ? compileProgram(e, g, *node, 0) : ExecNode{});
  }
  e.pool = std::make_unique<ThreadPool>(e.numThreads);
  if (progressCallBack)
    progressCallBack(1, 1);
}

Engine::Engine(const Graph &graph, program::Program prog, const OptionFlags &options,
               ProgressFunc progressCallBack)
    : Engine(graph, ArrayRef<program::Program>(&prog, 1), options,
             std::move(progressCallBack)) {}

Engine::Engine(Engine &&other) noexcept = default;
Engine &Engine::operator=(Engine &&other) noexcept = default;

Engine::~Engine() {
  if (!state_)
    return;
  if (const char *path = std::getenv("SNNCC_RUNTIME_REPORT")) {
    try {
      snncc::runtime::writeReport(*this, path);
    } catch (...) {
      // A destructor must not throw; the report is a diagnostic.
    }
  }
}

void Engine::load(const Device &device) {
  const Target &t = device.getTarget();
  if (t.getNumTiles() != state_->target.getNumTiles() ||
      t.getBytesPerTile() != state_->target.getBytesPerTile())
    throw poplar_error("Engine::load: the device's target (" + std::to_string(t.getNumTiles()) +
                       " tiles) differs from the graph's (" +
                       std::to_string(state_->target.getNumTiles()) + " tiles)");
  state_->loaded = true;
}

void Engine::run(unsigned prog, const std::string &) {
  if (!state_->loaded)
    throw poplar_error("Engine::run: the engine is not loaded (call load(device) first)");
  if (prog >= state_->programs.size())
    throw index_error("Engine::run: program " + std::to_string(prog) + " out of range (" +
                      std::to_string(state_->programs.size()) + " programs)");
  state_->run(state_->programs[prog]);
}

void Engine::loadAndRun(const Device &device, unsigned prog) {
  load(device);
  run(prog);
}

namespace {
StreamConn &streamOf(EngineState &e, const std::string &handle) {
  auto it = e.streams.find(handle);
  if (it == e.streams.end())
    throw stream_connection_error("Unknown stream handle '" + handle + "'");
  return it->second;
}
} // namespace

void Engine::connectStream(std::string handle, void *p) {
  StreamConn &s = streamOf(*state_, handle);
  s.begin = s.pos = s.end = static_cast<unsigned char *>(p);
  s.circular = false;
  s.connected = p != nullptr || s.bytes == 0;
}

void Engine::connectStream(std::string handle, void *begin, void *end) {
  StreamConn &s = streamOf(*state_, handle);
  auto *b = static_cast<unsigned char *>(begin), *e = static_cast<unsigned char *>(end);
  const std::ptrdiff_t size = e - b;
  if (!b || size <= 0 || (s.bytes && std::size_t(size) % s.bytes))
    throw stream_connection_error("connectStream('" + handle + "'): the buffer of " +
                                  std::to_string(size) + " bytes is not a positive multiple of " +
                                  std::to_string(s.bytes) + " bytes per transfer");
  s.begin = s.pos = b;
  s.end = e;
  s.circular = true;
  s.connected = true;
}

void Engine::connectStream(const DataStream &stream, void *p) {
  connectStream(stream.handle(), p);
}
void Engine::connectStream(const DataStream &stream, void *begin, void *end) {
  connectStream(stream.handle(), begin, end);
}

namespace {
const std::vector<Chunk> &hostChunks(std::map<std::string, std::vector<Chunk>> &m,
                                     const std::string &handle, const char *what) {
  auto it = m.find(handle);
  if (it == m.end())
    throw poplar_error(std::string(what) + ": unknown handle '" + handle + "' (create it with " +
                       (what[0] == 'r' ? "createHostRead)" : "createHostWrite)"));
  return it->second;
}
std::size_t totalBytes(const std::vector<Chunk> &cs) {
  std::size_t n = 0;
  for (const Chunk &c : cs)
    n += c.bytes;
  return n;
}
} // namespace

void Engine::readTensor(std::string handle, void *buf) {
  gather(hostChunks(state_->hostReads, handle, "readTensor"), static_cast<unsigned char *>(buf));
}
void Engine::readTensor(std::string handle, void *buf, void *bufEnd) {
  const auto &cs = hostChunks(state_->hostReads, handle, "readTensor");
  const std::ptrdiff_t n = static_cast<unsigned char *>(bufEnd) - static_cast<unsigned char *>(buf);
  if (n < 0 || std::size_t(n) != totalBytes(cs))
    throw poplar_error("readTensor('" + handle + "'): buffer of " + std::to_string(n) +
                       " bytes for a tensor of " + std::to_string(totalBytes(cs)) + " bytes");
  gather(cs, static_cast<unsigned char *>(buf));
}
void Engine::writeTensor(std::string handle, const void *buf) {
  scatter(hostChunks(state_->hostWrites, handle, "writeTensor"),
          static_cast<const unsigned char *>(buf));
}
void Engine::writeTensor(std::string handle, const void *buf, const void *bufEnd) {
  const auto &cs = hostChunks(state_->hostWrites, handle, "writeTensor");
  const std::ptrdiff_t n =
      static_cast<const unsigned char *>(bufEnd) - static_cast<const unsigned char *>(buf);
  if (n < 0 || std::size_t(n) != totalBytes(cs))
    throw poplar_error("writeTensor('" + handle + "'): buffer of " + std::to_string(n) +
                       " bytes for a tensor of " + std::to_string(totalBytes(cs)) + " bytes");
  scatter(cs, static_cast<const unsigned char *>(buf));
}

} // namespace poplar

namespace snncc {
namespace runtime {

Report report(const poplar::Engine &engine) {
  const host::EngineState &e = host::EngineAccess::state(engine);
  Report r = e.memory;
  r.numThreads = e.numThreads;
  for (unsigned c = 0; c < e.computeSets.size(); ++c) {
    const auto &p = e.computeSets[c];
    r.computeSets.push_back(ComputeSetReport{c, p.name, p.numVertices, p.tiles.size(),
                                             p.exchangeBytes, p.executions});
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
      << ", \"vertexStateBytes\": " << t.vertexStateBytes << ", \"tensorBytes\": {";
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
      << ", \"exchangeBytes\": " << c.exchangeBytes << ", \"executions\": " << c.executions
      << "}";
  }
  o << "]}";
  return o.str();
}

} // namespace runtime
} // namespace snncc
