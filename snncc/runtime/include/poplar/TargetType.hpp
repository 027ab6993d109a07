// Copyright (c) 2024 snncc authors. SPDX-License-Identifier: Apache-2.0
/// \file TargetType.hpp
#ifndef poplar_TargetType_hpp
#define poplar_TargetType_hpp

#include <string>

namespace poplar {
enum class TargetType { IPU, IPU_MODEL, CPU };
/// "IPU", "IPU_MODEL" or "CPU".
/// \param t The target type.
std::string toString(TargetType t);
} // namespace poplar

#endif // poplar_TargetType_hpp
