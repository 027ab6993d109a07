// Copyright (c) 2024 snncc authors. SPDX-License-Identifier: Apache-2.0
/// \file Target.hpp
/// What a device looks like: IPUs, tiles, bytes and workers per tile.
#ifndef poplar_Target_hpp
#define poplar_Target_hpp

#include <cstddef>
#include <string>

#include <poplar/OptionFlags.hpp>
#include <poplar/TargetType.hpp>
#include <poplar/Type.hpp>

namespace poplar {

class Target {
public:
  Target();
  Target(const Target &other);
  Target &operator=(const Target &other);
  ~Target();

  /// An IPU target ("ipu1", "ipu2" or "ipu21") with its full tile count.
  /// \param numIPUs IPUs.  \param systemType Architecture name.
  /// \param opts Target options (none are recognised).
  static Target createIPUTarget(unsigned numIPUs, std::string systemType,
                                const OptionFlags &opts = {});
  /// As above with a given number of tiles per IPU.
  /// \param numIPUs IPUs.  \param tilesPerIPU Tiles per IPU.
  /// \param systemType Architecture name.  \param opts Target options.
  static Target createIPUTarget(unsigned numIPUs, unsigned tilesPerIPU,
                                std::string systemType,
                                const OptionFlags &opts = {});
  /// One tile with plenty of memory, like Poplar's CPU target.
  /// \param accurateHalf Ignored.
  static Target createCPUTarget(bool accurateHalf = false);

  TargetType getTargetType() const;
  std::string getTargetArchString() const;
  unsigned getNumIPUs() const;
  unsigned getTilesPerIPU() const;
  unsigned getNumTiles() const;
  unsigned getBytesPerTile() const;
  /// Total memory of the device in bytes.
  std::size_t getMemoryBytes() const;
  unsigned getNumWorkerContexts() const;
  double getTileClockFrequency() const;
  unsigned getDataPathWidth() const;
  unsigned getFloatVectorWidth() const;
  unsigned getHalfVectorWidth() const;
  /// \param type An element type.
  unsigned getVectorWidth(const Type &type) const;
  /// \param type An element type.
  unsigned getTypeSize(const Type &type) const;
  unsigned getAtomicStoreGranularity() const;

private:
  friend struct IPUModel;
  TargetType type_;
  std::string arch_;
  unsigned numIPUs_;
  unsigned tilesPerIPU_;
  unsigned bytesPerTile_;
  unsigned workers_;
  double clockHz_;
};

// The device's half is IEEE binary16, 2 bytes per element, little-endian;
// conversions to it round to nearest even.

/// Converts floats to device halves.
void copyFloatToDeviceHalf(const Target &target, const float *src, void *dst,
                           std::size_t numElements);
/// Converts device halves to floats (exactly).
void copyDeviceHalfToFloat(const Target &target, const void *src, float *dst,
                           std::size_t numElements);
/// Converts doubles to device halves, rounding once from the double.
void copyDoubleToDeviceHalf(const Target &target, const double *src, void *dst,
                            std::size_t numElements);
/// Converts device halves to doubles (exactly).
void copyDeviceHalfToDouble(const Target &target, const void *src, double *dst,
                            std::size_t numElements);

} // namespace poplar

#endif // poplar_Target_hpp
