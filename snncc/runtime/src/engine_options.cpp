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

/// "true"/"false" (engine options) or "1"/"0" (environment).
bool flag(const std::string &s, const std::string &what, bool env) {
  if (s == (env ? "1" : "true"))
    return true;
  if (s == (env ? "0" : "false"))
    return false;
  throw poplar::invalid_option(what + (env ? " must be 1 or 0, not '" : " must be true or false, not '") +
                               s + "'");
}

/// An engine option's value, else the environment variable's, else false.
bool flagFrom(const poplar::OptionFlags &opts, const std::string &option, const char *env) {
  for (const auto &kv : opts)
    if (kv.first == option)
      return flag(kv.second, option, false);
  if (const char *v = std::getenv(env))
    return flag(v, env, true);
  return false;
}

void checkOptions(const poplar::OptionFlags &opts) {
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
  for (const auto &kv : opts) {
    if (kv.first == "snncc.numThreads" || kv.first == "snncc.poisonOutputs" ||
        kv.first == "debug.allowOutOfMemory" || ignored.count(kv.first))
      continue;
    throw poplar::invalid_option("Unrecognised engine option '" + kv.first + "'");
  }
}

} // namespace

EngineOptions engineOptions(const poplar::OptionFlags &opts) {
  EngineOptions o;
  checkOptions(opts);
  o.allowOutOfMemory = flagFrom(opts, "debug.allowOutOfMemory", "SNNCC_ALLOW_OUT_OF_MEMORY");
  o.poisonOutputs = flagFrom(opts, "snncc.poisonOutputs", "SNNCC_POISON_OUTPUTS");
  o.numThreads = threadsFrom(opts);
  if (const char *env = std::getenv("SNNCC_PARALLEL_MIN_BYTES"))
    o.parallelEdgeBytes = std::strtoull(env, nullptr, 10);
  return o;
}

} // namespace host
} // namespace snncc
