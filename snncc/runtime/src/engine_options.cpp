// Copyright (c) 2024 snncc authors. SPDX-License-Identifier: Apache-2.0
// Engine options: the ones the runtime acts on, the Poplar ones it accepts
// and ignores, and the refusal of any other.
#include <cstdlib>

#include "engine.hpp"

namespace snncc {
namespace host {
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

} // namespace

EngineOptions engineOptions(const poplar::OptionFlags &opts) {
  EngineOptions o;
  o.allowOutOfMemory = checkOptions(opts);
  o.numThreads = threadsFrom(opts);
  if (const char *env = std::getenv("SNNCC_PARALLEL_MIN_BYTES"))
    o.parallelEdgeBytes = std::strtoull(env, nullptr, 10);
  return o;
}

} // namespace host
} // namespace snncc
