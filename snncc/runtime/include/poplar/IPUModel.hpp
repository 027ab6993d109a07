// Copyright (c) 2024 snncc authors. SPDX-License-Identifier: Apache-2.0
/// \file IPUModel.hpp
/// An emulated IPU device: on the host runtime the tiles run on the CPU's
/// thread pool and per-tile memory is enforced.
#ifndef poplar_IPUModel_hpp
#define poplar_IPUModel_hpp

#include <poplar/Device.hpp>
#include <poplar/OptionFlags.hpp>

namespace poplar {

struct IPUModel {
  /// \param ipuVersion "ipu1", "ipu2" or "ipu21" (tile count and memory per
  /// tile follow the architecture; throws invalid_machine_model otherwise).
  explicit IPUModel(const char *ipuVersion = "ipu2");

  unsigned numIPUs;
  unsigned tilesPerIPU;
  unsigned memoryBytesPerTile;

  /// \param opts Device options (unused).  \param accurateHalf Ignored.
  /// \param deviceManagerId Ignored.
  Device createDevice(OptionFlags opts = {}, bool accurateHalf = false,
                      unsigned deviceManagerId = 0) const;

private:
  const char *version_;
};

} // namespace poplar

#endif // poplar_IPUModel_hpp
