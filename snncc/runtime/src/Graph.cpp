// Copyright (c) 2024 snncc authors. SPDX-License-Identifier: Apache-2.0
// Graph construction: variables, tile mappings, vertices, fields, streams
// (codelet files: codelets.cpp).
#include <algorithm>

#include <poplar/Graph.hpp>

#include "internal.hpp"

namespace snncc {
namespace host {
namespace {

VertexNode &vertexOf(GraphState &g, unsigned id) {
  if (id >= g.vertices.size())
    throw poplar::graph_connection_error("Invalid vertex reference " + std::to_string(id));
  return g.vertices[id];
}

std::size_t fieldIndex(const VertexNode &v, const std::string &name) {
  for (std::size_t i = 0; i < v.info->fields.size(); ++i)
    if (name == v.info->fields[i].name)
      return i;
  throw poplar::unknown_field(name, v.info->name);
}

std::string where(const VertexNode &v, const FieldInfo &f) {
  return std::string(v.info->name) + "." + f.name;
}

void checkType(const VertexNode &v, const FieldInfo &f, const poplar::Tensor &t) {
  if (!t.valid())
    throw poplar::graph_connection_error("Field " + where(v, f) +
                                         " connected to an invalid tensor");
  if (info(t.elementType()) != f.type)
    throw poplar::graph_connection_error(
        "Field " + where(v, f) + " has element type " + typeName(f.type) +
        " but the tensor has type " + t.elementType().toString());
}

void setTiles(GraphState &g, const poplar::Tensor &t, unsigned tile) {
  if (tile >= g.target.getNumTiles())
    throw poplar::invalid_tile_mapping("Tile " + std::to_string(tile) +
                                       " out of range: the target has " +
                                       std::to_string(g.target.getNumTiles()) + " tiles");
  for (const Region &r : TensorAccess::regions(t))
    std::fill(g.vars[r.var].tile.begin() + std::ptrdiff_t(r.begin),
              g.vars[r.var].tile.begin() + std::ptrdiff_t(r.end), tile);
}

poplar::Tensor newVariable(GraphState &g, const poplar::Type &type,
                           poplar::ArrayRef<std::size_t> shape, std::string name,
                           bool constant) {
  info(type); // rejects an invalid type
  std::size_t n = 1;
  for (auto d : shape)
    n *= d;
  const unsigned id = unsigned(g.vars.size());
  Variable v;
  v.type = type;
  v.n = n;
  v.name = name.empty() ? "var" + std::to_string(id) : std::move(name);
  v.constant = constant;
  v.tile.assign(n, kUnmapped);
  g.vars.push_back(std::move(v));
  std::vector<Region> regions;
  if (n)
    regions.push_back(Region{id, 0, n});
  return TensorAccess::make(shape.cloneAsVector(), type, std::move(regions));
}

} // namespace

void setFieldValue(poplar::Graph &graph, const poplar::FieldRef &field,
                   const void *data, const poplar::TypeTraits &traits,
                   std::size_t n, bool isVector) {
  GraphState &g = GraphAccess::state(graph);
  VertexNode &v = vertexOf(g, GraphAccess::vertex(field));
  const std::size_t fi = fieldIndex(v, GraphAccess::fieldName(field));
  const FieldInfo &f = v.info->fields[fi];
  FieldState &s = v.fields[fi];
  const bool ok = isVector ? f.kind == FieldKind::StateVector
                           : f.kind == FieldKind::StateScalar;
  if (!ok || field.isIndexed())
    throw poplar::graph_connection_error(
        "setInitialValue: field " + where(v, f) + " is " +
        (f.kind == FieldKind::StateScalar   ? "a scalar state field (pass one value)"
         : f.kind == FieldKind::StateVector ? "a vector state field (pass an array)"
                                            : "an edge (use connect)"));
  s.value.assign(n * f.type->size, 0);
  convertValues(data, traits, n, s.value.data(), f.type, n, false,
                "setInitialValue(" + where(v, f) + ")");
  if (isVector) {
    if (s.sized && s.size != n)
      throw poplar::graph_connection_error(
          "setInitialValue: field " + where(v, f) + " has size " +
          std::to_string(s.size) + " but " + std::to_string(n) + " values were given");
    s.size = n;
    s.sized = true;
  }
  s.connected = true;
}

void setTensorValue(poplar::Graph &graph, const poplar::Tensor &t, const void *data,
                    const poplar::TypeTraits &traits, std::size_t n, bool broadcast) {
  GraphState &g = GraphAccess::state(graph);
  const TypeInfo *ti = info(t.elementType());
  std::vector<unsigned char> bytes(t.numElements() * ti->size);
  convertValues(data, traits, n, bytes.data(), ti, t.numElements(), broadcast,
                "setInitialValue(tensor)");
  std::size_t k = 0;
  for (const Region &r : TensorAccess::regions(t)) {
    Variable &var = g.vars[r.var];
    if (var.init.empty())
      var.init.assign(var.n * ti->size, 0);
    const std::size_t len = (r.end - r.begin) * ti->size;
    std::copy(bytes.begin() + std::ptrdiff_t(k), bytes.begin() + std::ptrdiff_t(k + len),
              var.init.begin() + std::ptrdiff_t(r.begin * ti->size));
    k += len;
  }
}

void checkValueCount(std::size_t n, poplar::ArrayRef<std::size_t> shape) {
  std::size_t e = 1;
  for (auto d : shape)
    e *= d;
  if (n != e)
    throw poplar::graph_object_creation_error(
        "addConstant: " + std::to_string(n) + " values given for " +
        std::to_string(e) + " elements");
}

} // namespace host
} // namespace snncc

namespace poplar {
using namespace snncc::host;

replication_factor::replication_factor(unsigned factor) : value(factor) {}

Graph::ConnectionDesc::ConnectionDesc(std::string field, Tensor t)
    : field_(std::move(field)), tensors_{std::move(t)}, list_(false) {}
Graph::ConnectionDesc::ConnectionDesc(std::string field, ArrayRef<Tensor> tns)
    : field_(std::move(field)), tensors_(tns.cloneAsVector()), list_(true) {}

Graph::Graph(const Target &target, replication_factor r)
    : state_(std::make_unique<GraphState>()) {
  if (r.value == 0)
    throw poplar_error("replication_factor must be at least 1");
  state_->target = target;
  state_->replicas = r.value;
}
Graph::Graph(const Device &device, replication_factor r)
    : Graph(device.getTarget(), r) {}
Graph::Graph(Graph &&other) noexcept = default;
Graph &Graph::operator=(Graph &&other) noexcept = default;
Graph::~Graph() = default;

const Target &Graph::getTarget() const { return state_->target; }
unsigned Graph::getReplicationFactor() const { return state_->replicas; }

Tensor Graph::addVariable(const Type &type, ArrayRef<std::size_t> shape,
                          const DebugContext &debugContext) {
  return newVariable(*state_, type, shape, debugContext.getPathName(), false);
}

Tensor Graph::addVariable(const Type &type, ArrayRef<std::size_t> shape,
                          VariableMappingMethod mappingMethod,
                          const DebugContext &debugContext) {
  Tensor t = addVariable(type, shape, debugContext);
  if (mappingMethod == VariableMappingMethod::LINEAR && t.numElements()) {
    // Even contiguous chunks over all tiles, like Poplar's LINEAR mapping.
    const std::size_t n = t.numElements(), tiles = getTarget().getNumTiles();
    const std::size_t grain = (n + tiles - 1) / tiles;
    Tensor f = t.flatten();
    for (std::size_t b = 0, tile = 0; b < n; b += grain, ++tile)
      setTileMapping(f.slice(b, std::min(n, b + grain)), unsigned(tile));
  }
  return t;
}

Tensor Graph::addConstant(const Type &type, ArrayRef<std::size_t> shape,
                          const void *val, const TypeTraits &traits, bool broadcast,
                          const DebugContext &debugContext) {
  Tensor t = newVariable(*state_, type, shape, debugContext.getPathName(), true);
  Variable &v = state_->vars.back();
  v.init.assign(v.n * info(type)->size, 0);
  convertValues(val, traits, broadcast ? 1 : v.n, v.init.data(), info(type), v.n,
                broadcast, "addConstant(" + v.name + ")");
  return t;
}

void Graph::setTileMapping(const Tensor &t, unsigned tileNum) {
  setTiles(*state_, t, tileNum);
}

void Graph::setTileMapping(VertexRef v, unsigned tileNum) {
  VertexNode &n = vertexOf(*state_, GraphAccess::id(v));
  if (tileNum >= getTarget().getNumTiles())
    throw invalid_tile_mapping("Vertex " + n.info->name + ": tile " +
                               std::to_string(tileNum) + " out of range (" +
                               std::to_string(getTarget().getNumTiles()) + " tiles)");
  n.tile = tileNum;
}

void Graph::setTileMapping(const Tensor &t, const TileToTensorMapping &mapping) {
  Tensor f = t.flatten();
  for (std::size_t tile = 0; tile < mapping.size(); ++tile)
    for (const Interval &i : mapping[tile])
      setTiles(*state_, f.slice(i.begin(), i.end()), unsigned(tile));
}

Graph::TileToTensorMapping Graph::getTileMapping(const Tensor &t, bool *isComplete) const {
  TileToTensorMapping m(getTarget().getNumTiles());
  bool complete = true;
  std::size_t k = 0;
  for (const Region &r : TensorAccess::regions(t))
    for (std::size_t i = r.begin; i < r.end; ++i, ++k) {
      const unsigned tile = state_->vars[r.var].tile[i];
      if (tile == kUnmapped) {
        complete = false;
        continue;
      }
      auto &iv = m[tile];
      if (!iv.empty() && iv.back().end() == k)
        iv.back() = Interval(iv.back().begin(), k + 1);
      else
        iv.emplace_back(k, k + 1);
    }
  if (isComplete)
    *isComplete = complete;
  return m;
}

Graph::TileToTensorMapping Graph::getTileMapping(const Tensor &t, bool requireComplete) const {
  bool complete = true;
  auto m = getTileMapping(t, &complete);
  if (requireComplete && !complete)
    throw invalid_tile_mapping("getTileMapping: some elements of the tensor have no tile mapping");
  return m;
}

ComputeSet Graph::addComputeSet(const DebugContext &debugContext) {
  const unsigned id = unsigned(state_->computeSets.size());
  std::string name = debugContext.getPathName();
  state_->computeSets.push_back(ComputeSetNode{name.empty() ? "cs" + std::to_string(id) : name, {}});
  return ComputeSet(id);
}

VertexRef Graph::addVertex(ComputeSet cs, std::string vertexType) {
  if (cs.getId() >= state_->computeSets.size())
    throw graph_object_creation_error("addVertex(" + vertexType + "): invalid compute set");
  const VertexInfo *vi = findVertex(vertexType);
  if (!vi)
    throw unknown_vertex_type(vertexType);
  if (!state_->codeletFiles.count(vi->file))
    throw unknown_vertex_type(vertexType + "' (its codelet file '" + vi->file +
                              "' was not added with addCodelets");
  VertexNode n;
  n.info = vi;
  n.cs = cs.getId();
  n.fields.resize(vi->fields.size());
  const unsigned id = unsigned(state_->vertices.size());
  state_->vertices.push_back(std::move(n));
  state_->computeSets[cs.getId()].vertices.push_back(id);
  return GraphAccess::vertex(id);
}

VertexRef Graph::addVertex(ComputeSet cs, std::string vertexType,
                           ArrayRef<ConnectionDesc> connections) {
  VertexRef v = addVertex(cs, vertexType);
  for (const ConnectionDesc &c : connections) {
    if (c.list_)
      connect(v[c.field_], ArrayRef<Tensor>(c.tensors_));
    else
      connect(v[c.field_], c.tensors_[0]);
  }
  return v;
}

void Graph::connect(FieldRef field, const Tensor &tensor) {
  VertexNode &v = vertexOf(*state_, GraphAccess::vertex(field));
  const std::size_t fi = fieldIndex(v, GraphAccess::fieldName(field));
  const FieldInfo &f = v.info->fields[fi];
  FieldState &s = v.fields[fi];
  if (f.kind == FieldKind::StateScalar || f.kind == FieldKind::StateVector)
    throw graph_connection_error("Field " + where(v, f) +
                                 " is vertex state: set it with setInitialValue");
  checkType(v, f, tensor);
  if (field.isIndexed()) {
    if (f.kind != FieldKind::Edge2D)
      throw graph_connection_error("Field " + where(v, f) + " is not 2-D and cannot be indexed");
    if (!s.sized)
      throw no_size_specified(f.name, v.info->name);
    if (field.getIndex() >= s.size)
      throw index_error(where(v, f), field.getIndex());
    s.tensors[field.getIndex()] = tensor;
    s.entrySet[field.getIndex()] = true;
    s.connected = std::all_of(s.entrySet.begin(), s.entrySet.end(), [](bool b) { return b; });
    return;
  }
  if (f.kind == FieldKind::Edge2D)
    throw graph_connection_error("Field " + where(v, f) +
                                 " is 2-D: connect a list of tensors, or v[\"" + f.name +
                                 "\"][i] after setFieldSize");
  if (s.connected)
    throw graph_connection_error("Field " + where(v, f) + " is already connected");
  if (f.kind == FieldKind::EdgeScalar && tensor.numElements() != 1)
    throw graph_connection_error("Field " + where(v, f) +
                                 " is a scalar edge but the tensor has " +
                                 std::to_string(tensor.numElements()) + " elements");
  s.tensors = {tensor};
  s.connected = true;
}

void Graph::connect(FieldRef field, ArrayRef<Tensor> tensors) {
  VertexNode &v = vertexOf(*state_, GraphAccess::vertex(field));
  const std::size_t fi = fieldIndex(v, GraphAccess::fieldName(field));
  const FieldInfo &f = v.info->fields[fi];
  if (f.kind != FieldKind::Edge2D || field.isIndexed())
    throw graph_connection_error("Field " + where(v, f) +
                                 " is not a 2-D edge: connect one tensor");
  for (const Tensor &t : tensors)
    checkType(v, f, t);
  FieldState &s = v.fields[fi];
  s.tensors = tensors.cloneAsVector();
  s.size = tensors.size();
  s.sized = true;
  s.entrySet.assign(s.size, true);
  s.connected = true;
}

void Graph::setFieldSize(FieldRef field, std::size_t size) {
  VertexNode &v = vertexOf(*state_, GraphAccess::vertex(field));
  const std::size_t fi = fieldIndex(v, GraphAccess::fieldName(field));
  const FieldInfo &f = v.info->fields[fi];
  if (f.kind != FieldKind::Edge2D && f.kind != FieldKind::StateVector)
    throw graph_connection_error("setFieldSize: field " + where(v, f) + " has no size to set");
  FieldState &s = v.fields[fi];
  s.size = size;
  s.sized = true;
  if (f.kind == FieldKind::Edge2D) {
    s.tensors.assign(size, Tensor());
    s.entrySet.assign(size, false);
    s.connected = size == 0;
  }
}

std::size_t Graph::getFieldSize(FieldRef field) const {
  VertexNode &v = vertexOf(*state_, GraphAccess::vertex(field));
  const std::size_t fi = fieldIndex(v, GraphAccess::fieldName(field));
  const FieldState &s = v.fields[fi];
  if (v.info->fields[fi].kind == FieldKind::EdgeVector && s.connected)
    return s.tensors[0].numElements();
  if (!s.sized)
    throw no_size_specified(v.info->fields[fi].name, v.info->name);
  return s.size;
}

void Graph::setCycleEstimate(const VertexRef &v, std::uint64_t) {
  vertexOf(*state_, GraphAccess::id(v));
}

unsigned Graph::getNumVertices() const { return unsigned(state_->vertices.size()); }

DataStream Graph::addHostToDeviceFIFO(std::string handle, const Type &elementType,
                                      std::size_t numElements, ReplicatedStreamMode,
                                      const OptionFlags &) {
  if (state_->streams.count(handle))
    throw graph_object_creation_error("A stream with handle '" + handle + "' already exists");
  info(elementType);
  DataStream s = GraphAccess::stream(handle, elementType, numElements,
                                     DataStreamType::HostToDeviceFIFO);
  state_->streams.emplace(handle, s);
  return s;
}

DataStream Graph::addDeviceToHostFIFO(std::string handle, const Type &elementType,
                                      std::size_t numElements, const OptionFlags &) {
  if (state_->streams.count(handle))
    throw graph_object_creation_error("A stream with handle '" + handle + "' already exists");
  info(elementType);
  DataStream s = GraphAccess::stream(handle, elementType, numElements,
                                     DataStreamType::DeviceToHostFIFO);
  state_->streams.emplace(handle, s);
  return s;
}

void Graph::createHostWrite(std::string handle, const Tensor &t, bool) {
  if (!state_->hostWrites.emplace(handle, t).second)
    throw graph_object_creation_error("createHostWrite: handle '" + handle + "' already used");
}

void Graph::createHostRead(std::string handle, const Tensor &t, bool) {
  if (!state_->hostReads.emplace(handle, t).second)
    throw graph_object_creation_error("createHostRead: handle '" + handle + "' already used");
}

} // namespace poplar
