// Copyright (c) 2024 snncc authors. SPDX-License-Identifier: Apache-2.0
// Tensor views: row-major element ranges of graph variables.
#include <algorithm>
#include <numeric>

#include <poplar/Tensor.hpp>
#include <poplar/exceptions.hpp>

#include "internal.hpp"

namespace snncc {
namespace host {
namespace {

std::size_t product(const std::vector<std::size_t> &s, std::size_t b,
                    std::size_t e) {
  std::size_t p = 1;
  for (std::size_t i = b; i < e; ++i)
    p *= s[i];
  return p;
}

std::string shapeStr(const std::vector<std::size_t> &s) {
  std::string r = "{";
  for (std::size_t i = 0; i < s.size(); ++i)
    r += (i ? "," : "") + std::to_string(s[i]);
  return r + "}";
}

void push(std::vector<Region> &out, Region r) {
  if (r.begin == r.end)
    return;
  if (!out.empty() && out.back().var == r.var && out.back().end == r.begin)
    out.back().end = r.end;
  else
    out.push_back(r);
}

/// Flat ranges of a region list, with prefix offsets for binary search.
class Flat {
public:
  explicit Flat(const std::vector<Region> &rs) : rs_(rs), start_(rs.size()) {
    std::size_t off = 0;
    for (std::size_t i = 0; i < rs.size(); ++i) {
      start_[i] = off;
      off += rs[i].end - rs[i].begin;
    }
  }
  /// Append the elements at flat positions [b, e) to out.
  void append(std::vector<Region> &out, std::size_t b, std::size_t e) const {
    if (b >= e)
      return;
    std::size_t i = std::size_t(std::upper_bound(start_.begin(), start_.end(), b) -
                                start_.begin()) - 1;
    for (; i < rs_.size() && start_[i] < e; ++i) {
      const std::size_t lo = std::max(b, start_[i]);
      const std::size_t hi = std::min(e, start_[i] + (rs_[i].end - rs_[i].begin));
      push(out, Region{rs_[i].var, rs_[i].begin + (lo - start_[i]),
                       rs_[i].begin + (hi - start_[i])});
    }
  }

private:
  const std::vector<Region> &rs_;
  std::vector<std::size_t> start_;
};

} // namespace

poplar::Tensor TensorAccess::make(std::vector<std::size_t> shape,
                                  poplar::Type type, std::vector<Region> regions) {
  poplar::Tensor t;
  t.shape_ = std::move(shape);
  t.type_ = type;
  t.regions_ = std::move(regions);
  t.valid_ = true;
  return t;
}

} // namespace host
} // namespace snncc

namespace poplar {
using snncc::host::Flat;
using snncc::host::product;
using snncc::host::push;
using snncc::host::Region;
using snncc::host::shapeStr;
using snncc::host::TensorAccess;

Tensor::Tensor() : valid_(false) {}
Tensor::Tensor(const Tensor &other) = default;
Tensor::Tensor(Tensor &&other) noexcept = default;
Tensor &Tensor::operator=(const Tensor &other) = default;
Tensor &Tensor::operator=(Tensor &&other) noexcept = default;
Tensor::~Tensor() = default;

Tensor Tensor::operator[](std::size_t i) const {
  if (shape_.empty())
    throw index_error("operator[] on a scalar (rank 0) tensor");
  Tensor t = slice(i, i + 1, 0);
  t.shape_.erase(t.shape_.begin());
  return t;
}

Tensor Tensor::slice(std::size_t begin, std::size_t end) const {
  return slice(begin, end, 0);
}

Tensor Tensor::slice(std::size_t begin, std::size_t end, unsigned dimension) const {
  if (!valid_)
    throw index_error("slice of an invalid tensor");
  if (dimension >= shape_.size())
    throw index_error("slice: dimension " + std::to_string(dimension) +
                      " out of range for a tensor of shape " + shapeStr(shape_));
  if (begin > end || end > shape_[dimension])
    throw index_error("slice [" + std::to_string(begin) + ", " +
                      std::to_string(end) + ") out of range for dimension " +
                      std::to_string(dimension) + " of shape " + shapeStr(shape_));
  const std::size_t outer = product(shape_, 0, dimension);
  const std::size_t inner = product(shape_, dimension + 1, shape_.size());
  const std::size_t d = shape_[dimension];
  Flat flat(regions_);
  std::vector<Region> out;
  for (std::size_t o = 0; o < outer; ++o)
    flat.append(out, (o * d + begin) * inner, (o * d + end) * inner);
  std::vector<std::size_t> shape = shape_;
  shape[dimension] = end - begin;
  return TensorAccess::make(std::move(shape), type_, std::move(out));
}

Tensor Tensor::slice(const Interval &region, unsigned dimension) const {
  return slice(region.begin(), region.end(), dimension);
}

Tensor Tensor::slice(ArrayRef<std::size_t> begin, ArrayRef<std::size_t> end) const {
  if (begin.size() != shape_.size() || end.size() != shape_.size())
    throw index_error("slice: begin and end need one index per dimension of " +
                      shapeStr(shape_));
  Tensor t = *this;
  for (unsigned d = 0; d < shape_.size(); ++d)
    t = t.slice(begin[d], end[d], d);
  return t;
}

Tensor Tensor::reshape(ArrayRef<std::size_t> shape) const {
  std::vector<std::size_t> s = shape.cloneAsVector();
  if (product(s, 0, s.size()) != numElements())
    throw tensor_creation_error("reshape: cannot reshape a tensor of shape " +
                                shapeStr(shape_) + " to " + shapeStr(s));
  return TensorAccess::make(std::move(s), type_, regions_);
}

Tensor Tensor::flatten() const {
  return TensorAccess::make({numElements()}, type_, regions_);
}

Tensor Tensor::flatten(unsigned dimBegin, unsigned dimEnd) const {
  if (dimBegin >= dimEnd || dimEnd > shape_.size())
    throw index_error("flatten: dimensions [" + std::to_string(dimBegin) + ", " +
                      std::to_string(dimEnd) + ") invalid for shape " + shapeStr(shape_));
  std::vector<std::size_t> s(shape_.begin(), shape_.begin() + dimBegin);
  s.push_back(product(shape_, dimBegin, dimEnd));
  s.insert(s.end(), shape_.begin() + dimEnd, shape_.end());
  return TensorAccess::make(std::move(s), type_, regions_);
}

Tensor Tensor::dimShuffle(ArrayRef<unsigned> permutation) const {
  const unsigned r = rank();
  std::vector<unsigned> perm = permutation.cloneAsVector();
  std::vector<unsigned> sorted = perm;
  std::sort(sorted.begin(), sorted.end());
  for (unsigned i = 0; i < r; ++i)
    if (sorted.size() != r || sorted[i] != i)
      throw index_error("dimShuffle: not a permutation of the " +
                        std::to_string(r) + " dimensions");
  // Element-wise gather; merged back into ranges.
  std::vector<std::pair<unsigned, std::size_t>> elems;
  elems.reserve(numElements());
  for (const Region &g : regions_)
    for (std::size_t i = g.begin; i < g.end; ++i)
      elems.emplace_back(g.var, i);
  std::vector<std::size_t> outShape(r), inStride(r, 1);
  for (unsigned d = r; d-- > 1;)
    inStride[d - 1] = inStride[d] * shape_[d];
  for (unsigned d = 0; d < r; ++d)
    outShape[d] = shape_[perm[d]];
  std::vector<Region> out;
  std::vector<std::size_t> idx(r, 0);
  for (std::size_t k = 0; k < elems.size(); ++k) {
    std::size_t src = 0;
    for (unsigned d = 0; d < r; ++d)
      src += idx[d] * inStride[perm[d]];
    push(out, Region{elems[src].first, elems[src].second, elems[src].second + 1});
    for (unsigned d = r; d-- > 0;) {
      if (++idx[d] < outShape[d])
        break;
      idx[d] = 0;
    }
  }
  return TensorAccess::make(std::move(outShape), type_, std::move(out));
}

Tensor Tensor::transpose() const {
  if (rank() != 2)
    throw index_error("transpose needs a 2-D tensor, not shape " + shapeStr(shape_));
  return dimShuffle({1, 0});
}

std::size_t Tensor::numElements() const {
  return product(shape_, 0, shape_.size());
}
std::size_t Tensor::dim(unsigned i) const {
  if (i >= shape_.size())
    throw index_error("dim(" + std::to_string(i) + ") of a tensor of shape " +
                      shapeStr(shape_));
  return shape_[i];
}
std::vector<std::size_t> Tensor::shape() const { return shape_; }
unsigned Tensor::rank() const { return unsigned(shape_.size()); }
Type Tensor::elementType() const { return type_; }
bool Tensor::valid() const { return valid_; }
bool Tensor::isContiguous() const { return regions_.size() <= 1; }
bool Tensor::intersectsWith(const Tensor &other) const {
  for (const Region &a : regions_)
    for (const Region &b : other.regions_)
      if (a.var == b.var && a.begin < b.end && b.begin < a.end)
        return true;
  return false;
}

Tensor concat(ArrayRef<Tensor> ts, unsigned dimension) {
  if (ts.empty())
    throw index_error("concat of no tensors");
  const Tensor &first = ts[0];
  const unsigned r = first.rank();
  if (dimension >= r)
    throw index_error("concat: dimension " + std::to_string(dimension) +
                      " out of range for rank " + std::to_string(r));
  std::vector<std::size_t> shape = first.shape();
  shape[dimension] = 0;
  for (const Tensor &t : ts) {
    if (!t.valid() || t.rank() != r || t.elementType() != first.elementType())
      throw index_error("concat: tensors differ in rank or element type");
    for (unsigned d = 0; d < r; ++d)
      if (d != dimension && t.dim(d) != first.dim(d))
        throw index_error("concat: shapes " + shapeStr(first.shape()) + " and " +
                          shapeStr(t.shape()) + " differ outside dimension " +
                          std::to_string(dimension));
    shape[dimension] += t.dim(dimension);
  }
  const std::size_t outer = product(shape, 0, dimension);
  const std::size_t inner = product(shape, dimension + 1, r);
  std::vector<Flat> flats;
  flats.reserve(ts.size());
  for (const Tensor &t : ts)
    flats.emplace_back(TensorAccess::regions(t));
  std::vector<Region> out;
  for (std::size_t o = 0; o < outer; ++o)
    for (std::size_t k = 0; k < ts.size(); ++k) {
      const std::size_t chunk = ts[k].dim(dimension) * inner;
      flats[k].append(out, o * chunk, (o + 1) * chunk);
    }
  return TensorAccess::make(std::move(shape), first.elementType(), std::move(out));
}

Tensor concat(const Tensor &first, const Tensor &second, unsigned dimension) {
  return concat({first, second}, dimension);
}

} // namespace poplar
