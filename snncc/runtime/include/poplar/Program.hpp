// Copyright (c) 2024 snncc authors. SPDX-License-Identifier: Apache-2.0
/// \file Program.hpp
/// Control programs: the host-built program tree the Engine walks. Programs
/// are handles: copies share one node, so adding to a Sequence is seen by
/// every copy of it. Constructors take exactly the parameters of the
/// declaration list (no DebugContext).
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
  Sequence();
  /// \param programs Programs to run in order.
  Sequence(std::initializer_list<Program> programs);
  /// Append a program.
  /// \param p The program.
  void add(const Program &p);
};

/// Run a compute set as one BSP superstep.
class Execute : public Program {
public:
  /// \param cs The compute set.
  explicit Execute(ComputeSet cs);
};

/// Copy between tensors, or between a stream and a tensor.
class Copy : public Program {
public:
  /// \param src Source.  \param dst Destination (same type and element count).
  /// \param dontOutline Ignored.
  Copy(Tensor src, Tensor dst, bool dontOutline = false);
  /// Host to device: the next stream element block into dst.
  /// \param stream Host-to-device FIFO.  \param dst Destination.
  /// \param optimiseMemory Ignored.
  Copy(const DataStream &stream, Tensor dst, bool optimiseMemory = false);
  /// Device to host.
  /// \param src Source.  \param stream Device-to-host FIFO.
  /// \param optimiseMemory Ignored.
  Copy(Tensor src, const DataStream &stream, bool optimiseMemory = false);
};

/// Run a program a fixed number of times.
class Repeat : public Program {
public:
  /// \param count Iterations.  \param body The program.
  Repeat(unsigned count, const Program &body);
};

/// Run cond; while the scalar pred is non-zero run body and cond again.
class RepeatWhileTrue : public Program {
public:
  /// \param cond Runs before each test.  \param predicate Scalar tensor.
  /// \param body Loop body.
  RepeatWhileTrue(const Program &cond, Tensor predicate, const Program &body);
};

/// Run cond; while the scalar pred is zero run body and cond again.
class RepeatWhileFalse : public Program {
public:
  /// \param cond Runs before each test.  \param predicate Scalar tensor.
  /// \param body Loop body.
  RepeatWhileFalse(const Program &cond, Tensor predicate, const Program &body);
};

/// Run one of two programs depending on a scalar predicate.
class If : public Program {
public:
  /// \param predicate Scalar tensor (non-zero: trueBody).
  /// \param trueBody Program.  \param falseBody Program.
  If(Tensor predicate, const Program &trueBody, const Program &falseBody);
};

/// A barrier; a no-op on the host, where every superstep ends in one.
class Sync : public Program {
public:
  /// \param type INTERNAL or EXTERNAL.
  explicit Sync(SyncType type);
};

} // namespace program
} // namespace poplar

#endif // poplar_Program_hpp
