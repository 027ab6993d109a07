// Copyright (c) 2024 snncc authors. SPDX-License-Identifier: Apache-2.0
// Runtime-internal state behind the Poplar handles.
#ifndef snncc_runtime_internal_hpp
#define snncc_runtime_internal_hpp

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <poplar/Device.hpp>
#include <poplar/Engine.hpp>
#include <poplar/Graph.hpp>
#include <poplar/Program.hpp>
#include <poplar/Tensor.hpp>
#include <snncc/runtime_report.hpp>
#include <snncc/vertex_registry.hpp>

namespace snncc {
namespace host {

// Codelets compute with float32 subnormals flushed to zero (inputs read as zero, results
// written as zero: x86's FTZ and DAZ). A gradient that decays into the subnormal range
// otherwise makes every operation on it 10-100x slower; the values differ from gradual
// underflow by less than 2^-126. FlushSubnormals sets the mode for the calling thread
// while it lives and restores the previous one; flushSubnormals() sets it for good
// (the runtime's own worker threads).
void flushSubnormals();
class FlushSubnormals {
public:
  FlushSubnormals();
  ~FlushSubnormals();
  FlushSubnormals(const FlushSubnormals &) = delete;
  FlushSubnormals &operator=(const FlushSubnormals &) = delete;

private:
  unsigned saved_;
};


constexpr unsigned kUnmapped = std::numeric_limits<unsigned>::max();

const TypeInfo *info(const poplar::Type &t);
std::string typeName(const TypeInfo *t);

/// Convert n host values (described by traits) to device type dst; a single
/// value is broadcast to all n when broadcast is set. Throws type_error for
/// values the device type cannot hold.
void convertValues(const void *src, const poplar::TypeTraits &traits,
                   std::size_t srcCount, void *dst, const TypeInfo *dstType,
                   std::size_t n, bool broadcast, const std::string &what);
/// Read element i of a buffer of type t as a double (for predicates).
double readAsDouble(const void *p, const TypeInfo *t);

struct TensorAccess {
  static poplar::Tensor make(std::vector<std::size_t> shape, poplar::Type type,
                             std::vector<Region> regions);
  static const std::vector<Region> &regions(const poplar::Tensor &t) {
    return t.regions_;
  }
};

struct Variable {
  poplar::Type type;
  std::size_t n = 0;
  std::string name;
  bool constant = false;
  std::vector<unsigned> tile;        // per element, kUnmapped if none
  std::vector<unsigned char> init;   // initial bytes, empty = zeros
};

struct FieldState {
  bool connected = false;            // edge connected / state value set
  std::vector<poplar::Tensor> tensors; // edge: 1; 2-D: one per element
  std::vector<bool> entrySet;        // 2-D: which elements are connected
  std::size_t size = 0;              // 2-D / state vector size
  bool sized = false;
  std::vector<unsigned char> value;  // state scalar or vector bytes
};

struct VertexNode {
  const VertexInfo *info = nullptr;
  unsigned cs = 0;
  unsigned tile = kUnmapped;
  std::vector<FieldState> fields;
};

struct ComputeSetNode {
  std::string name;
  std::vector<unsigned> vertices;
};

struct GraphState {
  poplar::Target target;
  unsigned replicas = 1; // replication_factor: one replica per process (MPI rank)
  std::vector<Variable> vars;
  std::vector<VertexNode> vertices;
  std::vector<ComputeSetNode> computeSets;
  std::map<std::string, poplar::DataStream> streams;
  std::map<std::string, poplar::Tensor> hostWrites; // createHostWrite
  std::map<std::string, poplar::Tensor> hostReads;  // createHostRead
  std::set<std::string> codeletFiles;
};

struct GraphAccess {
  static GraphState &state(const poplar::Graph &g) { return *g.state_; }
  static poplar::VertexRef vertex(unsigned id) {
    poplar::VertexRef v;
    v.id_ = id;
    return v;
  }
  static unsigned id(const poplar::VertexRef &v) { return v.id_; }
  static unsigned vertex(const poplar::FieldRef &f) { return f.vertex_; }
  static const std::string &fieldName(const poplar::FieldRef &f) {
    return f.field_;
  }
  static poplar::FieldRef field(unsigned vertex, std::string name) {
    poplar::FieldRef f;
    f.vertex_ = vertex;
    f.field_ = std::move(name);
    return f;
  }
  static void setIndex(poplar::FieldRef &f, std::size_t i) {
    f.index_ = i;
    f.indexed_ = true;
  }
  static poplar::DataStream stream(std::string handle, poplar::Type type,
                                   std::size_t n, poplar::DataStreamType kind) {
    poplar::DataStream s;
    s.handle_ = std::move(handle);
    s.type_ = type;
    s.n_ = n;
    s.kind_ = kind;
    return s;
  }
};

struct ProgramNode {
  enum Kind { Empty, Sequence, Execute, Copy, StreamIn, StreamOut, Repeat,
              WhileTrue, WhileFalse, If, Sync, AllReduce } kind = Empty;
  std::vector<std::shared_ptr<ProgramNode>> children; // body, cond, else
  unsigned computeSet = 0;
  unsigned count = 0;   // Repeat: iterations; AllReduce: the gcl::CollectiveOperator
  poplar::Tensor a, b; // Copy: src, dst; stream copies: the tensor; loops: predicate; AllReduce: the data
  std::string stream;
};

struct ProgramAccess {
  static std::shared_ptr<ProgramNode> &node(poplar::program::Program &p) {
    return p.node_;
  }
  static const std::shared_ptr<ProgramNode> &node(const poplar::program::Program &p) {
    return p.node_;
  }
};

struct DeviceAccess {
  static poplar::Device make(const poplar::Target &t);
};

/// Persistent workers for BSP supersteps (see ThreadPool.cpp). parallelFor
/// splits [0, n) into T fixed contiguous blocks [n*k/T, n*(k+1)/T); thread k
/// (the caller is thread 0) runs block k, except that the caller, once done
/// with its own, also runs the blocks whose thread has not started yet (a
/// descheduled worker). It allocates nothing.
/// Waiting is adaptive: a bounded spin with a pause instruction, a few
/// yields, then blocking (a futex on Linux, else a condition variable).
class ThreadPool {
public:
  explicit ThreadPool(unsigned numThreads);
  ~ThreadPool();
  ThreadPool(const ThreadPool &) = delete;
  ThreadPool &operator=(const ThreadPool &) = delete;
  unsigned size() const { return unsigned(workers_.size()) + 1; }
  /// Runs fn(i) for every i in [0, n), on all threads including the caller;
  /// returns when all are done. fn must not throw.
  template <class F> void parallelFor(std::size_t n, F &fn) {
    run(n, [](void *c, std::size_t i) { (*static_cast<F *>(c))(i); }, &fn);
  }
  /// Runs fn(i) for every i in [0, n) on the calling thread only.
  template <class F> static void serialFor(std::size_t n, F &fn) {
    for (std::size_t i = 0; i < n; ++i)
      fn(i);
  }
  /// The same with a plain function and context.
  void run(std::size_t n, void (*fn)(void *, std::size_t), void *ctx);

  /// A 32-bit word that threads wait on until it differs from a value.
  struct alignas(64) Word {
    std::atomic<std::uint32_t> value{0};
    std::atomic<std::uint32_t> sleepers{0};
  };

private:
  void workerLoop(unsigned k);
  void runBlock(unsigned k);
  /// Claims block k of superstep gen; true for exactly one thread.
  bool claim(unsigned k, std::uint32_t gen) {
    std::uint32_t expected = gen - 1;
    return claims_[k].value.compare_exchange_strong(expected, gen);
  }
  void finishBlock();
  /// Waits until w.value != old: spin (adaptive bound), yield, block.
  void waitWhile(Word &w, std::uint32_t old, std::int64_t &spinNs);
  void wake(Word &w);
  std::vector<std::thread> workers_;
  Word generation_; ///< bumped once per parallelFor (and at shutdown)
  Word pending_;    ///< workers not done with the current parallelFor
  // Written by the caller before generation_ is bumped; read by workers after.
  void (*fn_)(void *, std::size_t) = nullptr;
  void *ctx_ = nullptr;
  std::size_t total_ = 0;
  bool stop_ = false;
  bool steal_ = true; ///< SNNCC_POOL_STEAL=0: no stealing (measurements)
  std::unique_ptr<Word[]> claims_; ///< per block: the last superstep that claimed it
  std::int64_t callerSpinNs_;
  // Portable fallback for blocking (unused with futexes).
  std::mutex mutex_;
  std::condition_variable cv_;
};

} // namespace host
} // namespace snncc

#endif // snncc_runtime_internal_hpp
