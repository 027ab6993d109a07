// Copyright (c) 2024 snncc authors. SPDX-License-Identifier: Apache-2.0
/// \file GraphElements.hpp
/// Handles to compute sets, vertices and vertex fields.
#ifndef poplar_GraphElements_hpp
#define poplar_GraphElements_hpp

#include <cstddef>
#include <string>

namespace snncc {
namespace host {
struct GraphAccess;
} // namespace host
} // namespace snncc

namespace poplar {

class ComputeSet {
public:
  ComputeSet();
  /// \param id The compute set's id in its graph.
  ComputeSet(unsigned id);
  unsigned getId() const;

private:
  unsigned id_;
};

class FieldRef {
public:
  FieldRef();
  /// Element i of a 2-D field (Vector<Input<Vector<T>>> or VectorList).
  /// \param index The element.
  FieldRef operator[](std::size_t index) const;
  bool isIndexed() const;
  std::size_t getIndex() const;

private:
  friend struct ::snncc::host::GraphAccess;
  unsigned vertex_;
  std::string field_;
  std::size_t index_;
  bool indexed_;
};

class VertexRef {
public:
  VertexRef();
  unsigned getId() const;
  /// A field of this vertex, by its member name.
  /// \param fieldName The field.
  FieldRef operator[](const std::string &fieldName) const;

private:
  friend struct ::snncc::host::GraphAccess;
  unsigned id_;
};

} // namespace poplar

#endif // poplar_GraphElements_hpp
