// Copyright (c) 2024 snncc authors. SPDX-License-Identifier: Apache-2.0
// Persistent worker threads for BSP supersteps: no thread is created per
// compute set and nothing is allocated per superstep. Thread k (the caller is
// thread 0) always runs the same contiguous block of a compute set's tiles,
// so which thread runs a tile never depends on timing.
//
// Waiting (workers for the next superstep, the caller for the workers) is
// adaptive: spin with a pause instruction for a bounded time that grows while
// spinning succeeds and halves each time the thread had to block, then yield
// a couple of times, then block on a futex (Linux) or a condition variable.
// Blocked threads cost nothing while other processes load the cores, and the
// scheduler favours a woken sleeper over a busy process.
#include "internal.hpp"

#include <chrono>
#include <climits>
#include <cstdlib>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define SNNCC_RELAX() _mm_pause()
#define SNNCC_MXCSR 1
#elif defined(__aarch64__)
#define SNNCC_RELAX() __asm__ __volatile__("yield" ::: "memory")
#else
#define SNNCC_RELAX() std::atomic_signal_fence(std::memory_order_seq_cst)
#endif

#if defined(__linux__)
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>
#define SNNCC_FUTEX 1
#else
#define SNNCC_FUTEX 0
#endif

namespace snncc {
namespace host {
namespace {

// Spin budget per wait, adapted per thread between these bounds. The upper
// bound must outlast the gaps between parallel supersteps: compute sets that
// run on the caller alone (a one-tile readout's weight gradient takes about a
// millisecond) and host work between them. A worker that blocks there wakes
// too late for the next superstep, whose blocks the caller then runs alone:
// with a 100 us bound, 2 threads trained the SHD-size network no faster than 1
// (bench/RESULTS.md, "Thread pool spin bound").
constexpr std::int64_t kMinSpinNs = 1000;
constexpr std::int64_t kMaxSpinNs = 5000000;
constexpr std::int64_t kInitialSpinNs = 1000000;
constexpr int kYields = 2;
constexpr unsigned kClockEvery = 16; // spins between clock reads

std::int64_t nowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

#if SNNCC_FUTEX
static_assert(sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t),
              "futex needs a plain 32-bit atomic");
void futexWait(std::atomic<std::uint32_t> &a, std::uint32_t expected) {
  syscall(SYS_futex, reinterpret_cast<std::uint32_t *>(&a), FUTEX_WAIT_PRIVATE, expected,
          nullptr, nullptr, 0);
}
void futexWakeAll(std::atomic<std::uint32_t> &a) {
  syscall(SYS_futex, reinterpret_cast<std::uint32_t *>(&a), FUTEX_WAKE_PRIVATE, INT_MAX,
          nullptr, nullptr, 0);
}
#endif

} // namespace

ThreadPool::ThreadPool(unsigned numThreads)
    : claims_(new Word[numThreads]), callerSpinNs_(kInitialSpinNs) {
  if (const char *env = std::getenv("SNNCC_POOL_STEAL"))
    steal_ = std::string(env) != "0";
  for (unsigned k = 1; k < numThreads; ++k)
    workers_.emplace_back([this, k] { workerLoop(k); });
}

ThreadPool::~ThreadPool() {
  stop_ = true;
  generation_.value.fetch_add(1); // seq_cst: publishes stop_
  wake(generation_);
  for (auto &t : workers_)
    t.join();
}

template <class Done>
static void waitFor(ThreadPool::Word &w, Done done, std::int64_t &spinNs, std::mutex &m,
                    std::condition_variable &cv) {
  if (done(w.value.load(std::memory_order_acquire)))
    return;
  // 1. Spin, bounded in time.
  const std::int64_t start = nowNs();
  for (unsigned i = 1;; ++i) {
    SNNCC_RELAX();
    if (done(w.value.load(std::memory_order_acquire))) {
      spinNs = std::min(kMaxSpinNs, spinNs + spinNs / 8 + 256);
      return;
    }
    if (i % kClockEvery == 0 && nowNs() - start >= spinNs)
      break;
  }
  // 2. Let another thread of this core run.
  for (int y = 0; y < kYields; ++y) {
    std::this_thread::yield();
    if (done(w.value.load(std::memory_order_acquire)))
      return;
  }
  // 3. Block. Pairs with wake(): either the waker sees sleepers > 0, or this
  // thread sees the new value (both sides are seq_cst).
  spinNs = std::max(kMinSpinNs, spinNs / 2);
#if SNNCC_FUTEX
  (void)m;
  (void)cv;
  w.sleepers.fetch_add(1);
  for (;;) {
    const std::uint32_t v = w.value.load();
    if (done(v))
      break;
    futexWait(w.value, v); // returns at once if the value is no longer v
  }
  w.sleepers.fetch_sub(1);
#else
  std::unique_lock<std::mutex> lock(m);
  w.sleepers.fetch_add(1);
  cv.wait(lock, [&] { return done(w.value.load()); });
  w.sleepers.fetch_sub(1);
#endif
}

void ThreadPool::wake(Word &w) {
  if (w.sleepers.load() == 0)
    return;
#if SNNCC_FUTEX
  futexWakeAll(w.value);
#else
  { std::lock_guard<std::mutex> lock(mutex_); }
  cv_.notify_all();
#endif
}

void ThreadPool::runBlock(unsigned k) {
  const std::size_t T = size();
  const std::size_t end = total_ * (k + 1) / T;
  for (std::size_t i = total_ * k / T; i < end; ++i)
    fn_(ctx_, i);
}

void ThreadPool::run(std::size_t n, void (*fn)(void *, std::size_t), void *ctx) {
  if (workers_.empty() || n <= 1) {
    for (std::size_t i = 0; i < n; ++i)
      fn(ctx, i);
    return;
  }
  fn_ = fn;
  ctx_ = ctx;
  total_ = n;
  pending_.value.store(std::uint32_t(workers_.size()), std::memory_order_relaxed);
  const std::uint32_t gen = generation_.value.fetch_add(1) + 1; // seq_cst: publishes the above
  wake(generation_);
  runBlock(0);
  // Blocks whose worker has not started (descheduled, or still waking up):
  // run them here rather than wait. Which thread runs a block never changes
  // results: a compute set's tiles write disjoint elements and read none of
  // them (checked when the engine is built).
  if (steal_)
    for (unsigned k = 1; k < size(); ++k)
      if (claim(k, gen)) {
        runBlock(k);
        finishBlock();
      }
  waitFor(pending_, [](std::uint32_t v) { return v == 0; }, callerSpinNs_, mutex_, cv_);
  fn_ = nullptr;
  ctx_ = nullptr;
}

void ThreadPool::workerLoop(unsigned k) {
  flushSubnormals(); // the worker runs codelets only
  std::uint32_t seen = 0;
  std::int64_t spinNs = kInitialSpinNs;
  for (;;) {
    waitFor(generation_, [seen](std::uint32_t v) { return v != seen; }, spinNs, mutex_, cv_);
    seen = generation_.value.load(std::memory_order_acquire);
    if (stop_)
      return;
    if (claim(k, seen)) {
      runBlock(k);
      finishBlock();
    }
  }
}

void ThreadPool::finishBlock() {
  if (pending_.value.fetch_sub(1) == 1) // seq_cst: publishes the block's writes
    wake(pending_);
}

// FTZ (bit 15) and DAZ (bit 6) of MXCSR; other CPUs keep their default.
constexpr unsigned kFlushBits = 0x8040u;

void flushSubnormals() {
#ifdef SNNCC_MXCSR
  _mm_setcsr(_mm_getcsr() | kFlushBits);
#endif
}

FlushSubnormals::FlushSubnormals() : saved_(0) {
#ifdef SNNCC_MXCSR
  saved_ = _mm_getcsr();
  _mm_setcsr(saved_ | kFlushBits);
#endif
}

FlushSubnormals::~FlushSubnormals() {
#ifdef SNNCC_MXCSR
  _mm_setcsr(saved_);
#endif
}

} // namespace host
} // namespace snncc
