// Copyright (c) 2024 snncc authors. SPDX-License-Identifier: Apache-2.0
// Exceptions, debug contexts, options, targets and devices.
#include <poplar/DebugContext.hpp>
#include <poplar/Device.hpp>
#include <poplar/DeviceManager.hpp>
#include <poplar/IPUModel.hpp>
#include <poplar/OptionFlags.hpp>
#include <poplar/Target.hpp>
#include <poplar/exceptions.hpp>

#include <cstring>

#include "internal.hpp"

namespace poplar {

// ---- exceptions -------------------------------------------------------------
poplar_error::poplar_error(const std::string &s) : std::runtime_error(s) {}
poplar_error::poplar_error(const char *s) : std::runtime_error(s) {}

#define SNNCC_DEFINE_ERROR(NAME)                                               \
  NAME::NAME(const std::string &s) : poplar_error(s) {}                        \
  NAME::NAME(const char *s) : poplar_error(s) {}
SNNCC_DEFINE_ERROR(graph_connection_error)
SNNCC_DEFINE_ERROR(graph_cycle_error)
SNNCC_DEFINE_ERROR(graph_memory_allocation_error)
SNNCC_DEFINE_ERROR(graph_object_creation_error)
SNNCC_DEFINE_ERROR(graph_program_compilation_error)
SNNCC_DEFINE_ERROR(invalid_machine_model)
SNNCC_DEFINE_ERROR(invalid_option)
SNNCC_DEFINE_ERROR(invalid_tile_mapping)
SNNCC_DEFINE_ERROR(no_environment)
SNNCC_DEFINE_ERROR(overflow_error)
SNNCC_DEFINE_ERROR(parse_error)
SNNCC_DEFINE_ERROR(runtime_error)
SNNCC_DEFINE_ERROR(stream_connection_error)
SNNCC_DEFINE_ERROR(tensor_creation_error)
SNNCC_DEFINE_ERROR(tensor_io_state_error)
SNNCC_DEFINE_ERROR(type_error)
#undef SNNCC_DEFINE_ERROR

control_program_error::control_program_error(const std::string &s) : poplar_error(s) {}
file_load_error::file_load_error(const std::string &path)
    : poplar_error("Could not load file " + path) {}
graph_object_load_error::graph_object_load_error(const std::string &path,
                                                 const std::string &error)
    : poplar_error(path + ": " + error) {}
index_error::index_error(const std::string &s) : poplar_error(s) {}
index_error::index_error(const char *s) : poplar_error(s) {}
index_error::index_error(const std::string &vertexDotField, std::size_t index)
    : poplar_error("Index " + std::to_string(index) + " out of range for field " +
                   vertexDotField) {}
no_size_specified::no_size_specified(const std::string &s) : poplar_error(s) {}
no_size_specified::no_size_specified(const char *s) : poplar_error(s) {}
no_size_specified::no_size_specified(const std::string &fieldName,
                                     const std::string &vertexName)
    : poplar_error("No size specified for field " + vertexName + "." + fieldName) {}
unknown_field::unknown_field(const std::string &s) : poplar_error(s) {}
unknown_field::unknown_field(const char *s) : poplar_error(s) {}
unknown_field::unknown_field(const std::string &fieldName,
                             const std::string &vertexName)
    : poplar_error("Unknown field '" + fieldName + "' of vertex type '" +
                   vertexName + "'") {}
unknown_vertex_type::unknown_vertex_type(const std::string &name)
    : poplar_error("Unknown vertex type '" + name + "'") {}

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

// ---- targets ----------------------------------------------------------------
std::string toString(TargetType t) {
  switch (t) {
  case TargetType::IPU:
    return "IPU";
  case TargetType::IPU_MODEL:
    return "IPU_MODEL";
  default:
    return "CPU";
  }
}

namespace {
struct Arch {
  unsigned tiles, bytes;
  double clock;
};
Arch archOf(const std::string &name) {
  if (name == "ipu1")
    return {1216, 256 * 1024, 1.6e9};
  if (name == "ipu2" || name == "ipu21")
    return {1472, 624 * 1024, 1.33e9};
  throw invalid_machine_model("Unknown IPU architecture '" + name +
                              "' (expected ipu1, ipu2 or ipu21)");
}
} // namespace

Target::Target()
    : type_(TargetType::IPU_MODEL), arch_("ipu2"), numIPUs_(1), tilesPerIPU_(1472),
      bytesPerTile_(624 * 1024), workers_(MultiVertex::numWorkers()),
      clockHz_(1.33e9) {}
Target::Target(const Target &other) = default;
Target &Target::operator=(const Target &other) = default;
Target::~Target() = default;

Target Target::createIPUTarget(unsigned numIPUs, std::string systemType,
                               const OptionFlags &opts) {
  return createIPUTarget(numIPUs, archOf(systemType).tiles, systemType, opts);
}
Target Target::createIPUTarget(unsigned numIPUs, unsigned tilesPerIPU,
                               std::string systemType, const OptionFlags &opts) {
  if (opts.begin() != opts.end())
    throw invalid_option("Unrecognised target option '" + opts.begin()->first + "'");
  const Arch a = archOf(systemType);
  if (numIPUs == 0 || tilesPerIPU == 0)
    throw invalid_machine_model("A target needs at least one IPU and one tile");
  Target t;
  t.type_ = TargetType::IPU;
  t.arch_ = systemType;
  t.numIPUs_ = numIPUs;
  t.tilesPerIPU_ = tilesPerIPU;
  t.bytesPerTile_ = a.bytes;
  t.clockHz_ = a.clock;
  return t;
}
Target Target::createCPUTarget(bool) {
  Target t;
  t.type_ = TargetType::CPU;
  t.arch_ = "cpu";
  t.numIPUs_ = 1;
  t.tilesPerIPU_ = 1;
  t.bytesPerTile_ = 0xffffffffu;
  return t;
}
TargetType Target::getTargetType() const { return type_; }
std::string Target::getTargetArchString() const { return arch_; }
unsigned Target::getNumIPUs() const { return numIPUs_; }
unsigned Target::getTilesPerIPU() const { return tilesPerIPU_; }
unsigned Target::getNumTiles() const { return numIPUs_ * tilesPerIPU_; }
unsigned Target::getBytesPerTile() const { return bytesPerTile_; }
std::size_t Target::getMemoryBytes() const {
  return std::size_t(bytesPerTile_) * getNumTiles();
}
unsigned Target::getNumWorkerContexts() const { return workers_; }
double Target::getTileClockFrequency() const { return clockHz_; }
unsigned Target::getDataPathWidth() const { return 64; }
unsigned Target::getFloatVectorWidth() const { return 2; }
unsigned Target::getHalfVectorWidth() const { return 4; }
unsigned Target::getVectorWidth(const Type &type) const {
  return 8 / getTypeSize(type);
}
unsigned Target::getTypeSize(const Type &type) const {
  return snncc::host::info(type)->size;
}
unsigned Target::getAtomicStoreGranularity() const { return 4; }

// ---- devices ----------------------------------------------------------------
struct Device::State {
  Target target;
  unsigned id = 0;
};

Device::Device() = default;
Device::Device(Device &&other) noexcept = default;
Device &Device::operator=(Device &&other) noexcept = default;
Device::~Device() = default;
bool Device::attach() const { return state_ != nullptr; }
void Device::detach() const {}
unsigned Device::getId() const { return state_ ? state_->id : 0; }
const Target &Device::getTarget() const {
  if (!state_)
    throw poplar_error("getTarget() on an empty poplar::Device");
  return state_->target;
}
Device Device::createCPUDevice() {
  return snncc::host::DeviceAccess::make(Target::createCPUTarget());
}
Device Device::createSimulatorDevice(const Target &target, const OptionFlags &) {
  return snncc::host::DeviceAccess::make(target);
}

DeviceManager::DeviceManager() = default;
DeviceManager::DeviceManager(const DeviceManager &other) = default;
DeviceManager::~DeviceManager() = default;
DeviceManager DeviceManager::createDeviceManager() { return DeviceManager(); }
std::size_t DeviceManager::getNumDevices() const { return 0; }
Device DeviceManager::getDevice(unsigned deviceManagerId, const OptionFlags &) const {
  throw poplar_error("No IPU device " + std::to_string(deviceManagerId) +
                     ": the snncc host runtime has no IPU hardware (use IPUModel)");
}
std::vector<unsigned> DeviceManager::getChildDeviceIds(unsigned parentId) const {
  throw poplar_error("No IPU device " + std::to_string(parentId) +
                     ": the snncc host runtime has no IPU hardware");
}

IPUModel::IPUModel(const char *ipuVersion)
    : numIPUs(1), tilesPerIPU(archOf(ipuVersion ? ipuVersion : "").tiles),
      memoryBytesPerTile(archOf(ipuVersion).bytes), version_(ipuVersion) {}

Device IPUModel::createDevice(OptionFlags opts, bool, unsigned) const {
  if (opts.begin() != opts.end())
    throw invalid_option("Unrecognised IPUModel device option '" +
                         opts.begin()->first + "'");
  Target t = Target::createIPUTarget(numIPUs, tilesPerIPU, version_);
  t.type_ = TargetType::IPU_MODEL;
  t.bytesPerTile_ = memoryBytesPerTile;
  if (memoryBytesPerTile == 0)
    throw invalid_machine_model("IPUModel.memoryBytesPerTile must be positive");
  return snncc::host::DeviceAccess::make(t);
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

namespace snncc {
namespace host {
poplar::Device DeviceAccess::make(const poplar::Target &t) {
  poplar::Device d;
  d.state_ = std::make_unique<poplar::Device::State>();
  d.state_->target = t;
  return d;
}
} // namespace host
} // namespace snncc
