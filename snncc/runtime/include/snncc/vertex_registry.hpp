// Copyright (c) 2024 snncc authors. SPDX-License-Identifier: Apache-2.0
/// \file vertex_registry.hpp
/// Vertex reflection for the host runtime.
///
/// Poplar finds a vertex class and its fields by name (addVertex(cs,
/// "ns::Name<float>"), v["field"]) through popc. C++ has no reflection, so a
/// host build links one extra, host-only source file that includes the
/// codelet files and registers, for every vertex type name, the class and the
/// names of its fields:
///
/// \code
///   // host_vertices.cpp (generated; the codelets stay pure Poplar)
///   #include <snncc/vertex_registry.hpp>
///   #include "codelets/lif.cpp"
///   namespace {
///   using V0 = snncc::LifForward<float>;
///   const snncc::host::Registrar registerV0(snncc::host::makeVertex<V0>(
///       "lif.cpp", "snncc::LifForward<float>",
///       {snncc::host::field<&V0::ids>("ids"), snncc::host::field<&V0::n>("n")}));
///   }
/// \endcode
///
/// makeVertex takes the codelet file's basename (addCodelets(path) checks the
/// vertices of basename(path) against it), the name programs pass to
/// addVertex, and the table of every field: a pointer to the member and the
/// name programs write in v["name"]. Each field's kind (edge or vertex state,
/// direction, element type, layout) is deduced from the member's declaration,
/// so nothing else needs to be said.
#ifndef snncc_vertex_registry_hpp
#define snncc_vertex_registry_hpp

#include <cstddef>
#include <initializer_list>
#include <new>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <poplar/HalfFloat.hpp>
#include <poplar/Type.hpp>
#include <poplar/Vertex.hpp>

namespace snncc {
namespace host {

/// What a field is, as far as binding and checking go.
enum class FieldKind {
  EdgeScalar,  ///< Input<T>: one tensor element
  EdgeVector,  ///< Input<Vector<T>>: a contiguous tensor region
  Edge2D,      ///< Vector<Input<Vector<T>>> or Input<VectorList<T>>
  StateScalar, ///< plain member, set by setInitialValue
  StateVector, ///< Vector<T> member, set by setInitialValue(field, ArrayRef)
};

enum class Access { Read, Write, ReadWrite, State };

/// One element of a 2-D edge: where its region starts and its size.
struct EdgeView {
  void *data;
  std::size_t size;
};

/// How to bind one field of a vertex class. Function pointers are
/// instantiated per member, so binding is a plain store.
struct FieldInfo {
  const char *name;
  FieldKind kind;
  Access access;
  const TypeInfo *type;     ///< element type
  unsigned ptrBytes;        ///< modelled IPU vertex-state bytes of the field
  unsigned entryBytes;      ///< Edge2D: modelled bytes per element
  std::size_t entrySize;    ///< Edge2D: host bytes per element object
  std::size_t entryAlign;   ///< Edge2D: its alignment
  void (*bindEdge)(void *vertex, void *data, std::size_t n);
  void (*bindEdge2D)(void *vertex, void *entries, const EdgeView *views,
                     std::size_t n);
  void (*bindScalar)(void *vertex, const void *value);
};

/// A registered vertex type.
struct VertexInfo {
  std::string name;      ///< as passed to addVertex
  std::string file;      ///< codelet file basename
  std::size_t size;      ///< sizeof the class
  std::size_t align;     ///< alignof the class
  bool multiVertex;      ///< compute(workerId) per worker
  /// Runs compute (compute(workerId) for a MultiVertex); false = failure.
  bool (*compute)(void *vertex, unsigned workerId);
  std::vector<FieldInfo> fields;
};

/// Add a vertex type to the process-wide table (called before main by a
/// Registrar). A second registration of a name is recorded and
/// reported by addCodelets/addVertex.
/// \param info The vertex type.
void registerVertex(VertexInfo info);
/// The vertex type of that name, or nullptr.
/// \param name A vertex type name.
const VertexInfo *findVertex(const std::string &name);
/// Every vertex type registered for a codelet file basename.
/// \param basename e.g. "lif.cpp".
std::vector<const VertexInfo *> verticesOfFile(const std::string &basename);
/// Problems found while registering (duplicate names), "" if none.
std::string registrationErrors();

/// Writes the private pointers of Vertex.hpp's field classes.
struct FieldAccess {
  template <typename T, bool W>
  static void bind(poplar::detail::ScalarEdge<T, W> &e, void *p) {
    e.p_ = static_cast<T *>(p);
  }
  template <typename T, poplar::VectorLayout L, bool W>
  static void bind(poplar::detail::VectorEdge<T, L, W> &e, void *p,
                   std::size_t n) {
    e.p_ = static_cast<T *>(p);
    e.n_ = n;
  }
  template <typename T, poplar::VectorLayout L, unsigned A, bool I>
  static void bind(poplar::Vector<T, L, A, I> &v, void *p, std::size_t n) {
    v.p_ = static_cast<T *>(p);
    v.n_ = n;
  }
  template <typename T, poplar::VectorListLayout L, bool W>
  static void bindList(poplar::detail::ListEdge<T, L, W> &e, void *entries,
                       const EdgeView *views, std::size_t n) {
    using Entry = typename poplar::detail::ListEdge<T, L, W>::Entry;
    auto *es = static_cast<Entry *>(entries);
    for (std::size_t i = 0; i < n; ++i) {
      Entry *en = ::new (static_cast<void *>(es + i)) Entry;
      en->p_ = static_cast<T *>(views[i].data);
      en->n_ = views[i].size;
    }
    e.e_ = es;
    e.n_ = n;
  }
};

namespace detail {

constexpr unsigned layoutBytes(poplar::VectorLayout l) {
  // Modelled IPU sizes: SPAN is a 32-bit pointer and a 32-bit size, the
  // scaled pointers are 16-bit, the rest one 32-bit word.
  switch (l) {
  case poplar::VectorLayout::SPAN:
    return 8;
  case poplar::VectorLayout::SCALED_PTR32:
  case poplar::VectorLayout::SCALED_PTR64:
  case poplar::VectorLayout::SCALED_PTR128:
  case poplar::VectorLayout::COMPACT_PTR:
    return 2;
  default:
    return 4;
  }
}

template <typename T> struct IsEdge : std::false_type {};
template <typename T> struct IsEdge<poplar::Input<T>> : std::true_type {};
template <typename T> struct IsEdge<poplar::Output<T>> : std::true_type {};
template <typename T> struct IsEdge<poplar::InOut<T>> : std::true_type {};

template <typename T> struct EdgeAccess;
template <typename T> struct EdgeAccess<poplar::Input<T>> {
  static constexpr Access value = Access::Read;
  using inner = T;
};
template <typename T> struct EdgeAccess<poplar::Output<T>> {
  static constexpr Access value = Access::Write;
  using inner = T;
};
template <typename T> struct EdgeAccess<poplar::InOut<T>> {
  static constexpr Access value = Access::ReadWrite;
  using inner = T;
};

template <typename T> struct IsVector : std::false_type {};
template <typename T, poplar::VectorLayout L, unsigned A, bool I>
struct IsVector<poplar::Vector<T, L, A, I>> : std::true_type {
  using elem = T;
  static constexpr poplar::VectorLayout layout = L;
};
template <typename T> struct IsList : std::false_type {};
template <typename T, poplar::VectorListLayout L, unsigned A, bool I>
struct IsList<poplar::VectorList<T, L, A, I>> : std::true_type {
  using elem = T;
};

template <typename T>
constexpr bool isScalar = std::is_arithmetic<T>::value ||
                          std::is_same<T, poplar::IeeeHalf>::value;

/// Classifies a member type M; the primary template is a scalar state field.
template <typename M, typename = void> struct FieldTraits {
  static_assert(isScalar<M>, "unsupported vertex field type: a field must be "
                             "Input/Output/InOut, Vector or a scalar");
  static constexpr FieldKind kind = FieldKind::StateScalar;
  static constexpr Access access = Access::State;
  using elem = M;
  static constexpr unsigned ptrBytes = sizeof(M);
  static constexpr unsigned entryBytes = 0;
  using entry = char;
};

// Input/Output/InOut of a scalar, a Vector or a VectorList.
template <typename M>
struct FieldTraits<M, std::enable_if_t<IsEdge<M>::value>> {
  using inner = typename EdgeAccess<M>::inner;
  static constexpr Access access = EdgeAccess<M>::value;
  static constexpr bool vec = IsVector<inner>::value;
  static constexpr bool list = IsList<inner>::value;
  static constexpr FieldKind kind =
      vec ? FieldKind::EdgeVector : list ? FieldKind::Edge2D : FieldKind::EdgeScalar;
  template <typename X, typename = void> struct Elem { using type = X; };
  template <typename X>
  struct Elem<X, std::enable_if_t<IsVector<X>::value || IsList<X>::value>> {
    using type = typename X::value_type;
  };
  using elem = typename Elem<inner>::type;
  static constexpr unsigned ptrBytes = [] {
    if constexpr (IsVector<inner>::value)
      return layoutBytes(IsVector<inner>::layout);
    else if constexpr (IsList<inner>::value)
      return 8u;
    else
      return 4u;
  }();
  static constexpr unsigned entryBytes = list ? 4 : 0;
  template <typename X, bool L> struct EntryOf { using type = char; };
  template <typename X> struct EntryOf<X, true> { using type = typename X::Entry; };
  using entry = typename EntryOf<M, list>::type;
};

// Vector<T>: vertex state, or the outer level of a 2-D edge.
template <typename M>
struct FieldTraits<M, std::enable_if_t<IsVector<M>::value>> {
  using inner = typename IsVector<M>::elem;
  static constexpr bool edge2D = IsEdge<inner>::value;
  static constexpr FieldKind kind = edge2D ? FieldKind::Edge2D : FieldKind::StateVector;
  static constexpr Access access = [] {
    if constexpr (IsEdge<inner>::value)
      return EdgeAccess<inner>::value;
    else
      return Access::State;
  }();
  template <typename X, typename = void> struct Elem { using type = X; };
  template <typename X> struct Elem<X, std::enable_if_t<IsEdge<X>::value>> {
    using type = typename FieldTraits<X>::elem;
  };
  using elem = typename Elem<inner>::type;
  static constexpr unsigned ptrBytes = layoutBytes(IsVector<M>::layout);
  static constexpr unsigned entryBytes = [] {
    if constexpr (IsEdge<inner>::value)
      return FieldTraits<inner>::ptrBytes;
    else
      return 0u;
  }();
  using entry = std::conditional_t<edge2D, inner, char>;
};

template <typename C> struct MemberOf;
template <typename V, typename M> struct MemberOf<M V::*> {
  using vertex = V;
  using member = std::remove_cv_t<M>;
};

template <auto MP> struct Binder {
  using V = typename MemberOf<decltype(MP)>::vertex;
  using M = typename MemberOf<decltype(MP)>::member;
  using Traits = FieldTraits<M>;
  // Vertex objects are laid out, never constructed (see Vertex.hpp), and
  // state members may be const: write through a non-const reference.
  static M &ref(void *v) { return const_cast<M &>(static_cast<V *>(v)->*MP); }

  static void edge(void *v, void *data, std::size_t n) {
    if constexpr (Traits::kind == FieldKind::EdgeScalar)
      FieldAccess::bind(ref(v), data);
    else if constexpr (Traits::kind == FieldKind::EdgeVector ||
                       Traits::kind == FieldKind::StateVector)
      FieldAccess::bind(ref(v), data, n);
    else {
      (void)v, (void)data, (void)n;
    }
  }
  static void edge2D(void *v, void *entries, const EdgeView *views,
                     std::size_t n) {
    if constexpr (Traits::kind == FieldKind::Edge2D) {
      if constexpr (IsVector<M>::value) {
        using Inner = typename IsVector<M>::elem;
        auto *es = static_cast<Inner *>(entries);
        for (std::size_t i = 0; i < n; ++i) {
          Inner *e = ::new (static_cast<void *>(es + i)) Inner;
          if constexpr (FieldTraits<Inner>::kind == FieldKind::EdgeScalar)
            FieldAccess::bind(*e, views[i].data);
          else
            FieldAccess::bind(*e, views[i].data, views[i].size);
        }
        FieldAccess::bind(ref(v), static_cast<void *>(es), n);
      } else {
        FieldAccess::bindList(ref(v), entries, views, n);
      }
    } else {
      (void)v, (void)entries, (void)views, (void)n;
    }
  }
  static void scalar(void *v, const void *value) {
    if constexpr (Traits::kind == FieldKind::StateScalar)
      ref(v) = *static_cast<const M *>(value);
    else {
      (void)v, (void)value;
    }
  }
};

template <typename V, typename = void> struct ComputeCall {
  static bool call(void *v, unsigned) {
    if constexpr (std::is_same<decltype(static_cast<V *>(v)->compute()), bool>::value)
      return static_cast<V *>(v)->compute();
    else {
      static_cast<V *>(v)->compute();
      return true;
    }
  }
};
template <typename V>
struct ComputeCall<V, std::enable_if_t<std::is_base_of<poplar::MultiVertex, V>::value>> {
  static bool call(void *v, unsigned wid) {
    if constexpr (std::is_same<decltype(static_cast<V *>(v)->compute(wid)), bool>::value)
      return static_cast<V *>(v)->compute(wid);
    else {
      static_cast<V *>(v)->compute(wid);
      return true;
    }
  }
};

} // namespace detail

/// Describe one field: field<&V::member>("member").
/// \param name The field's name as programs write it in v["name"].
template <auto MP> FieldInfo field(const char *name) {
  using B = detail::Binder<MP>;
  using T = typename B::Traits;
  return FieldInfo{name,
                   T::kind,
                   T::access,
                   typeInfoOf<std::remove_cv_t<typename T::elem>>(),
                   T::ptrBytes,
                   T::entryBytes,
                   sizeof(typename T::entry),
                   alignof(typename T::entry),
                   &B::edge,
                   &B::edge2D,
                   &B::scalar};
}

/// Describe a vertex class.
/// \param file Codelet file basename.  \param name Vertex type name.
/// \param fields Its fields, from field<&V::member>("member").
template <typename V>
VertexInfo makeVertex(const char *file, const char *name,
                      std::initializer_list<FieldInfo> fields) {
  static_assert(!std::is_polymorphic<V>::value,
                "vertex classes must not have virtual functions");
  static_assert(std::is_base_of<poplar::Vertex, V>::value ||
                    std::is_base_of<poplar::MultiVertex, V>::value ||
                    std::is_base_of<poplar::SupervisorVertex, V>::value,
                "a vertex class derives from poplar::Vertex or poplar::MultiVertex");
  return VertexInfo{name,
                    file,
                    sizeof(V),
                    alignof(V),
                    std::is_base_of<poplar::MultiVertex, V>::value,
                    &detail::ComputeCall<V>::call,
                    std::vector<FieldInfo>(fields)};
}

/// Registers a vertex type at static-initialisation time: one namespace-scope
/// Registrar per vertex type in the host registration file.
struct Registrar {
  /// \param info The vertex type.
  explicit Registrar(VertexInfo info) { registerVertex(std::move(info)); }
};

} // namespace host
} // namespace snncc

#endif // snncc_vertex_registry_hpp
