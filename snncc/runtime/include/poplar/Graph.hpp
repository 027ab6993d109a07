// Copyright (c) 2024 snncc authors. SPDX-License-Identifier: Apache-2.0
/// \file Graph.hpp
/// The graph: variables and constants with tile mappings, compute sets of
/// vertices with their field connections, and streams.
#ifndef poplar_Graph_hpp
#define poplar_Graph_hpp

#include <cstdint>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include <poplar/ArrayRef.hpp>
#include <poplar/DataStream.hpp>
#include <poplar/DebugContext.hpp>
#include <poplar/Device.hpp>
#include <poplar/GraphElements.hpp>
#include <poplar/Interval.hpp>
#include <poplar/OptionFlags.hpp>
#include <poplar/Program.hpp>
#include <poplar/Target.hpp>
#include <poplar/Tensor.hpp>
#include <poplar/Type.hpp>
#include <poplar/exceptions.hpp>

namespace poplar {
class Graph;
} // namespace poplar

namespace snncc {
namespace host {
struct GraphState;
// Untyped back ends of Graph's templated setters (outside namespace poplar so
// that namespace poplar declares only Poplar's API).
void setFieldValue(poplar::Graph &g, const poplar::FieldRef &field,
                   const void *data, const poplar::TypeTraits &traits,
                   std::size_t n, bool isVector);
void setTensorValue(poplar::Graph &g, const poplar::Tensor &t, const void *data,
                    const poplar::TypeTraits &traits, std::size_t n,
                    bool broadcast);
/// Throws poplar::graph_object_creation_error unless n equals the product of shape.
void checkValueCount(std::size_t n, poplar::ArrayRef<std::size_t> shape);
} // namespace host
} // namespace snncc

namespace poplar {

/// How addCodelets should treat its file; the host runtime only checks that
/// the file's vertices are compiled in (see docs/runtime.md).
enum class CodeletFileType {
  PreprocessedAsmSource,
  AsmSource,
  CSource,
  CppSource,
  IrSource,
  Object,
  Auto,
};

enum class VariableMappingMethod { NONE, LINEAR };

struct replication_factor {
  /// \param factor Replicas (only 1 is supported by the host runtime).
  explicit replication_factor(unsigned factor);
  unsigned value;
};

class Graph {
public:
  using TileToTensorMapping = std::vector<std::vector<Interval>>;

  /// A field connection for addVertex's initializer list.
  class ConnectionDesc {
  public:
    /// \param field Field name.  \param t Tensor to connect.
    ConnectionDesc(std::string field, Tensor t);
    /// \param field Field name of a 2-D field.  \param tns One tensor per element.
    ConnectionDesc(std::string field, ArrayRef<Tensor> tns);

  private:
    friend class Graph;
    std::string field_;
    std::vector<Tensor> tensors_;
    bool list_;
  };

  /// \param target The target.  \param r Replication factor (1).
  explicit Graph(const Target &target, replication_factor r = replication_factor(1));
  /// \param device The device whose target to use.  \param r Replication (1).
  explicit Graph(const Device &device, replication_factor r = replication_factor(1));
  Graph(Graph &&other) noexcept;
  Graph &operator=(Graph &&other) noexcept;
  ~Graph();

  const Target &getTarget() const;
  /// Replicas of the graph (replication_factor): on the host runtime, one per
  /// process of an MPI job, the replica's index being the process's rank.
  unsigned getReplicationFactor() const;

  /// Make the vertices of a codelet file available. The host runtime compiles
  /// codelets into the program, so this checks that every vertex class the
  /// file defines is registered (throws graph_program_compilation_error if
  /// not, file_load_error if nothing is known of the file).
  /// \param src Path of the codelet file (its basename is the key).
  /// \param type Ignored.  \param compileFlags Ignored.
  bool addCodelets(std::string src, CodeletFileType type = CodeletFileType::Auto,
                   std::string compileFlags = "");
  /// \param xs Codelet files.  \param compileFlags Ignored.
  void addCodelets(ArrayRef<std::string> xs, std::string compileFlags = "");
  /// \param codeletName A vertex type name.
  bool hasCodelet(std::string codeletName) const;

  /// A new variable, without a tile mapping yet.
  /// \param type Element type.  \param shape Shape.  \param debugContext Name.
  Tensor addVariable(const Type &type, ArrayRef<std::size_t> shape,
                     const DebugContext &debugContext = {});
  /// A new variable, mapped linearly over all tiles if LINEAR.
  /// \param type Element type.  \param shape Shape.
  /// \param mappingMethod NONE or LINEAR.  \param debugContext Name.
  Tensor addVariable(const Type &type, ArrayRef<std::size_t> shape,
                     VariableMappingMethod mappingMethod,
                     const DebugContext &debugContext = {});
  /// A constant from host data of another type (converted element-wise).
  /// \param type Device type.  \param shape Shape.  \param val Host data.
  /// \param traits Host element type.  \param broadcast One value for all.
  /// \param debugContext Name.
  Tensor addConstant(const Type &type, ArrayRef<std::size_t> shape,
                     const void *val, const TypeTraits &traits, bool broadcast,
                     const DebugContext &debugContext = {});
  /// A constant filled with one value.
  template <typename T>
  Tensor addConstant(const Type &type, ArrayRef<std::size_t> shape, T val,
                     const DebugContext &debugContext = {},
                     typename std::enable_if<TypeTraits::isSimpleType<T>()>::type * = nullptr) {
    return addConstant(type, shape, &val, ::snncc::host::traitsOf<T>(), true,
                       debugContext);
  }
  /// A constant with one value per element.
  template <typename T>
  Tensor addConstant(const Type &type, ArrayRef<std::size_t> shape,
                     ArrayRef<T> values, const DebugContext &debugContext = {}) {
    ::snncc::host::checkValueCount(values.size(), shape);
    return addConstant(type, shape, values.data(), ::snncc::host::traitsOf<T>(), false,
                       debugContext);
  }

  /// Map every element of a tensor to a tile.
  /// \param t The tensor.  \param tileNum The tile (< target tiles).
  void setTileMapping(const Tensor &t, unsigned tileNum);
  /// Map a vertex to a tile.
  /// \param v The vertex.  \param tileNum The tile.
  void setTileMapping(VertexRef v, unsigned tileNum);
  /// Map element intervals (in t's flat order) to tiles.
  /// \param t The tensor.  \param mapping Per tile, intervals of t.
  void setTileMapping(const Tensor &t, const TileToTensorMapping &mapping);
  /// Per tile, the intervals of t on that tile.
  /// \param t The tensor.  \param requireComplete Throw invalid_tile_mapping
  /// if some element is unmapped.
  TileToTensorMapping getTileMapping(const Tensor &t, bool requireComplete = true) const;
  /// \param t The tensor.  \param isComplete Set to whether all are mapped.
  TileToTensorMapping getTileMapping(const Tensor &t, bool *isComplete) const;

  /// \param debugContext Name (shown in reports).
  ComputeSet addComputeSet(const DebugContext &debugContext = {});
  /// \param cs Compute set.  \param vertexType Registered vertex type name.
  VertexRef addVertex(ComputeSet cs, std::string vertexType);
  /// \param cs Compute set.  \param vertexType Registered vertex type name.
  /// \param connections Field connections.
  VertexRef addVertex(ComputeSet cs, std::string vertexType,
                      ArrayRef<ConnectionDesc> connections);
  /// Connect an edge field (Input/Output/InOut, or one element of a 2-D one).
  /// \param field The field.  \param tensor The tensor.
  void connect(FieldRef field, const Tensor &tensor);
  /// Connect a 2-D field to one tensor per element.
  /// \param field The field.  \param tensors The tensors.
  void connect(FieldRef field, ArrayRef<Tensor> tensors);
  /// Set the number of elements of a 2-D or vector-state field.
  /// \param field The field.  \param size Its size.
  void setFieldSize(FieldRef field, std::size_t size);
  /// \param field The field.
  std::size_t getFieldSize(FieldRef field) const;
  /// Recorded but unused by the host runtime.
  /// \param v The vertex.  \param cycles Its cycle estimate.
  void setCycleEstimate(const VertexRef &v, std::uint64_t cycles);
  unsigned getNumVertices() const;

  /// Set a scalar vertex-state field (converted to the field's type).
  template <typename T>
  void setInitialValue(FieldRef field, T val,
                       typename std::enable_if<TypeTraits::isSimpleType<T>()>::type * = nullptr) {
    ::snncc::host::setFieldValue(*this, field, &val, ::snncc::host::traitsOf<T>(), 1, false);
  }
  /// Set a vector vertex-state field.
  template <typename T> void setInitialValue(FieldRef field, ArrayRef<T> val) {
    ::snncc::host::setFieldValue(*this, field, val.data(), ::snncc::host::traitsOf<T>(), val.size(), true);
  }
  /// Set every element of a variable's initial value.
  template <typename T>
  void setInitialValue(const Tensor &t, T val,
                       typename std::enable_if<TypeTraits::isSimpleType<T>()>::type * = nullptr) {
    ::snncc::host::setTensorValue(*this, t, &val, ::snncc::host::traitsOf<T>(), 1, true);
  }
  /// Set a variable's initial value, one value per element.
  template <typename T> void setInitialValue(const Tensor &t, ArrayRef<T> val) {
    ::snncc::host::setTensorValue(*this, t, val.data(), ::snncc::host::traitsOf<T>(), val.size(), false);
  }
  /// Set every element of a HALF variable's initial value.
  /// \param t The variable.  \param val The value's IEEE binary16 bits.
  void setInitialValueHalf(const Tensor &t, uint16_t val) {
    const IeeeHalf h = IeeeHalf::fromBits(val);
    ::snncc::host::setTensorValue(*this, t, &h, ::snncc::host::traitsOf<IeeeHalf>(), 1, true);
  }
  /// Set a HALF variable's initial value, one IEEE binary16 bit pattern per element.
  void setInitialValueHalf(const Tensor &t, ArrayRef<uint16_t> val) {
    std::vector<IeeeHalf> h(val.size());
    for (std::size_t i = 0; i < h.size(); ++i)
      h[i] = IeeeHalf::fromBits(val[i]);
    ::snncc::host::setTensorValue(*this, t, h.data(), ::snncc::host::traitsOf<IeeeHalf>(), h.size(), false);
  }

  /// \param handle Stream name.  \param elementType Type.
  /// \param numElements Elements per transfer.  \param replicatedMode Ignored.
  /// \param options Ignored.
  DataStream addHostToDeviceFIFO(std::string handle, const Type &elementType,
                                 std::size_t numElements,
                                 ReplicatedStreamMode replicatedMode = ReplicatedStreamMode::REPLICATE,
                                 const OptionFlags &options = {});
  /// \param handle Stream name.  \param elementType Type.
  /// \param numElements Elements per transfer.  \param options Ignored.
  DataStream addDeviceToHostFIFO(std::string handle, const Type &elementType,
                                 std::size_t numElements,
                                 const OptionFlags &options = {});
  /// Let Engine::writeTensor(handle, ...) write t.
  /// \param handle Name.  \param t Tensor.  \param rearrangeOnHost Ignored.
  void createHostWrite(std::string handle, const Tensor &t, bool rearrangeOnHost = false);
  /// Let Engine::readTensor(handle, ...) read t.
  /// \param handle Name.  \param t Tensor.  \param rearrangeOnHost Ignored.
  void createHostRead(std::string handle, const Tensor &t, bool rearrangeOnHost = false);

private:
  friend struct ::snncc::host::GraphAccess;
  std::unique_ptr<::snncc::host::GraphState> state_;
};

} // namespace poplar

#endif // poplar_Graph_hpp
