// Copyright (c) 2024 snncc authors. SPDX-License-Identifier: Apache-2.0
// Element types (poplar::FLOAT, ...) and the conversion of host values to
// them, range-checked.
#include <cmath>
#include <cstring>

#include <poplar/exceptions.hpp>

#include "internal.hpp"

namespace snncc {
namespace host {
// Constant-initialised so that poplar::FLOAT etc. are usable before main().
constexpr TypeInfo kBool{"bool", 1, TypeInfo::Bool};
constexpr TypeInfo kChar{"char", 1, TypeInfo::Signed};
constexpr TypeInfo kSChar{"signed char", 1, TypeInfo::Signed};
constexpr TypeInfo kUChar{"unsigned char", 1, TypeInfo::Unsigned};
constexpr TypeInfo kShort{"short", 2, TypeInfo::Signed};
constexpr TypeInfo kUShort{"unsigned short", 2, TypeInfo::Unsigned};
constexpr TypeInfo kInt{"int", 4, TypeInfo::Signed};
constexpr TypeInfo kUInt{"unsigned int", 4, TypeInfo::Unsigned};
constexpr TypeInfo kLL{"long long", 8, TypeInfo::Signed};
constexpr TypeInfo kULL{"unsigned long long", 8, TypeInfo::Unsigned};
constexpr TypeInfo kFloat{"float", 4, TypeInfo::Float};
constexpr TypeInfo kHalf{"half", 2, TypeInfo::Half};

template <> const TypeInfo *typeInfoOf<bool>() { return &kBool; }
template <> const TypeInfo *typeInfoOf<char>() { return &kChar; }
template <> const TypeInfo *typeInfoOf<signed char>() { return &kSChar; }
template <> const TypeInfo *typeInfoOf<unsigned char>() { return &kUChar; }
template <> const TypeInfo *typeInfoOf<short>() { return &kShort; }
template <> const TypeInfo *typeInfoOf<unsigned short>() { return &kUShort; }
template <> const TypeInfo *typeInfoOf<int>() { return &kInt; }
template <> const TypeInfo *typeInfoOf<unsigned>() { return &kUInt; }
template <> const TypeInfo *typeInfoOf<long long>() { return &kLL; }
template <> const TypeInfo *typeInfoOf<unsigned long long>() { return &kULL; }
template <> const TypeInfo *typeInfoOf<float>() { return &kFloat; }
template <> const TypeInfo *typeInfoOf<poplar::IeeeHalf>() { return &kHalf; }

const TypeInfo *info(const poplar::Type &t) {
  const TypeInfo *i = TypeAccess::info(t);
  if (!i)
    throw poplar::type_error("use of an invalid (default-constructed) poplar::Type");
  return i;
}

std::string typeName(const TypeInfo *t) { return t ? t->name : "<invalid>"; }

namespace {
// Host values travel as double (floats) or 64-bit integers (integers), so
// that any host type converts to any device type with one range check.
struct Value {
  bool isFloat;
  double f;
  long double i; // exact for 64-bit integers
};

Value readHost(const unsigned char *p, const poplar::TypeTraits &t) {
  Value v{};
  if (t.isFloat) {
    v.isFloat = true;
    if (t.size == 2) {
      std::uint16_t b;
      std::memcpy(&b, p, 2);
      v.f = double(poplar::IeeeHalf::toFloat(b));
    } else if (t.size == 4) {
      float f;
      std::memcpy(&f, p, 4);
      v.f = double(f);
    } else if (t.size == 8) {
      double d;
      std::memcpy(&d, p, 8);
      v.f = d;
    } else {
      long double d;
      std::memcpy(&d, p, sizeof d);
      v.f = double(d);
    }
    return v;
  }
  if (t.isSigned) {
    long long x = 0;
    switch (t.size) {
    case 1: { signed char c; std::memcpy(&c, p, 1); x = c; break; }
    case 2: { short c; std::memcpy(&c, p, 2); x = c; break; }
    case 4: { int c; std::memcpy(&c, p, 4); x = c; break; }
    default: { long long c; std::memcpy(&c, p, 8); x = c; break; }
    }
    v.i = (long double)x;
  } else {
    unsigned long long x = 0;
    switch (t.size) {
    case 1: { unsigned char c; std::memcpy(&c, p, 1); x = c; break; }
    case 2: { unsigned short c; std::memcpy(&c, p, 2); x = c; break; }
    case 4: { unsigned c; std::memcpy(&c, p, 4); x = c; break; }
    default: { unsigned long long c; std::memcpy(&c, p, 8); x = c; break; }
    }
    v.i = (long double)x;
  }
  v.f = double(v.i);
  return v;
}

template <typename T>
void storeInt(unsigned char *dst, const Value &v, const std::string &what) {
  long double x = v.isFloat ? (long double)v.f : v.i;
  if (v.isFloat && (std::isnan(v.f) || std::floor(v.f) != v.f))
    throw poplar::type_error(what + ": value " + std::to_string(v.f) +
                             " is not an integer");
  if (x < (long double)std::numeric_limits<T>::min() ||
      x > (long double)std::numeric_limits<T>::max())
    throw poplar::type_error(what + ": value " + std::to_string((double)x) +
                             " is out of range for the device type");
  T t = T(x);
  std::memcpy(dst, &t, sizeof t);
}
} // namespace

void convertValues(const void *src, const poplar::TypeTraits &traits,
                   std::size_t srcCount, void *dst, const TypeInfo *dstType,
                   std::size_t n, bool broadcast, const std::string &what) {
  if (!broadcast && srcCount != n)
    throw poplar::graph_object_creation_error(
        what + ": " + std::to_string(srcCount) + " values given for " +
        std::to_string(n) + " elements");
  const auto *s = static_cast<const unsigned char *>(src);
  auto *d = static_cast<unsigned char *>(dst);
  for (std::size_t k = 0; k < n; ++k) {
    const Value v = readHost(s + (broadcast ? 0 : k * traits.size), traits);
    unsigned char *o = d + k * dstType->size;
    switch (dstType->kind) {
    case TypeInfo::Float: {
      float f = float(v.f);
      std::memcpy(o, &f, 4);
      break;
    }
    case TypeInfo::Half: {
      std::uint16_t b = poplar::IeeeHalf::fromFloat(float(v.f));
      std::memcpy(o, &b, 2);
      break;
    }
    case TypeInfo::Bool:
      *o = (v.isFloat ? v.f != 0.0 : v.i != 0) ? 1 : 0;
      break;
    case TypeInfo::Signed:
      if (dstType->size == 1) storeInt<signed char>(o, v, what);
      else if (dstType->size == 2) storeInt<short>(o, v, what);
      else if (dstType->size == 4) storeInt<int>(o, v, what);
      else storeInt<long long>(o, v, what);
      break;
    case TypeInfo::Unsigned:
      if (dstType->size == 1) storeInt<unsigned char>(o, v, what);
      else if (dstType->size == 2) storeInt<unsigned short>(o, v, what);
      else if (dstType->size == 4) storeInt<unsigned>(o, v, what);
      else storeInt<unsigned long long>(o, v, what);
      break;
    }
  }
}

double readAsDouble(const void *p, const TypeInfo *t) {
  poplar::TypeTraits tr{t->size, t->size, t->kind != TypeInfo::Float && t->kind != TypeInfo::Half,
                        t->kind == TypeInfo::Float || t->kind == TypeInfo::Half,
                        t->kind == TypeInfo::Signed || t->kind == TypeInfo::Float ||
                            t->kind == TypeInfo::Half};
  return readHost(static_cast<const unsigned char *>(p), tr).f;
}

} // namespace host
} // namespace snncc

namespace poplar {
using snncc::host::TypeAccess;

const Type BOOL = TypeAccess::make(&snncc::host::kBool);
const Type CHAR = TypeAccess::make(&snncc::host::kChar);
const Type SIGNED_CHAR = TypeAccess::make(&snncc::host::kSChar);
const Type UNSIGNED_CHAR = TypeAccess::make(&snncc::host::kUChar);
const Type SHORT = TypeAccess::make(&snncc::host::kShort);
const Type UNSIGNED_SHORT = TypeAccess::make(&snncc::host::kUShort);
const Type INT = TypeAccess::make(&snncc::host::kInt);
const Type UNSIGNED_INT = TypeAccess::make(&snncc::host::kUInt);
const Type LONGLONG = TypeAccess::make(&snncc::host::kLL);
const Type UNSIGNED_LONGLONG = TypeAccess::make(&snncc::host::kULL);
const Type FLOAT = TypeAccess::make(&snncc::host::kFloat);
const Type HALF = TypeAccess::make(&snncc::host::kHalf);

std::string Type::toString() const { return snncc::host::typeName(info_); }

} // namespace poplar
