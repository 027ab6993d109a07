// Copyright (c) 2024 snncc authors. SPDX-License-Identifier: Apache-2.0
/// \file Tensor.hpp
/// A view of graph variables: a shape, an element type and, in row-major
/// order, the variable element ranges it covers. Slicing, reshaping and
/// concatenation make new views; they never copy data.
#ifndef poplar_Tensor_hpp
#define poplar_Tensor_hpp

#include <cstddef>
#include <vector>

#include <poplar/ArrayRef.hpp>
#include <poplar/Interval.hpp>
#include <poplar/Type.hpp>

namespace snncc {
namespace host {
/// Elements [begin, end) of variable `var`.
struct Region {
  unsigned var;
  std::size_t begin;
  std::size_t end;
};
struct TensorAccess;
} // namespace host
} // namespace snncc

namespace poplar {

class Tensor {
public:
  /// An invalid tensor (valid() is false).
  Tensor();
  Tensor(const Tensor &other);
  Tensor(Tensor &&other) noexcept;
  Tensor &operator=(const Tensor &other);
  Tensor &operator=(Tensor &&other) noexcept;
  ~Tensor();

  /// Element i of the outermost dimension, with that dimension removed.
  /// \param i Index (throws index_error if out of range).
  Tensor operator[](std::size_t i) const;
  /// Elements [begin, end) of the outermost dimension.
  /// \param begin First index.  \param end One past the last index.
  Tensor slice(std::size_t begin, std::size_t end) const;
  /// Elements [begin, end) of a dimension.
  /// \param begin First index.  \param end One past the last.
  /// \param dimension The dimension.
  Tensor slice(std::size_t begin, std::size_t end, unsigned dimension) const;
  /// \param region The range.  \param dimension The dimension.
  Tensor slice(const Interval &region, unsigned dimension = 0) const;
  /// A box: [begin[d], end[d]) in every dimension d.
  /// \param begin Per-dimension first index.  \param end Per-dimension end.
  Tensor slice(ArrayRef<std::size_t> begin, ArrayRef<std::size_t> end) const;
  /// The same elements with a new shape (same number of elements).
  /// \param shape The new shape.
  Tensor reshape(ArrayRef<std::size_t> shape) const;
  /// One dimension.
  Tensor flatten() const;
  /// Dimensions [dimBegin, dimEnd) merged into one.
  /// \param dimBegin First dimension.  \param dimEnd One past the last.
  Tensor flatten(unsigned dimBegin, unsigned dimEnd) const;
  /// A permutation of the dimensions.
  /// \param permutation New order: result dim i is this dim permutation[i].
  Tensor dimShuffle(ArrayRef<unsigned> permutation) const;
  /// A 2-D tensor with its dimensions swapped.
  Tensor transpose() const;

  std::size_t numElements() const;
  /// \param i A dimension.
  std::size_t dim(unsigned i) const;
  std::vector<std::size_t> shape() const;
  unsigned rank() const;
  Type elementType() const;
  bool valid() const;
  /// True if the elements are one contiguous range of one variable.
  bool isContiguous() const;
  /// True if any element is also an element of `other`.
  /// \param other Another tensor.
  bool intersectsWith(const Tensor &other) const;

private:
  friend struct ::snncc::host::TensorAccess;
  std::vector<std::size_t> shape_;
  Type type_;
  std::vector<::snncc::host::Region> regions_;
  bool valid_;
};

/// Tensors joined along a dimension (other dimensions must agree).
/// \param ts The tensors.  \param dimension The dimension.
Tensor concat(ArrayRef<Tensor> ts, unsigned dimension = 0);
/// \param first A tensor.  \param second Another.  \param dimension The dimension.
Tensor concat(const Tensor &first, const Tensor &second,
              unsigned dimension = 0);

} // namespace poplar

#endif // poplar_Tensor_hpp
