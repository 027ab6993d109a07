// Copyright (c) 2024 snncc authors. SPDX-License-Identifier: Apache-2.0
/// \file ArrayRef.hpp
/// A non-owning view of a contiguous array, as Poplar's host API takes it:
/// from an initializer list, a std::vector, a std::array or a C array.
#ifndef poplar_ArrayRef_hpp
#define poplar_ArrayRef_hpp

#include <array>
#include <cstddef>
#include <initializer_list>
#include <vector>

namespace poplar {

template <typename T> class ArrayRef {
public:
  ArrayRef() : p_(nullptr), n_(0) {}
  ArrayRef(std::nullptr_t) : p_(nullptr), n_(0) {}
  ArrayRef(const T *p, std::size_t n) : p_(p), n_(n) {}
  ArrayRef(const std::vector<T> &v) : p_(v.data()), n_(v.size()) {}
  template <std::size_t N>
  ArrayRef(const std::array<T, N> &a) : p_(a.data()), n_(N) {}
  template <std::size_t N> ArrayRef(const T (&a)[N]) : p_(a), n_(N) {}
  // The list lives until the end of the full-expression of the call, which
  // is as long as an argument view needs.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Winit-list-lifetime"
  ArrayRef(const std::initializer_list<T> &l)
      : p_(l.size() ? l.begin() : nullptr), n_(l.size()) {}
#pragma GCC diagnostic pop

  const T *begin() const { return p_; }
  const T *end() const { return p_ + n_; }
  const T *data() const { return p_; }
  std::size_t size() const { return n_; }
  bool empty() const { return n_ == 0; }
  const T &operator[](std::size_t i) const { return p_[i]; }
  const T &front() const { return p_[0]; }
  const T &back() const { return p_[n_ - 1]; }
  std::vector<T> cloneAsVector() const { return std::vector<T>(p_, p_ + n_); }

private:
  const T *p_;
  std::size_t n_;
};

} // namespace poplar

#endif // poplar_ArrayRef_hpp
