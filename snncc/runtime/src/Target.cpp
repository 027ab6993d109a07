// Copyright (c) 2024 snncc authors. SPDX-License-Identifier: Apache-2.0
// The machine model: targets (IPU architectures, tiles, memory per tile) and
// devices (IPUModel, simulator and CPU devices; no IPU hardware: the device
// manager finds none).
#include <algorithm>
#include <cstring>

#include <poplar/Device.hpp>
#include <poplar/DeviceManager.hpp>
#include <poplar/HalfFloat.hpp>
#include <poplar/IPUModel.hpp>
#include <poplar/Target.hpp>
#include <poplar/exceptions.hpp>

#include "internal.hpp"

namespace poplar {

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

// ---- host conversions to and from the device's half -------------------------
namespace {
// Converting through a small buffer keeps the vectorised helpers usable with a
// destination of any alignment.
constexpr std::size_t kChunk = 512;

void storeHalves(const IeeeHalf *h, unsigned char *d, std::size_t n) {
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  std::memcpy(d, h, 2 * n);
#else
  for (std::size_t k = 0; k < n; ++k) {
    d[2 * k] = std::uint8_t(h[k].bit16());
    d[2 * k + 1] = std::uint8_t(h[k].bit16() >> 8);
  }
#endif
}

void loadHalves(const unsigned char *s, IeeeHalf *h, std::size_t n) {
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  std::memcpy(h, s, 2 * n);
#else
  for (std::size_t k = 0; k < n; ++k)
    h[k] = IeeeHalf::fromBits(std::uint16_t(s[2 * k] | s[2 * k + 1] << 8));
#endif
}

// Rounds the double's bits straight to binary16: going through float would
// round twice and can miss a tie (1 + 2^-11 + 2^-40 must round up).
std::uint16_t doubleToHalfBits(double v) {
  std::uint64_t x;
  std::memcpy(&x, &v, 8);
  const auto sign = std::uint16_t((x >> 48) & 0x8000u);
  const std::uint64_t absx = x & 0x7fffffffffffffffull;
  const std::uint64_t mant = absx & 0xfffffffffffffull;
  if (absx > 0x7ff0000000000000ull) // nan: quiet, top payload bits kept, as from float
    return std::uint16_t(sign | 0x7e00u | ((mant >> 42) & 0x3ffu));
  if (absx >= 0x40effe0000000000ull) // inf, or rounds to >= 65520: overflow to inf
    return std::uint16_t(sign | 0x7c00u);
  const unsigned exp = unsigned(absx >> 52);
  std::uint64_t h, rem, halfway;
  if (exp >= 1009) { // normal half (>= 2^-14); a carry out of the mantissa bumps the exponent
    h = (std::uint64_t(exp - 1008) << 10) | (mant >> 42);
    rem = mant & ((1ull << 42) - 1);
    halfway = 1ull << 41;
  } else if (absx > 0x3e60000000000000ull) { // subnormal half, in units of 2^-24
    const unsigned shift = 1051 - exp; // 43..53
    const std::uint64_t sig = mant | (1ull << 52);
    h = sig >> shift;
    rem = sig & ((1ull << shift) - 1);
    halfway = 1ull << (shift - 1);
  } else { // at most 2^-25: rounds to zero (the tie at 2^-25 goes to even)
    return sign;
  }
  if (rem > halfway || (rem == halfway && (h & 1u)))
    ++h;
  return std::uint16_t(sign | h);
}
} // namespace

void copyFloatToDeviceHalf(const Target &, const float *src, void *dst,
                           std::size_t numElements) {
  auto *d = static_cast<unsigned char *>(dst);
  IeeeHalf buf[kChunk];
  for (std::size_t i = 0; i < numElements; i += kChunk) {
    const std::size_t n = std::min(kChunk, numElements - i);
    snncc::host::floatToHalf(src + i, buf, unsigned(n));
    storeHalves(buf, d + 2 * i, n);
  }
}

void copyDeviceHalfToFloat(const Target &, const void *src, float *dst,
                           std::size_t numElements) {
  const auto *s = static_cast<const unsigned char *>(src);
  IeeeHalf buf[kChunk];
  for (std::size_t i = 0; i < numElements; i += kChunk) {
    const std::size_t n = std::min(kChunk, numElements - i);
    loadHalves(s + 2 * i, buf, n);
    snncc::host::halfToFloat(buf, dst + i, unsigned(n));
  }
}

void copyDoubleToDeviceHalf(const Target &, const double *src, void *dst,
                            std::size_t numElements) {
  auto *d = static_cast<unsigned char *>(dst);
  IeeeHalf buf[kChunk];
  for (std::size_t i = 0; i < numElements; i += kChunk) {
    const std::size_t n = std::min(kChunk, numElements - i);
    for (std::size_t k = 0; k < n; ++k)
      buf[k] = IeeeHalf::fromBits(doubleToHalfBits(src[i + k]));
    storeHalves(buf, d + 2 * i, n);
  }
}

void copyDeviceHalfToDouble(const Target &, const void *src, double *dst,
                            std::size_t numElements) {
  const auto *s = static_cast<const unsigned char *>(src);
  IeeeHalf buf[kChunk];
  float f[kChunk];
  for (std::size_t i = 0; i < numElements; i += kChunk) {
    const std::size_t n = std::min(kChunk, numElements - i);
    loadHalves(s + 2 * i, buf, n);
    snncc::host::halfToFloat(buf, f, unsigned(n));
    for (std::size_t k = 0; k < n; ++k)
      dst[i + k] = double(f[k]); // exact
  }
}

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
std::vector<Device> DeviceManager::getDevices(TargetType, unsigned, const OptionFlags &) const { return {}; }
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
