// Copyright (c) 2024 snncc authors. SPDX-License-Identifier: Apache-2.0
/// \file DataStream.hpp
/// FIFO streams between host buffers and tensors.
#ifndef poplar_DataStream_hpp
#define poplar_DataStream_hpp

#include <cstddef>
#include <string>

#include <poplar/Type.hpp>

namespace snncc {
namespace host {
struct GraphAccess;
} // namespace host
} // namespace snncc

namespace poplar {

enum class DataStreamType {
  HostToDeviceFIFO,
  DeviceToHostFIFO,
  HostToDeviceBuffer,
  DeviceToHostBuffer,
};
enum class ReplicatedStreamMode { REPLICATE, BROADCAST };

/// \param type A stream type.
bool isHostToDevice(DataStreamType type);
/// \param type A stream type.
bool isDeviceToHost(DataStreamType type);

class DataStream {
public:
  DataStream();
  DataStream(const DataStream &other);
  DataStream &operator=(const DataStream &other);
  ~DataStream();
  std::string handle() const;
  Type elementType() const;
  std::size_t numElements() const;
  DataStreamType type() const;
  unsigned replicationFactor() const;
  ReplicatedStreamMode replicatedMode() const;

private:
  friend struct ::snncc::host::GraphAccess;
  std::string handle_;
  Type type_;
  std::size_t n_;
  DataStreamType kind_;
  ReplicatedStreamMode mode_;
};

} // namespace poplar

#endif // poplar_DataStream_hpp
