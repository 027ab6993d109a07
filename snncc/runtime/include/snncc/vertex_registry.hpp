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
///   SNNCC_REGISTER_VERTEX("lif.cpp", "snncc::LifForward<float>",
///                         snncc::LifForward<float>, ids, count, weights, v, n);
/// \endcode
///
/// The first argument is the codelet file's basename (addCodelets(path)
/// checks the vertices of basename(path) against it); the second the name
/// programs pass to addVertex; the third the C++ class (use an alias if it
/// contains a top-level comma); then every field, at most 64. Each field's
/// kind (edge or vertex state, direction, element type, layout) is deduced
/// from its declaration, so nothing else needs to be said.
#ifndef snncc_vertex_registry_hpp
#define snncc_vertex_registry_hpp

#include <cstddef>
#include <initializer_list>
#include <new>
#include <string>
#include <type_traits>
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

/// Add a vertex type to the process-wide table (called before main by
/// SNNCC_REGISTER_VERTEX). A second registration of a name is recorded and
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

/// Registers at static-initialisation time.
struct Registrar {
  /// \param info The vertex type.
  explicit Registrar(VertexInfo info) { registerVertex(std::move(info)); }
};

} // namespace host
} // namespace snncc

#define SNNCC_CAT_(a, b) a##b
#define SNNCC_CAT(a, b) SNNCC_CAT_(a, b)
/// One field of vertex class V, for SNNCC_REGISTER_VERTEX.
#define SNNCC_FIELD(V, f) ::snncc::host::field<&V::f>(#f)
#define SNNCC_PP_ARG_N_(_1, _2, _3, _4, _5, _6, _7, _8, _9, _10, _11, _12, _13, _14, _15, _16, _17, _18, _19, _20, _21, _22, _23, _24, _25, _26, _27, _28, _29, _30, _31, _32, _33, _34, _35, _36, _37, _38, _39, _40, _41, _42, _43, _44, _45, _46, _47, _48, _49, _50, _51, _52, _53, _54, _55, _56, _57, _58, _59, _60, _61, _62, _63, _64, N, ...) N
#define SNNCC_PP_NARG_(...) SNNCC_PP_ARG_N_(__VA_ARGS__)
#define SNNCC_PP_NARG(...) SNNCC_PP_NARG_(__VA_ARGS__, 64, 63, 62, 61, 60, 59, 58, 57, 56, 55, 54, 53, 52, 51, 50, 49, 48, 47, 46, 45, 44, 43, 42, 41, 40, 39, 38, 37, 36, 35, 34, 33, 32, 31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19, 18, 17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1)
#define SNNCC_FIELDS_1(V, f) SNNCC_FIELD(V, f)
#define SNNCC_FIELDS_2(V, f, ...) SNNCC_FIELD(V, f), SNNCC_FIELDS_1(V, __VA_ARGS__)
#define SNNCC_FIELDS_3(V, f, ...) SNNCC_FIELD(V, f), SNNCC_FIELDS_2(V, __VA_ARGS__)
#define SNNCC_FIELDS_4(V, f, ...) SNNCC_FIELD(V, f), SNNCC_FIELDS_3(V, __VA_ARGS__)
#define SNNCC_FIELDS_5(V, f, ...) SNNCC_FIELD(V, f), SNNCC_FIELDS_4(V, __VA_ARGS__)
#define SNNCC_FIELDS_6(V, f, ...) SNNCC_FIELD(V, f), SNNCC_FIELDS_5(V, __VA_ARGS__)
#define SNNCC_FIELDS_7(V, f, ...) SNNCC_FIELD(V, f), SNNCC_FIELDS_6(V, __VA_ARGS__)
#define SNNCC_FIELDS_8(V, f, ...) SNNCC_FIELD(V, f), SNNCC_FIELDS_7(V, __VA_ARGS__)
#define SNNCC_FIELDS_9(V, f, ...) SNNCC_FIELD(V, f), SNNCC_FIELDS_8(V, __VA_ARGS__)
#define SNNCC_FIELDS_10(V, f, ...) SNNCC_FIELD(V, f), SNNCC_FIELDS_9(V, __VA_ARGS__)
#define SNNCC_FIELDS_11(V, f, ...) SNNCC_FIELD(V, f), SNNCC_FIELDS_10(V, __VA_ARGS__)
#define SNNCC_FIELDS_12(V, f, ...) SNNCC_FIELD(V, f), SNNCC_FIELDS_11(V, __VA_ARGS__)
#define SNNCC_FIELDS_13(V, f, ...) SNNCC_FIELD(V, f), SNNCC_FIELDS_12(V, __VA_ARGS__)
#define SNNCC_FIELDS_14(V, f, ...) SNNCC_FIELD(V, f), SNNCC_FIELDS_13(V, __VA_ARGS__)
#define SNNCC_FIELDS_15(V, f, ...) SNNCC_FIELD(V, f), SNNCC_FIELDS_14(V, __VA_ARGS__)
#define SNNCC_FIELDS_16(V, f, ...) SNNCC_FIELD(V, f), SNNCC_FIELDS_15(V, __VA_ARGS__)
#define SNNCC_FIELDS_17(V, f, ...) SNNCC_FIELD(V, f), SNNCC_FIELDS_16(V, __VA_ARGS__)
#define SNNCC_FIELDS_18(V, f, ...) SNNCC_FIELD(V, f), SNNCC_FIELDS_17(V, __VA_ARGS__)
#define SNNCC_FIELDS_19(V, f, ...) SNNCC_FIELD(V, f), SNNCC_FIELDS_18(V, __VA_ARGS__)
#define SNNCC_FIELDS_20(V, f, ...) SNNCC_FIELD(V, f), SNNCC_FIELDS_19(V, __VA_ARGS__)
#define SNNCC_FIELDS_21(V, f, ...) SNNCC_FIELD(V, f), SNNCC_FIELDS_20(V, __VA_ARGS__)
#define SNNCC_FIELDS_22(V, f, ...) SNNCC_FIELD(V, f), SNNCC_FIELDS_21(V, __VA_ARGS__)
#define SNNCC_FIELDS_23(V, f, ...) SNNCC_FIELD(V, f), SNNCC_FIELDS_22(V, __VA_ARGS__)
#define SNNCC_FIELDS_24(V, f, ...) SNNCC_FIELD(V, f), SNNCC_FIELDS_23(V, __VA_ARGS__)
#define SNNCC_FIELDS_25(V, f, ...) SNNCC_FIELD(V, f), SNNCC_FIELDS_24(V, __VA_ARGS__)
#define SNNCC_FIELDS_26(V, f, ...) SNNCC_FIELD(V, f), SNNCC_FIELDS_25(V, __VA_ARGS__)
#define SNNCC_FIELDS_27(V, f, ...) SNNCC_FIELD(V, f), SNNCC_FIELDS_26(V, __VA_ARGS__)
#define SNNCC_FIELDS_28(V, f, ...) SNNCC_FIELD(V, f), SNNCC_FIELDS_27(V, __VA_ARGS__)
#define SNNCC_FIELDS_29(V, f, ...) SNNCC_FIELD(V, f), SNNCC_FIELDS_28(V, __VA_ARGS__)
#define SNNCC_FIELDS_30(V, f, ...) SNNCC_FIELD(V, f), SNNCC_FIELDS_29(V, __VA_ARGS__)
#define SNNCC_FIELDS_31(V, f, ...) SNNCC_FIELD(V, f), SNNCC_FIELDS_30(V, __VA_ARGS__)
#define SNNCC_FIELDS_32(V, f, ...) SNNCC_FIELD(V, f), SNNCC_FIELDS_31(V, __VA_ARGS__)
#define SNNCC_FIELDS_33(V, f, ...) SNNCC_FIELD(V, f), SNNCC_FIELDS_32(V, __VA_ARGS__)
#define SNNCC_FIELDS_34(V, f, ...) SNNCC_FIELD(V, f), SNNCC_FIELDS_33(V, __VA_ARGS__)
#define SNNCC_FIELDS_35(V, f, ...) SNNCC_FIELD(V, f), SNNCC_FIELDS_34(V, __VA_ARGS__)
#define SNNCC_FIELDS_36(V, f, ...) SNNCC_FIELD(V, f), SNNCC_FIELDS_35(V, __VA_ARGS__)
#define SNNCC_FIELDS_37(V, f, ...) SNNCC_FIELD(V, f), SNNCC_FIELDS_36(V, __VA_ARGS__)
#define SNNCC_FIELDS_38(V, f, ...) SNNCC_FIELD(V, f), SNNCC_FIELDS_37(V, __VA_ARGS__)
#define SNNCC_FIELDS_39(V, f, ...) SNNCC_FIELD(V, f), SNNCC_FIELDS_38(V, __VA_ARGS__)
#define SNNCC_FIELDS_40(V, f, ...) SNNCC_FIELD(V, f), SNNCC_FIELDS_39(V, __VA_ARGS__)
#define SNNCC_FIELDS_41(V, f, ...) SNNCC_FIELD(V, f), SNNCC_FIELDS_40(V, __VA_ARGS__)
#define SNNCC_FIELDS_42(V, f, ...) SNNCC_FIELD(V, f), SNNCC_FIELDS_41(V, __VA_ARGS__)
#define SNNCC_FIELDS_43(V, f, ...) SNNCC_FIELD(V, f), SNNCC_FIELDS_42(V, __VA_ARGS__)
#define SNNCC_FIELDS_44(V, f, ...) SNNCC_FIELD(V, f), SNNCC_FIELDS_43(V, __VA_ARGS__)
#define SNNCC_FIELDS_45(V, f, ...) SNNCC_FIELD(V, f), SNNCC_FIELDS_44(V, __VA_ARGS__)
#define SNNCC_FIELDS_46(V, f, ...) SNNCC_FIELD(V, f), SNNCC_FIELDS_45(V, __VA_ARGS__)
#define SNNCC_FIELDS_47(V, f, ...) SNNCC_FIELD(V, f), SNNCC_FIELDS_46(V, __VA_ARGS__)
#define SNNCC_FIELDS_48(V, f, ...) SNNCC_FIELD(V, f), SNNCC_FIELDS_47(V, __VA_ARGS__)
#define SNNCC_FIELDS_49(V, f, ...) SNNCC_FIELD(V, f), SNNCC_FIELDS_48(V, __VA_ARGS__)
#define SNNCC_FIELDS_50(V, f, ...) SNNCC_FIELD(V, f), SNNCC_FIELDS_49(V, __VA_ARGS__)
#define SNNCC_FIELDS_51(V, f, ...) SNNCC_FIELD(V, f), SNNCC_FIELDS_50(V, __VA_ARGS__)
#define SNNCC_FIELDS_52(V, f, ...) SNNCC_FIELD(V, f), SNNCC_FIELDS_51(V, __VA_ARGS__)
#define SNNCC_FIELDS_53(V, f, ...) SNNCC_FIELD(V, f), SNNCC_FIELDS_52(V, __VA_ARGS__)
#define SNNCC_FIELDS_54(V, f, ...) SNNCC_FIELD(V, f), SNNCC_FIELDS_53(V, __VA_ARGS__)
#define SNNCC_FIELDS_55(V, f, ...) SNNCC_FIELD(V, f), SNNCC_FIELDS_54(V, __VA_ARGS__)
#define SNNCC_FIELDS_56(V, f, ...) SNNCC_FIELD(V, f), SNNCC_FIELDS_55(V, __VA_ARGS__)
#define SNNCC_FIELDS_57(V, f, ...) SNNCC_FIELD(V, f), SNNCC_FIELDS_56(V, __VA_ARGS__)
#define SNNCC_FIELDS_58(V, f, ...) SNNCC_FIELD(V, f), SNNCC_FIELDS_57(V, __VA_ARGS__)
#define SNNCC_FIELDS_59(V, f, ...) SNNCC_FIELD(V, f), SNNCC_FIELDS_58(V, __VA_ARGS__)
#define SNNCC_FIELDS_60(V, f, ...) SNNCC_FIELD(V, f), SNNCC_FIELDS_59(V, __VA_ARGS__)
#define SNNCC_FIELDS_61(V, f, ...) SNNCC_FIELD(V, f), SNNCC_FIELDS_60(V, __VA_ARGS__)
#define SNNCC_FIELDS_62(V, f, ...) SNNCC_FIELD(V, f), SNNCC_FIELDS_61(V, __VA_ARGS__)
#define SNNCC_FIELDS_63(V, f, ...) SNNCC_FIELD(V, f), SNNCC_FIELDS_62(V, __VA_ARGS__)
#define SNNCC_FIELDS_64(V, f, ...) SNNCC_FIELD(V, f), SNNCC_FIELDS_63(V, __VA_ARGS__)
#define SNNCC_FIELDS_(N, V, ...) SNNCC_CAT(SNNCC_FIELDS_, N)(V, __VA_ARGS__)

/// Register vertex class TYPE under NAME for codelet file FILE (basename),
/// with its fields: SNNCC_REGISTER_VERTEX("f.cpp", "ns::X<float>", ns::X<float>, a, b);
#define SNNCC_REGISTER_VERTEX(FILE, NAME, TYPE, ...)                           \
  static const ::snncc::host::Registrar SNNCC_CAT(snnccVertexRegistrar_,       \
                                                  __COUNTER__)(                \
      ::snncc::host::makeVertex<TYPE>(                                         \
          FILE, NAME,                                                          \
          {SNNCC_FIELDS_(SNNCC_PP_NARG(__VA_ARGS__), TYPE, __VA_ARGS__)}))

/// Register a vertex class without fields.
#define SNNCC_REGISTER_VERTEX_NO_FIELDS(FILE, NAME, TYPE)                      \
  static const ::snncc::host::Registrar SNNCC_CAT(snnccVertexRegistrar_,       \
                                                  __COUNTER__)(                \
      ::snncc::host::makeVertex<TYPE>(FILE, NAME, {}))

#endif // snncc_vertex_registry_hpp
