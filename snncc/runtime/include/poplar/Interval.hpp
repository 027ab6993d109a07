// Copyright (c) 2024 snncc authors. SPDX-License-Identifier: Apache-2.0
/// \file Interval.hpp
/// A half-open range [begin, end) of element indices.
#ifndef poplar_Interval_hpp
#define poplar_Interval_hpp

#include <cstddef>

namespace poplar {

class Interval {
public:
  Interval() : begin_(0), end_(0) {}
  Interval(std::size_t begin, std::size_t end) : begin_(begin), end_(end) {}
  std::size_t begin() const { return begin_; }
  std::size_t end() const { return end_; }
  std::size_t size() const { return end_ - begin_; }
  bool operator==(const Interval &o) const {
    return begin_ == o.begin_ && end_ == o.end_;
  }
  bool operator!=(const Interval &o) const { return !(*this == o); }

private:
  std::size_t begin_, end_;
};

} // namespace poplar

#endif // poplar_Interval_hpp
