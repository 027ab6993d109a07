// Copyright (c) 2024 snncc authors. SPDX-License-Identifier: Apache-2.0
// Debug contexts, option flags and the graph element handles.
#include <poplar/DebugContext.hpp>
#include <poplar/OptionFlags.hpp>

#include "internal.hpp"

namespace poplar {

// ---- debug contexts ---------------------------------------------------------
SourceLocation::SourceLocation()
    : function_(""), file_(""), line_(0), valid_(false) {}
SourceLocation::SourceLocation(const char *functionName, const char *fileName,
                               unsigned lineNumber)
    : function_(functionName), file_(fileName), line_(lineNumber), valid_(true) {}
const char *SourceLocation::getFunctionName() const { return function_; }
const char *SourceLocation::getFileName() const { return file_; }
unsigned SourceLocation::getLineNumber() const { return line_; }
bool SourceLocation::isValid() const { return valid_; }
SourceLocation SourceLocation::Current() { return SourceLocation(); }

DebugContext::DebugContext(SourceLocation loc) : loc_(loc) {}
DebugContext::DebugContext(const char *name, SourceLocation loc)
    : name_(name ? name : ""), loc_(loc) {}
DebugContext::DebugContext(std::string name, SourceLocation loc)
    : name_(std::move(name)), loc_(loc) {}
std::string DebugContext::getPathName() const { return name_; }

// ---- options ----------------------------------------------------------------
OptionFlags::iterator::iterator(const iterator &other) = default;
OptionFlags::iterator &OptionFlags::iterator::operator=(const iterator &other) = default;
const OptionFlags::OptionFlag &OptionFlags::iterator::operator*() const { return *it_; }
const OptionFlags::OptionFlag *OptionFlags::iterator::operator->() const { return &*it_; }
OptionFlags::iterator &OptionFlags::iterator::operator++() {
  ++it_;
  return *this;
}
bool OptionFlags::iterator::operator==(const iterator &o) const { return it_ == o.it_; }
bool OptionFlags::iterator::operator!=(const iterator &o) const { return it_ != o.it_; }

OptionFlags::OptionFlags() = default;
OptionFlags::OptionFlags(initializer_list list) {
  for (const auto &kv : list)
    values_[kv.first] = kv.second;
}
OptionFlags::OptionFlags(const OptionFlags &other) = default;
OptionFlags &OptionFlags::operator=(const OptionFlags &other) = default;
OptionFlags::~OptionFlags() = default;
void OptionFlags::set(std::string option, std::string value) {
  values_[std::move(option)] = std::move(value);
}
const std::string &OptionFlags::at(std::string option) const {
  return values_.at(option);
}
void OptionFlags::clear() { values_.clear(); }
OptionFlags::iterator OptionFlags::begin() const {
  iterator i;
  i.it_ = values_.begin();
  return i;
}
OptionFlags::iterator OptionFlags::end() const {
  iterator i;
  i.it_ = values_.end();
  return i;
}

// ---- graph element handles --------------------------------------------------
ComputeSet::ComputeSet() : id_(~0u) {}
ComputeSet::ComputeSet(unsigned id) : id_(id) {}
unsigned ComputeSet::getId() const { return id_; }

FieldRef::FieldRef() : vertex_(~0u), index_(0), indexed_(false) {}
FieldRef FieldRef::operator[](std::size_t index) const {
  FieldRef f = *this;
  snncc::host::GraphAccess::setIndex(f, index);
  return f;
}
bool FieldRef::isIndexed() const { return indexed_; }
std::size_t FieldRef::getIndex() const { return index_; }

VertexRef::VertexRef() : id_(~0u) {}
unsigned VertexRef::getId() const { return id_; }
FieldRef VertexRef::operator[](const std::string &fieldName) const {
  return snncc::host::GraphAccess::field(id_, fieldName);
}

bool isHostToDevice(DataStreamType type) {
  return type == DataStreamType::HostToDeviceFIFO ||
         type == DataStreamType::HostToDeviceBuffer;
}
bool isDeviceToHost(DataStreamType type) { return !isHostToDevice(type); }

DataStream::DataStream()
    : n_(0), kind_(DataStreamType::HostToDeviceFIFO),
      mode_(ReplicatedStreamMode::REPLICATE) {}
DataStream::DataStream(const DataStream &other) = default;
DataStream &DataStream::operator=(const DataStream &other) = default;
DataStream::~DataStream() = default;
std::string DataStream::handle() const { return handle_; }
Type DataStream::elementType() const { return type_; }
std::size_t DataStream::numElements() const { return n_; }
DataStreamType DataStream::type() const { return kind_; }
unsigned DataStream::replicationFactor() const { return 1; }
ReplicatedStreamMode DataStream::replicatedMode() const { return mode_; }

} // namespace poplar
