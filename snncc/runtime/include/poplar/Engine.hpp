// Copyright (c) 2024 snncc authors. SPDX-License-Identifier: Apache-2.0
/// \file Engine.hpp
/// Compiles a graph and its programs, loads them onto a device and runs them.
///
/// Host runtime: the constructor checks the graph as Poplar's compiler would
/// (tile mappings, field connections, overlapping writes in a compute set,
/// memory per tile) and lays out tensors and vertex state in host memory.
/// run() walks the program tree; Execute runs a compute set as a BSP
/// superstep on a persistent thread pool (SNNCC_NUM_THREADS or the option
/// "snncc.numThreads", default std::thread::hardware_concurrency()).
#ifndef poplar_Engine_hpp
#define poplar_Engine_hpp

#include <functional>
#include <memory>
#include <string>

#include <poplar/ArrayRef.hpp>
#include <poplar/DataStream.hpp>
#include <poplar/Device.hpp>
#include <poplar/Graph.hpp>
#include <poplar/OptionFlags.hpp>
#include <poplar/Program.hpp>

namespace snncc {
namespace host {
struct EngineState;
struct EngineAccess;
} // namespace host
} // namespace snncc

namespace poplar {

class Engine {
public:
  using ProgressFunc = std::function<void(int, int)>;

  /// \param graph The graph.  \param progs Programs, run by index.
  /// \param options Engine options (unknown ones throw invalid_option).
  /// \param progressCallBack Called with (step, total) while compiling.
  Engine(const Graph &graph, ArrayRef<program::Program> progs,
         const OptionFlags &options = {}, ProgressFunc progressCallBack = {});
  /// \param graph The graph.  \param prog The program (index 0).
  /// \param options Engine options.  \param progressCallBack Progress.
  Engine(const Graph &graph, program::Program prog,
         const OptionFlags &options = {}, ProgressFunc progressCallBack = {});
  Engine(Engine &&other) noexcept;
  Engine &operator=(Engine &&other) noexcept;
  ~Engine();

  /// \param device A device with the graph's target.
  void load(const Device &device);
  /// Run a program; throws if not loaded or the index is out of range.
  /// \param prog Program index.  \param debugName Ignored.
  void run(unsigned prog = 0, const std::string &debugName = "");
  /// \param device The device.  \param prog Program index.
  void loadAndRun(const Device &device, unsigned prog = 0);

  /// Every transfer reads (or writes) the same host location.
  /// \param handle Stream name.  \param p Host buffer of one transfer.
  void connectStream(std::string handle, void *p);
  /// A circular host buffer [begin, end): transfers advance through it and
  /// wrap; its size must be a multiple of one transfer.
  /// \param handle Stream name.  \param begin Start.  \param end End.
  void connectStream(std::string handle, void *begin, void *end);
  /// \param stream The stream.  \param p Host buffer of one transfer.
  void connectStream(const DataStream &stream, void *p);
  /// \param stream The stream.  \param begin Start.  \param end End.
  void connectStream(const DataStream &stream, void *begin, void *end);

  /// \param handle Name from createHostRead.  \param buf Destination.
  void readTensor(std::string handle, void *buf);
  /// \param handle Name.  \param buf Destination.  \param bufEnd Its end
  /// (must hold exactly the tensor).
  void readTensor(std::string handle, void *buf, void *bufEnd);
  /// \param handle Name from createHostWrite.  \param buf Source.
  void writeTensor(std::string handle, const void *buf);
  /// \param handle Name.  \param buf Source.  \param bufEnd Its end.
  void writeTensor(std::string handle, const void *buf, const void *bufEnd);

private:
  friend struct ::snncc::host::EngineAccess;
  std::unique_ptr<::snncc::host::EngineState> state_;
};

} // namespace poplar

#endif // poplar_Engine_hpp
