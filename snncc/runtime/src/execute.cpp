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
  std::size_t errAt = ~std::size_t(0); // the first failing (tile, worker) in order
  std::string errText;
  std::exception_ptr errPtr;
  auto fail = [&](std::size_t at, std::exception_ptr p, std::string text) {
    std::lock_guard<std::mutex> lock(errMutex);
    if (at < errAt) {
      errAt = at;
      errPtr = p;
      errText = std::move(text);
    }
  };
  auto prepare = [](TileWork &tw) {
    for (const Poison &p : tw.poison)
      poison(p);
    for (const Staged &s : tw.staged)
      if (s.gather)
        gather(s.chunks, s.buf);
  };
  auto finish = [](TileWork &tw) {
    for (const Staged &s : tw.staged)
      if (s.scatter)
        scatter(s.chunks, s.buf);
  };
  constexpr unsigned W = poplar::MultiVertex::numWorkers();
  // Workers [w0, w1) of every vertex of tile i (a Vertex runs as worker 0);
  // false once one returned false (recorded).
  auto runVertices = [&](std::size_t i, unsigned w0, unsigned w1) {
    TileWork &tw = cs.tiles[i];
    for (const VertexInst &v : tw.vertices) {
      bool ok = true;
      if (v.multi) {
        for (unsigned w = w0; w < w1; ++w)
          ok = v.compute(v.obj, w) && ok;
      } else if (w0 == 0) {
        ok = v.compute(v.obj, 0);
      }
      if (!ok) {
        fail(i * W + w0, nullptr,
             "Vertex " + std::to_string(v.id) + " on tile " + std::to_string(tw.tile) +
                 " in compute set '" + cs.name + "' returned false");
        return false;
      }
    }
    return true;
  };
  auto guarded = [&](std::size_t at, auto f) {
    try {
      f();
    } catch (...) {
      fail(at, std::current_exception(), {});
    }
  };
  if (cs.threads == CSPlan::Threads::Workers) {
    TileWork &tw = cs.tiles[0];
    guarded(0, [&] { prepare(tw); });
    if (errAt == ~std::size_t(0)) {
      auto work = [&](std::size_t w) {
        guarded(w, [&] { runVertices(0, unsigned(w), unsigned(w) + 1); });
      };
      pool->parallelFor(W, work);
    }
    if (errAt == ~std::size_t(0))
      guarded(0, [&] { finish(tw); });
  } else {
    auto work = [&](std::size_t i) {
      guarded(i * W, [&] {
        prepare(cs.tiles[i]);
        if (runVertices(i, 0, W))
          finish(cs.tiles[i]);
      });
    };
    if (cs.threads == CSPlan::Threads::Tiles)
      pool->parallelFor(cs.tiles.size(), work);
    else
      ThreadPool::serialFor(cs.tiles.size(), work);
  }
  cs.nanoseconds += std::chrono::duration_cast<std::chrono::nanoseconds>(
                        std::chrono::steady_clock::now() - start)
                        .count();
  if (errPtr)
    std::rethrow_exception(errPtr);
  if (errAt != ~std::size_t(0))
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
  case ProgramNode::AllReduce: {
    // gcl::CollectiveOperator ADD (0) or MEAN (1), over the replica group
    if (!replicas)
      return; // one replica: the sum is the data itself
    scratch.resize(n.bytes);
    gather(n.dst, scratch.data());
    float *v = reinterpret_cast<float *>(scratch.data());
    const std::size_t count = n.bytes / sizeof(float);
    replicas->sum(v, count);
    if (n.count == 1)
      for (std::size_t i = 0; i < count; ++i)
        v[i] /= float(replicationFactor);
    scatter(n.dst, scratch.data());
    return;
  }
  }
}

} // namespace host
} // namespace snncc
