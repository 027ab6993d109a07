// Copyright (c) 2024 snncc authors. SPDX-License-Identifier: Apache-2.0
/// \file HalfFloat.hpp
/// IEEE binary16 `half` for codelets and host code built against snncc's host
/// runtime. On the IPU `half` is a native type; here it is a 16-bit value that
/// computes in float, so codelets written for `half` build unchanged.
#ifndef poplar_HalfFloat_hpp
#define poplar_HalfFloat_hpp

#include <cstdint>
#include <cstring>
#if defined(__F16C__)
#include <immintrin.h>
#endif

namespace poplar {

/// A 16-bit IEEE 754 half-precision float. Arithmetic happens in float and the
/// result rounds to nearest even when stored back, as on the IPU.
class IeeeHalf {
public:
  IeeeHalf() = default;
  IeeeHalf(float f) : bits_(fromFloat(f)) {} // NOLINT: implicit like a builtin
  operator float() const { return toFloat(bits_); }

  /// The raw binary16 pattern.
  static IeeeHalf fromBits(std::uint16_t b) {
    IeeeHalf h;
    h.bits_ = b;
    return h;
  }
  std::uint16_t bit16() const { return bits_; }

  IeeeHalf &operator+=(float x) { return *this = float(*this) + x; }
  IeeeHalf &operator-=(float x) { return *this = float(*this) - x; }
  IeeeHalf &operator*=(float x) { return *this = float(*this) * x; }
  IeeeHalf &operator/=(float x) { return *this = float(*this) / x; }

  // With F16C the conversions are single instructions (immediate rounding to
  // nearest even, so MXCSR's rounding mode does not matter). The software path
  // gives the same bits for every input, NaNs included: NaNs come out quiet
  // with their payload truncated (float -> half) or shifted (half -> float),
  // as the instructions do.
#if defined(__F16C__)
  static std::uint16_t fromFloat(float f) {
    return std::uint16_t(_cvtss_sh(f, _MM_FROUND_TO_NEAREST_INT));
  }
  static float toFloat(std::uint16_t h) { return _cvtsh_ss(h); }
#else
  static std::uint16_t fromFloat(float f) {
    std::uint32_t x;
    std::memcpy(&x, &f, 4);
    const std::uint32_t sign = (x >> 16) & 0x8000u;
    const std::uint32_t absx = x & 0x7fffffffu;
    if (absx > 0x7f800000u) // nan: quiet, top payload bits kept
      return std::uint16_t(sign | 0x7e00u | ((absx >> 13) & 0x3ffu));
    if (absx >= 0x477ff000u) // inf, or rounds to >= 65520: overflow to inf
      return std::uint16_t(sign | 0x7c00u);
    if (absx < 0x38800000u) { // below the smallest normal half: subnormal or 0
      if (absx < 0x33000000u)
        return std::uint16_t(sign);
      const std::uint32_t exp = absx >> 23;
      const std::uint32_t mant = (absx & 0x7fffffu) | 0x800000u;
      const std::uint32_t shift = 126u - exp; // 14..24
      std::uint32_t h = mant >> shift;
      const std::uint32_t rem = mant & ((1u << shift) - 1u);
      const std::uint32_t halfway = 1u << (shift - 1u);
      if (rem > halfway || (rem == halfway && (h & 1u)))
        ++h; // may carry into the smallest normal, which is right
      return std::uint16_t(sign | h);
    }
    std::uint32_t h = ((absx - 0x38000000u) >> 13);
    const std::uint32_t rem = absx & 0x1fffu;
    if (rem > 0x1000u || (rem == 0x1000u && (h & 1u)))
      ++h;
    return std::uint16_t(sign | h);
  }

  static float toFloat(std::uint16_t h) {
    const std::uint32_t sign = std::uint32_t(h & 0x8000u) << 16;
    std::uint32_t exp = (h >> 10) & 0x1fu;
    std::uint32_t mant = h & 0x3ffu;
    std::uint32_t x;
    if (exp == 0x1fu) { // inf, or nan made quiet
      x = sign | 0x7f800000u | (mant ? 0x400000u : 0u) | (mant << 13);
    } else if (exp == 0) {
      if (mant == 0) {
        x = sign;
      } else { // subnormal: normalise
        exp = 113;
        while (!(mant & 0x400u)) {
          mant <<= 1;
          --exp;
        }
        x = sign | (exp << 23) | ((mant & 0x3ffu) << 13);
      }
    } else {
      x = sign | ((exp + 112u) << 23) | (mant << 13);
    }
    float f;
    std::memcpy(&f, &x, 4);
    return f;
  }
#endif

private:
  std::uint16_t bits_ = 0;
};

static_assert(sizeof(IeeeHalf) == 2, "IeeeHalf is stored as binary16");

using half = IeeeHalf;

} // namespace poplar

namespace snncc {
namespace host {

// Bulk conversions for the runtime's host functions (outside namespace poplar, which
// declares only Poplar's API).

/// Converts n halves to floats, bit for bit as poplar::IeeeHalf's conversion does.
inline void halfToFloat(const poplar::IeeeHalf *src, float *dst, unsigned n) {
  unsigned i = 0;
#if defined(__F16C__) && defined(__AVX__)
  // poplar::IeeeHalf is one uint16_t, so 8 of them are one 128-bit load.
  for (; i + 8 <= n; i += 8) {
    const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i *>(src + i));
    _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(h));
  }
#endif
  for (; i < n; ++i)
    dst[i] = poplar::IeeeHalf::toFloat(src[i].bit16());
}

/// Converts n floats to halves (round to nearest even), bit for bit as
/// poplar::IeeeHalf's conversion does.
inline void floatToHalf(const float *src, poplar::IeeeHalf *dst, unsigned n) {
  unsigned i = 0;
#if defined(__F16C__) && defined(__AVX__)
  for (; i + 8 <= n; i += 8) {
    const __m128i h = _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT);
    _mm_storeu_si128(reinterpret_cast<__m128i *>(dst + i), h);
  }
#endif
  for (; i < n; ++i)
    dst[i] = poplar::IeeeHalf::fromBits(poplar::IeeeHalf::fromFloat(src[i]));
}

} // namespace host
} // namespace snncc

#ifndef __IPU__
// Codelets name the IPU's builtin type unqualified.
using half = poplar::IeeeHalf;
#endif

#endif // poplar_HalfFloat_hpp
