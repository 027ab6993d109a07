// Copyright (c) 2024 snncc authors. SPDX-License-Identifier: Apache-2.0
// Persistent worker threads for BSP supersteps: no thread is created per
// compute set; workers spin briefly, then sleep on a condition variable.
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define SNNCC_RELAX() _mm_pause()
#else
#define SNNCC_RELAX() std::this_thread::yield()
#endif

#include "internal.hpp"

namespace snncc {
namespace host {
namespace {
// Supersteps of a training step follow each other within microseconds, so a
// short spin saves a futex round trip; after that, stop burning a core.
constexpr int kSpin = 4000;
constexpr int kYield = 200;
} // namespace

ThreadPool::ThreadPool(unsigned numThreads) {
  for (unsigned i = 1; i < numThreads; ++i)
    workers_.emplace_back([this] { workerLoop(); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_.store(true);
    generation_.fetch_add(1);
  }
  cv_.notify_all();
  for (auto &t : workers_)
    t.join();
}

void ThreadPool::drain() {
  for (;;) {
    const std::size_t i = next_.fetch_add(1);
    if (i >= total_)
      return;
    (*fn_)(i);
  }
}

void ThreadPool::parallelFor(std::size_t n, const std::function<void(std::size_t)> &fn) {
  if (workers_.empty() || n <= 1) {
    for (std::size_t i = 0; i < n; ++i)
      fn(i);
    return;
  }
  fn_ = &fn;
  total_ = n;
  next_.store(0);
  pending_.store(unsigned(workers_.size()));
  generation_.fetch_add(1); // seq_cst: pairs with the sleepers_ handshake
  if (sleepers_.load() > 0) {
    std::lock_guard<std::mutex> lock(mutex_);
    cv_.notify_all();
  }
  drain();
  for (int spins = 0; pending_.load() != 0; ++spins) {
    if (spins < kSpin)
      SNNCC_RELAX();
    else
      std::this_thread::yield();
  }
  fn_ = nullptr;
}

void ThreadPool::workerLoop() {
  std::uint64_t seen = 0;
  for (;;) {
    for (int spins = 0; generation_.load() == seen; ++spins) {
      if (spins < kSpin) {
        SNNCC_RELAX();
      } else if (spins < kSpin + kYield) {
        std::this_thread::yield();
      } else {
        std::unique_lock<std::mutex> lock(mutex_);
        sleepers_.fetch_add(1);
        cv_.wait(lock, [&] { return generation_.load() != seen; });
        sleepers_.fetch_sub(1);
      }
    }
    seen = generation_.load();
    if (stop_.load())
      return;
    drain();
    pending_.fetch_sub(1);
  }
}

} // namespace host
} // namespace snncc
