// Copyright (c) 2024 snncc authors. SPDX-License-Identifier: Apache-2.0
// Control programs: nodes of the tree the Engine compiles and walks.
#include <poplar/Program.hpp>
#include <poplar/exceptions.hpp>

#include "internal.hpp"

namespace poplar {
namespace program {
using snncc::host::ProgramAccess;
using snncc::host::ProgramNode;

namespace {
std::shared_ptr<ProgramNode> node(ProgramNode::Kind k) {
  auto n = std::make_shared<ProgramNode>();
  n->kind = k;
  return n;
}
std::shared_ptr<ProgramNode> child(const Program &p) {
  const auto &n = ProgramAccess::node(p);
  return n ? n : node(ProgramNode::Empty);
}
void checkPredicate(const Tensor &t, const char *what) {
  if (!t.valid() || t.numElements() != 1)
    throw control_program_error(std::string(what) +
                                ": the predicate must be a tensor of one element");
}
} // namespace

Program::Program() = default;
Program::Program(const Program &other) = default;
Program &Program::operator=(const Program &other) = default;
Program::~Program() = default;
bool Program::isEmpty() const {
  if (!node_ || node_->kind == ProgramNode::Empty)
    return true;
  if (node_->kind != ProgramNode::Sequence)
    return false;
  for (const auto &c : node_->children)
    if (c && c->kind != ProgramNode::Empty)
      return false;
  return true;
}

Sequence::Sequence() { node_ = node(ProgramNode::Sequence); }
Sequence::Sequence(std::initializer_list<Program> programs) {
  node_ = node(ProgramNode::Sequence);
  for (const Program &p : programs)
    node_->children.push_back(child(p));
}
void Sequence::add(const Program &p) {
  if (ProgramAccess::node(p).get() == node_.get())
    throw control_program_error("Sequence::add: a sequence cannot contain itself");
  node_->children.push_back(child(p));
}

Execute::Execute(ComputeSet cs) {
  node_ = node(ProgramNode::Execute);
  node_->computeSet = cs.getId();
}

Copy::Copy(Tensor src, Tensor dst, bool) {
  if (!src.valid() || !dst.valid())
    throw control_program_error("Copy: invalid tensor");
  if (src.elementType() != dst.elementType())
    throw control_program_error("Copy: source type " + src.elementType().toString() +
                                " differs from destination type " +
                                dst.elementType().toString());
  if (src.numElements() != dst.numElements())
    throw control_program_error("Copy: source has " + std::to_string(src.numElements()) +
                                " elements, destination " +
                                std::to_string(dst.numElements()));
  node_ = node(ProgramNode::Copy);
  node_->a = std::move(src);
  node_->b = std::move(dst);
}

Copy::Copy(const DataStream &stream, Tensor dst, bool) {
  if (!isHostToDevice(stream.type()))
    throw control_program_error("Copy: stream '" + stream.handle() +
                                "' is not host-to-device");
  if (stream.elementType() != dst.elementType() || stream.numElements() != dst.numElements())
    throw control_program_error("Copy from stream '" + stream.handle() +
                                "': the stream carries " + std::to_string(stream.numElements()) +
                                " x " + stream.elementType().toString() + ", the tensor has " +
                                std::to_string(dst.numElements()) + " x " +
                                dst.elementType().toString());
  node_ = node(ProgramNode::StreamIn);
  node_->stream = stream.handle();
  node_->b = std::move(dst);
}

Copy::Copy(Tensor src, const DataStream &stream, bool) {
  if (!isDeviceToHost(stream.type()))
    throw control_program_error("Copy: stream '" + stream.handle() +
                                "' is not device-to-host");
  if (stream.elementType() != src.elementType() || stream.numElements() != src.numElements())
    throw control_program_error("Copy to stream '" + stream.handle() +
                                "': the stream carries " + std::to_string(stream.numElements()) +
                                " x " + stream.elementType().toString() + ", the tensor has " +
                                std::to_string(src.numElements()) + " x " +
                                src.elementType().toString());
  node_ = node(ProgramNode::StreamOut);
  node_->stream = stream.handle();
  node_->a = std::move(src);
}

Repeat::Repeat(unsigned count, const Program &body) {
  node_ = node(ProgramNode::Repeat);
  node_->count = count;
  node_->children.push_back(child(body));
}

RepeatWhileTrue::RepeatWhileTrue(const Program &cond, Tensor predicate,
                                 const Program &body) {
  checkPredicate(predicate, "RepeatWhileTrue");
  node_ = node(ProgramNode::WhileTrue);
  node_->children = {child(body), child(cond)};
  node_->a = std::move(predicate);
}

RepeatWhileFalse::RepeatWhileFalse(const Program &cond, Tensor predicate,
                                   const Program &body) {
  checkPredicate(predicate, "RepeatWhileFalse");
  node_ = node(ProgramNode::WhileFalse);
  node_->children = {child(body), child(cond)};
  node_->a = std::move(predicate);
}

If::If(Tensor predicate, const Program &trueBody, const Program &falseBody) {
  checkPredicate(predicate, "If");
  node_ = node(ProgramNode::If);
  node_->children = {child(trueBody), child(falseBody)};
  node_->a = std::move(predicate);
}

Sync::Sync(SyncType) { node_ = node(ProgramNode::Sync); }

} // namespace program
} // namespace poplar
