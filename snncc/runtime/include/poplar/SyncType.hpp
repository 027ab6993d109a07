// Copyright (c) 2024 snncc authors. SPDX-License-Identifier: Apache-2.0
/// \file SyncType.hpp
#ifndef poplar_SyncType_hpp
#define poplar_SyncType_hpp

namespace poplar {
/// INTERNAL synchronises the tiles of one IPU, EXTERNAL all IPUs.
enum class SyncType { INTERNAL, EXTERNAL };
} // namespace poplar

#endif // poplar_SyncType_hpp
