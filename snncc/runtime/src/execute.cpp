// Copyright (c) 2024 snncc authors. SPDX-License-Identifier: Apache-2.0
// Execution: the program tree walked on the host, each compute set a BSP
// superstep whose tiles run on the thread pool, copies and stream transfers
// as exchange would move the bytes.
#include <chrono>
#include <exception>

#include "engine.hpp"

namespace snncc {
namespace host {

void poison(const Poison &x) {
  // Storage is aligned to the element size (64-byte buffers, element offsets).
  switch (x.type->kind) {
  case TypeInfo::Float:
    std::fill_n(reinterpret_cast<std::uint32_t *>(x.p), x.n, 0x7fc00000u);
    return;
  case TypeInfo::Half:
    std::fill_n(reinterpret_cast<std::uint16_t *>(x.p), x.n, std::uint16_t(0x7e00));
    return;
  default:
    std::memset(x.p, 0xa5, x.n * x.type->size);
  }
}

void EngineState::runComputeSet(CSPlan &cs) {
  ++cs.executions;
  const auto start = std::chrono::steady_clock::now();
  std::mutex errMutex;
  std::size_t errTile = ~std::size_t(0);
  std::string errText;
  std::exception_ptr errPtr;
  auto work = [&](std::size_t i) {
    TileWork &tw = cs.tiles[i];
    try {
      for (const Poison &p : tw.poison)
        poison(p);
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
  cs.nanoseconds += std::chrono::duration_cast<std::chrono::nanoseconds>(
                        std::chrono::steady_clock::now() - start)
                        .count();
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
