// Copyright (c) 2024 snncc authors. SPDX-License-Identifier: Apache-2.0
/// \file Program.hpp
/// Control programs: the host-built program tree the Engine walks. Programs
/// are handles: copies share one node, so adding to a Sequence is seen by
/// every copy of it.
#ifndef poplar_Program_hpp
#define poplar_Program_hpp

#include <initializer_list>
#include <memory>

#include <poplar/DataStream.hpp>
#include <poplar/DebugContext.hpp>
#include <poplar/GraphElements.hpp>
#include <poplar/SyncType.hpp>
#include <poplar/Tensor.hpp>

namespace snncc {
namespace host {
struct ProgramNode;
struct ProgramAccess;
} // namespace host
} // namespace snncc

namespace poplar {
namespace program {

/// Base of all programs; a default-constructed Program does nothing.
class Program {
public:
  Program();
  Program(const Program &other);
  Program &operator=(const Program &other);
  ~Program();
  bool isEmpty() const;

protected:
  friend struct ::snncc::host::ProgramAccess;
  std::shared_ptr<::snncc::host::ProgramNode> node_;
};

/// Programs run one after another.
class Sequence : public Program {
public:
  /// \param debugContext Name.
  Sequence(const DebugContext &debugContext = {});
  /// \param programs Programs to run in order.  \param debugContext Name.
  Sequence(std::initializer_list<Program> programs,
           const DebugContext &debugContext = {});
  /// Append a program.
  /// \param p The program.
  void add(const Program &p);
};

/// Run a compute set as one BSP superstep.
class Execute : public Program {
public:
  /// \param cs The compute set.  \param debugContext Name.
  explicit Execute(ComputeSet cs, const DebugContext &debugContext = {});
};

/// Copy between tensors, or between a stream and a tensor.
class Copy : public Program {
public:
  /// \param src Source.  \param dst Destination (same type and element count).
  /// \param dontOutline Ignored.  \param debugContext Name.
  Copy(Tensor src, Tensor dst, bool dontOutline = false,
       const DebugContext &debugContext = {});
  /// Host to device: the next stream element block into dst.
  /// \param stream Host-to-device FIFO.  \param dst Destination.
  /// \param optimiseMemory Ignored.  \param debugContext Name.
  Copy(const DataStream &stream, Tensor dst, bool optimiseMemory = false,
       const DebugContext &debugContext = {});
  /// Device to host.
  /// \param src Source.  \param stream Device-to-host FIFO.
  /// \param optimiseMemory Ignored.  \param debugContext Name.
  Copy(Tensor src, const DataStream &stream, bool optimiseMemory = false,
       const DebugContext &debugContext = {});
};

/// Run a program a fixed number of times.
class Repeat : public Program {
public:
  /// \param count Iterations.  \param body The program.
  /// \param debugContext Name.
  Repeat(unsigned count, const Program &body,
         const DebugContext &debugContext = {});
};

/// Run cond; while the scalar pred is non-zero run body and cond again.
class RepeatWhileTrue : public Program {
public:
  /// \param cond Runs before each test.  \param predicate Scalar tensor.
  /// \param body Loop body.  \param debugContext Name.
  RepeatWhileTrue(const Program &cond, Tensor predicate, const Program &body,
                  const DebugContext &debugContext = {});
};

/// Run cond; while the scalar pred is zero run body and cond again.
class RepeatWhileFalse : public Program {
public:
  /// \param cond Runs before each test.  \param predicate Scalar tensor.
  /// \param body Loop body.  \param debugContext Name.
  RepeatWhileFalse(const Program &cond, Tensor predicate, const Program &body,
                   const DebugContext &debugContext = {});
};

/// Run one of two programs depending on a scalar predicate.
class If : public Program {
public:
  /// \param predicate Scalar tensor (non-zero: trueBody).
  /// \param trueBody Program.  \param falseBody Program.
  /// \param debugContext Name.
  If(Tensor predicate, const Program &trueBody, const Program &falseBody,
     const DebugContext &debugContext = {});
};

/// A barrier; a no-op on the host, where every superstep ends in one.
class Sync : public Program {
public:
  /// \param type INTERNAL or EXTERNAL.  \param debugContext Name.
  explicit Sync(SyncType type, const DebugContext &debugContext = {});
};

} // namespace program
} // namespace poplar

#endif // poplar_Program_hpp
