// Copyright (c) 2024 snncc authors. SPDX-License-Identifier: Apache-2.0
// Runtime-internal state of an Engine, shared by its parts: options
// (engine_options.cpp), graph checks (graph_checks.cpp), the memory report
// (memory_report.cpp), compilation of compute sets and programs
// (compile.cpp), execution (execute.cpp) and the poplar::Engine API
// (Engine.cpp).
#ifndef snncc_runtime_engine_hpp
#define snncc_runtime_engine_hpp

#include <algorithm>
#include <cstring>
#include <new>

#include "collective.hpp"
#include "internal.hpp"

namespace snncc {
namespace host {

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

/// Elements an Output field points at (a variable region or a staging
/// buffer), overwritten before each execution when outputs are poisoned.
struct Poison {
  unsigned char *p;
  std::size_t n; ///< elements
  const TypeInfo *type;
};
/// Float: quiet NaN; half: NaN; other types: bytes 0xA5.
void poison(const Poison &x);

struct TileWork {
  unsigned tile;
  std::vector<VertexInst> vertices;
  std::vector<Staged> staged;
  std::vector<Poison> poison; ///< empty unless snncc.poisonOutputs
};

struct CSPlan {
  std::string name;
  std::vector<TileWork> tiles;
  std::size_t numVertices = 0;
  /// Bytes of tensor elements connected to the vertices' edges: the measure
  /// of work that decides whether the compute set runs on the thread pool.
  std::uint64_t edgeBytes = 0;
  /// How the threads share it, from the graph only (results are the same
  /// whichever): Tiles, the tiles spread over the threads (at least two tiles);
  /// Workers, one tile whose vertices are all MultiVertex (a one-tile readout's
  /// weight gradient) with its six workers spread over them, as they run
  /// concurrently on an IPU tile (workers write disjoint elements: the
  /// MultiVertex contract); Caller, the calling thread alone (any other single
  /// tile, or edgeBytes < kParallelEdgeBytes).
  enum class Threads { Caller, Tiles, Workers } threads = Threads::Caller;
  std::uint64_t executions = 0;
  std::uint64_t nanoseconds = 0; ///< wall time of all executions so far
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

inline void gather(const std::vector<Chunk> &cs, unsigned char *out) {
  for (const Chunk &c : cs) {
    std::memcpy(out, c.p, c.bytes);
    out += c.bytes;
  }
}
inline void scatter(const std::vector<Chunk> &cs, const unsigned char *in) {
  for (const Chunk &c : cs) {
    std::memcpy(c.p, in, c.bytes);
    in += c.bytes;
  }
}

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
  std::unique_ptr<ReplicaGroup> replicas; // a replicated graph's group (collective.hpp), else null
  unsigned replicationFactor = 1;
  unsigned numThreads = 1;
  std::uint64_t parallelEdgeBytes = kParallelEdgeBytes;
  bool poisonOutputs = false;
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

// engine_options.cpp

/// The Engine options that change what the runtime does.
struct EngineOptions {
  bool allowOutOfMemory = false; ///< debug.allowOutOfMemory, else SNNCC_ALLOW_OUT_OF_MEMORY
  unsigned numThreads = 1;       ///< snncc.numThreads, else SNNCC_NUM_THREADS
  std::uint64_t parallelEdgeBytes = kParallelEdgeBytes; ///< SNNCC_PARALLEL_MIN_BYTES
  bool poisonOutputs = false; ///< snncc.poisonOutputs, else SNNCC_POISON_OUTPUTS
};
/// Reads the options (and the environment); throws invalid_option for an
/// unknown option or a bad value, as Poplar does.
EngineOptions engineOptions(const poplar::OptionFlags &opts);

// graph_checks.cpp

/// One region of a variable that a vertex field reads or writes.
struct AccessRec {
  unsigned var;
  std::size_t b, e;
  unsigned vertex;
  unsigned field;
};
/// Every element and vertex mapped to a tile, every field connected or set.
void checkMappings(const GraphState &g);
/// No two vertices of compute set cs write one element, and none reads an
/// element another writes.
void checkConflicts(const GraphState &g, unsigned cs, std::vector<AccessRec> writes,
                    const std::vector<AccessRec> &reads);
/// Every tile of the memory model (of graph g) fits in the target's bytes
/// per tile (unless allowOutOfMemory).
void checkTileMemory(const GraphState &g, const snncc::runtime::Report &memory,
                     bool allowOutOfMemory);

// memory_report.cpp

/// Per-tile bytes as the engine would allocate them, vertex state and
/// receive buffers included; the compute sets' static figures.
snncc::runtime::Report memoryModel(const GraphState &g);
/// Each variable's tile mapping as runs of one tile (run starts, then the
/// variable's size; the tile of each run).
struct TileRuns {
  std::vector<std::vector<std::size_t>> start;
  std::vector<std::vector<unsigned>> tile;
  explicit TileRuns(const GraphState &g);
};
/// Bytes of the elements of t mapped to tiles other than `tile` (unmapped
/// ones left out): what a vertex on `tile` receives through an edge to t.
std::uint64_t remoteBytes(const GraphState &g, const TileRuns &runs, const poplar::Tensor &t,
                          unsigned tile);
/// The same summed over field f of vertex v (0 for a vertex-state field).
std::uint64_t remoteFieldBytes(const GraphState &g, const TileRuns &runs, const VertexNode &v,
                               unsigned f);
/// Modelled IPU vertex-state bytes of one vertex.
std::uint64_t vertexStateBytes(const VertexNode &v);

// compile.cpp

/// Allocates each vertex and binds its fields, grouping the vertices of each
/// compute set by tile; checks the compute sets for conflicts.
void buildComputeSets(EngineState &e, const GraphState &g);
/// The executable form of a program tree.
ExecNode compileProgram(EngineState &e, const GraphState &g, const ProgramNode &p, int depth);

} // namespace host
} // namespace snncc

#endif // snncc_runtime_engine_hpp
