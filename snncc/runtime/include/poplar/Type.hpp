// Copyright (c) 2024 snncc authors. SPDX-License-Identifier: Apache-2.0
/// \file Type.hpp
/// Device element types (poplar::FLOAT, poplar::HALF, ...), TypeTraits and
/// equivalent_device_type, as in Poplar.
#ifndef poplar_Type_hpp
#define poplar_Type_hpp

#include <cstddef>
#include <cstdint>
#include <string>
#include <type_traits>

#include <poplar/HalfFloat.hpp>

namespace snncc {
namespace host {
/// What the runtime knows of an element type. Constant-initialised, so that
/// static registration code may use it before main().
struct TypeInfo {
  const char *name;
  unsigned size;
  enum Kind { Bool, Signed, Unsigned, Float, Half } kind;
};
struct TypeAccess;
} // namespace host
} // namespace snncc

namespace poplar {

/// A device element type. Compare with ==; print with toString().
class Type {
public:
  constexpr Type() noexcept : info_(nullptr) {}
  Type(const Type &) = default;
  Type &operator=(const Type &) = default;
  /// The type's name as Poplar prints it, e.g. "float", "unsigned int".
  std::string toString() const;
  bool operator==(const Type &o) const { return info_ == o.info_; }
  bool operator!=(const Type &o) const { return info_ != o.info_; }
  bool operator<(const Type &o) const { return info_ < o.info_; }

private:
  friend struct ::snncc::host::TypeAccess;
  constexpr explicit Type(const ::snncc::host::TypeInfo *i) noexcept
      : info_(i) {}
  const ::snncc::host::TypeInfo *info_;
};

extern const Type BOOL;
extern const Type CHAR;
extern const Type SIGNED_CHAR;
extern const Type UNSIGNED_CHAR;
extern const Type SHORT;
extern const Type UNSIGNED_SHORT;
extern const Type INT;
extern const Type UNSIGNED_INT;
extern const Type LONGLONG;
extern const Type UNSIGNED_LONGLONG;
extern const Type FLOAT;
extern const Type HALF;

/// Size and kind of a host element type, used by the templated Graph calls
/// to convert host values to device types.
struct TypeTraits {
  std::size_t size;
  std::size_t align;
  bool isIntegral;
  bool isFloat;
  bool isSigned;

  /// True for the host types that can be converted to a device type.
  template <typename T> static constexpr bool isSimpleType() {
    return std::is_arithmetic<T>::value || std::is_same<T, IeeeHalf>::value;
  }
};

/// The device type equivalent to a host type: equivalent_device_type<float>().value.
template <typename T> struct equivalent_device_type {};
template <> struct equivalent_device_type<bool> { const Type &value = BOOL; };
template <> struct equivalent_device_type<char> { const Type &value = CHAR; };
template <> struct equivalent_device_type<signed char> { const Type &value = SIGNED_CHAR; };
template <> struct equivalent_device_type<unsigned char> { const Type &value = UNSIGNED_CHAR; };
template <> struct equivalent_device_type<short> { const Type &value = SHORT; };
template <> struct equivalent_device_type<unsigned short> { const Type &value = UNSIGNED_SHORT; };
template <> struct equivalent_device_type<int> { const Type &value = INT; };
template <> struct equivalent_device_type<unsigned> { const Type &value = UNSIGNED_INT; };
template <> struct equivalent_device_type<long long> { const Type &value = LONGLONG; };
template <> struct equivalent_device_type<unsigned long long> { const Type &value = UNSIGNED_LONGLONG; };
template <> struct equivalent_device_type<float> { const Type &value = FLOAT; };
template <> struct equivalent_device_type<IeeeHalf> { const Type &value = HALF; };

} // namespace poplar

namespace snncc {
namespace host {
/// Runtime-internal access to poplar::Type's identity.
struct TypeAccess {
  static constexpr poplar::Type make(const TypeInfo *i) { return poplar::Type(i); }
  static const TypeInfo *info(const poplar::Type &t) { return t.info_; }
};

/// The TypeTraits of a host element type (Poplar's TypeTraits::make<T>(),
/// which the 3.0 declaration list lacks).
template <typename T> poplar::TypeTraits traitsOf() {
  return poplar::TypeTraits{sizeof(T), alignof(T), std::is_integral<T>::value,
                            std::is_floating_point<T>::value ||
                                std::is_same<T, poplar::IeeeHalf>::value,
                            std::is_signed<T>::value ||
                                std::is_same<T, poplar::IeeeHalf>::value};
}

/// The TypeInfo of a host element type (constant-initialised).
template <typename T> const TypeInfo *typeInfoOf();
} // namespace host
} // namespace snncc

#endif // poplar_Type_hpp
