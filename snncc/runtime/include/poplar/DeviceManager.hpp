// Copyright (c) 2024 snncc authors. SPDX-License-Identifier: Apache-2.0
/// \file DeviceManager.hpp
/// Finds IPU hardware. The host runtime has none: getNumDevices() is 0,
/// getDevices() returns no device and getDevice() throws; a program runs an
/// IPUModel instead.
#ifndef poplar_DeviceManager_hpp
#define poplar_DeviceManager_hpp

#include <vector>

#include <poplar/Device.hpp>
#include <poplar/OptionFlags.hpp>
#include <poplar/TargetType.hpp>

namespace poplar {

class DeviceManager {
public:
  DeviceManager();
  DeviceManager(const DeviceManager &other);
  ~DeviceManager();
  static DeviceManager createDeviceManager();
  /// Number of IPU devices present: always 0 on the host runtime.
  std::size_t getNumDevices() const;
  /// The devices of `type` with `requiredNumIPUs` IPUs: none on the host runtime.
  /// \param type Target type.  \param requiredNumIPUs IPUs per device.  \param opts Device options.
  std::vector<Device> getDevices(TargetType type, unsigned requiredNumIPUs, const OptionFlags &opts = {}) const;
  /// Always throws poplar::poplar_error on the host runtime.
  /// \param deviceManagerId Device id.  \param opts Device options.
  Device getDevice(unsigned deviceManagerId, const OptionFlags &opts = {}) const;
  /// \param parentId A device id; throws, as no device exists.
  std::vector<unsigned> getChildDeviceIds(unsigned parentId) const;
};

} // namespace poplar

#endif // poplar_DeviceManager_hpp
