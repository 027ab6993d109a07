// Copyright (c) 2024 snncc authors. SPDX-License-Identifier: Apache-2.0
/// \file Device.hpp
/// A device to load an Engine onto. In the host runtime every device is the
/// host CPU emulating its Target (from IPUModel or createCPUDevice).
#ifndef poplar_Device_hpp
#define poplar_Device_hpp

#include <memory>

#include <poplar/OptionFlags.hpp>
#include <poplar/Target.hpp>

namespace snncc {
namespace host {
struct DeviceAccess;
} // namespace host
} // namespace snncc

namespace poplar {

class Device {
public:
  Device();
  Device(Device &&other) noexcept;
  Device &operator=(Device &&other) noexcept;
  Device(const Device &) = delete;
  Device &operator=(const Device &) = delete;
  ~Device();

  /// Attach for exclusive use; always succeeds for a host device.
  bool attach() const;
  void detach() const;
  unsigned getId() const;
  const Target &getTarget() const;
  /// A device for Poplar's CPU target (one tile).
  static Device createCPUDevice();
  /// A device for a given target.
  /// \param target The target.  \param options Device options (unused).
  static Device createSimulatorDevice(const Target &target,
                                      const OptionFlags &options = {});

private:
  friend struct ::snncc::host::DeviceAccess;
  struct State;
  std::unique_ptr<State> state_;
};

} // namespace poplar

#endif // poplar_Device_hpp
