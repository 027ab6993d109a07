// Copyright (c) 2024 snncc authors. SPDX-License-Identifier: Apache-2.0
// The Engine: checks and lays out a graph like Poplar's compiler, then runs
// its programs (see engine.hpp for the parts), and moves data to and from
// the host through streams and host reads and writes.
#include <cstdlib>
#include <cstring>

#include <poplar/Engine.hpp>

#include "engine.hpp"

namespace poplar {
using namespace snncc::host;

Engine::Engine(const Graph &graph, ArrayRef<program::Program> progs,
               const OptionFlags &options, ProgressFunc progressCallBack)
    : state_(std::make_unique<EngineState>()) {
  const GraphState &g = GraphAccess::state(graph);
  EngineState &e = *state_;
  const EngineOptions opts = engineOptions(options);
  e.numThreads = opts.numThreads;
  e.parallelEdgeBytes = opts.parallelEdgeBytes;
  e.poisonOutputs = opts.poisonOutputs;
  e.target = g.target;
  e.replicationFactor = g.replicas;
  if (g.replicas > 1)
    e.replicas = joinReplicas(g.replicas);
  checkMappings(g);
  // Memory per tile, checked before anything is allocated.
  e.memory = memoryModel(g);
  checkTileMemory(g, e.memory, opts.allowOutOfMemory);

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
  const snncc::host::FlushSubnormals flush; // the caller runs codelets too
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
