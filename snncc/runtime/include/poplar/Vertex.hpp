// Copyright (c) 2024 snncc authors. SPDX-License-Identifier: Apache-2.0
/// \file Vertex.hpp
/// The Poplar Vertex API (SDK 3.x) for codelets built against snncc's host
/// runtime: Vertex, MultiVertex, the edge fields Input/Output/InOut, Vector
/// with its layouts, and VectorList.
///
/// Every field is a raw pointer (plus a size where the layout has one), so
/// that `in[i]` in a codelet compiles to a plain load. The runtime never runs
/// a vertex's constructor (PopLibs-style codelets declare one and leave it
/// undefined): it lays out the object in zeroed memory and writes the fields,
/// as Poplar writes vertex state on the IPU. Codelets therefore must not rely
/// on default member initialisers.
///
/// Only <cstddef> and <type_traits> are included: codelets built with
/// `-std=c++17 -Wall -Wextra -Werror -Wdouble-promotion` see no standard
/// library containers through this header.
#ifndef poplar_Vertex_hpp
#define poplar_Vertex_hpp

#include <cstddef>
#include <type_traits>

namespace snncc {
namespace host {
struct FieldAccess; // binds fields; see snncc/vertex_registry.hpp
} // namespace host
} // namespace snncc

namespace poplar {

/// How a Vector field's pointer (and size) is stored in vertex state. On the
/// host every layout is a pointer and a size; the layout only decides whether
/// `size()` may be called (SPAN, SHORT_SPAN) and how many bytes of vertex
/// state the runtime's memory model charges (see docs/runtime.md).
enum class VectorLayout {
  ONE_PTR,
  SCALED_PTR32,
  SCALED_PTR64,
  SCALED_PTR128,
  SPAN,
  SHORT_SPAN,
  COMPACT_PTR,
};

/// Layouts of a VectorList (a list of vectors of varying size).
enum class VectorListLayout {
  ONE_PTR,
  SCALED_PTR32,
  SCALED_PTR64,
  SCALED_PTR128,
  DELTAN,
  DELTANELEMENTS,
  COMPACT_DELTAN,
};

/// A vertex whose compute() runs on one worker.
class Vertex {};

/// A vertex whose compute(unsigned workerId) runs once on every worker of its
/// tile; workers must write disjoint elements.
class MultiVertex {
public:
  /// Worker contexts per tile (6 on ipu2, and in the host runtime).
  static constexpr unsigned numWorkers() { return 6; }
};

/// A supervisor vertex (compute() on the supervisor context).
class SupervisorVertex {};

namespace detail {
constexpr bool hasSize(VectorLayout l) {
  return l == VectorLayout::SPAN || l == VectorLayout::SHORT_SPAN;
}
} // namespace detail

/// Vertex state that is a vector (set from the host with setInitialValue and
/// an array), or the outer level of a 2-D edge, `Vector<Input<Vector<T>>>`.
template <typename T, VectorLayout L = VectorLayout::SPAN,
          unsigned MinAlign = alignof(T), bool Interleaved = false>
class Vector {
public:
  using value_type = T;
  static constexpr VectorLayout layout = L;
  T &operator[](std::size_t i) const { return p_[i]; }
  std::size_t size() const {
    static_assert(detail::hasSize(L), "Vector::size() needs SPAN or SHORT_SPAN");
    return n_;
  }
  T *begin() const { return p_; }
  T *end() const {
    static_assert(detail::hasSize(L), "Vector::end() needs SPAN or SHORT_SPAN");
    return p_ + n_;
  }
  T *data() const { return p_; }

private:
  friend struct ::snncc::host::FieldAccess;
  T *p_;
  std::size_t n_;
};

/// A list of vectors of varying sizes (the 2-D field form PopLibs uses for
/// partials). `list[i]` is a view with size() and operator[].
template <typename T, VectorListLayout L = VectorListLayout::DELTANELEMENTS,
          unsigned MinAlign = alignof(T), bool Interleaved = false>
class VectorList {
public:
  /// One vector of the list.
  class Entry {
  public:
    T &operator[](std::size_t i) const { return p_[i]; }
    std::size_t size() const { return n_; }
    T *begin() const { return p_; }
    T *end() const { return p_ + n_; }
    T *data() const { return p_; }

  private:
    friend struct ::snncc::host::FieldAccess;
    T *p_;
    std::size_t n_;
  };
  using value_type = T;
  static constexpr VectorListLayout layout = L;
  const Entry &operator[](std::size_t i) const { return e_[i]; }
  std::size_t size() const { return n_; }

private:
  friend struct ::snncc::host::FieldAccess;
  const Entry *e_;
  std::size_t n_;
};

namespace detail {
/// Scalar edge: a pointer to one tensor element. Access is `*field`.
template <typename T, bool Writable> class ScalarEdge {
public:
  using value_type = T;
  using ref = std::conditional_t<Writable, T &, const T &>;
  ref operator*() const { return *p_; }
  auto *operator->() const { return p_; }

private:
  friend struct ::snncc::host::FieldAccess;
  std::conditional_t<Writable, T *, const T *> p_;
};
} // namespace detail

/// A read-only edge: `Input<float>` (one element) or
/// `Input<Vector<T, Layout>>` (a contiguous region) or `Input<VectorList<T>>`.
template <typename T> class Input : public detail::ScalarEdge<T, false> {
public:
  operator const T &() const { return **this; }
};

/// A write-only edge (reading an Output is undefined on the IPU).
template <typename T> class Output : public detail::ScalarEdge<T, true> {};

/// A read-write edge.
template <typename T> class InOut : public detail::ScalarEdge<T, true> {};

namespace detail {
template <typename T, VectorLayout L, bool Writable> class VectorEdge {
public:
  using value_type = T;
  using element = std::conditional_t<Writable, T, const T>;
  static constexpr VectorLayout layout = L;
  element &operator[](std::size_t i) const { return p_[i]; }
  std::size_t size() const {
    static_assert(hasSize(L), "size() needs a SPAN or SHORT_SPAN layout");
    return n_;
  }
  element *begin() const { return p_; }
  element *end() const {
    static_assert(hasSize(L), "end() needs a SPAN or SHORT_SPAN layout");
    return p_ + n_;
  }
  element *data() const { return p_; }

private:
  friend struct ::snncc::host::FieldAccess;
  element *p_;
  std::size_t n_;
};

template <typename T, VectorListLayout L, bool Writable> class ListEdge {
public:
  using value_type = T;
  using Entry = typename VectorList<std::conditional_t<Writable, T, const T>,
                                    L>::Entry;
  static constexpr VectorListLayout layout = L;
  const Entry &operator[](std::size_t i) const { return e_[i]; }
  std::size_t size() const { return n_; }

private:
  friend struct ::snncc::host::FieldAccess;
  const Entry *e_;
  std::size_t n_;
};
} // namespace detail

template <typename T, VectorLayout L, unsigned A, bool I>
class Input<Vector<T, L, A, I>> : public detail::VectorEdge<T, L, false> {};
template <typename T, VectorLayout L, unsigned A, bool I>
class Output<Vector<T, L, A, I>> : public detail::VectorEdge<T, L, true> {};
template <typename T, VectorLayout L, unsigned A, bool I>
class InOut<Vector<T, L, A, I>> : public detail::VectorEdge<T, L, true> {};

template <typename T, VectorListLayout L, unsigned A, bool I>
class Input<VectorList<T, L, A, I>> : public detail::ListEdge<T, L, false> {};
template <typename T, VectorListLayout L, unsigned A, bool I>
class Output<VectorList<T, L, A, I>> : public detail::ListEdge<T, L, true> {};
template <typename T, VectorListLayout L, unsigned A, bool I>
class InOut<VectorList<T, L, A, I>> : public detail::ListEdge<T, L, true> {};

} // namespace poplar

#endif // poplar_Vertex_hpp
