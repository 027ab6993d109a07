// Copyright (c) 2024 snncc authors. SPDX-License-Identifier: Apache-2.0
// Model-independent host helpers of generated snncc programs (copied
// verbatim): the tensor file format (docs/codegen.md), the plan's tile
// slicing rule, and mapping/(un)tiling of flat tensors. Standard C++ and the
// public Poplar host API only.
#ifndef snncc_program_support_hpp
#define snncc_program_support_hpp

#include <cstdint>
#include <cstring>
#include <fstream>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include <poplar/Graph.hpp>

namespace snncc_support {

// ---- tensor files: "SNNCCTEN", u32 version (1), u32 count, then per tensor
// u32 name length, name (UTF-8), u32 dtype (0 float32, 1 uint32, 2 uint8),
// u32 rank, u64 dims[rank], u64 byte count, the data (row-major, little endian).
enum DType : std::uint32_t { F32 = 0, U32 = 1, U8 = 2 };

struct HostTensor {
  std::string name;
  DType dtype = F32;
  std::vector<std::uint64_t> dims;
  std::vector<unsigned char> data;

  std::size_t elements() const {
    std::size_t n = 1;
    for (auto d : dims)
      n *= std::size_t(d);
    return n;
  }
  /// The elements in place, without a copy (the buffer is operator new's: aligned for any scalar).
  template <typename T> const T *view() const { return reinterpret_cast<const T *>(data.data()); }
  template <typename T> std::vector<T> values() const {
    std::vector<T> v(data.size() / sizeof(T));
    std::memcpy(v.data(), data.data(), v.size() * sizeof(T));
    return v;
  }
};

template <typename T>
HostTensor makeTensor(std::string name, DType dtype, std::vector<std::uint64_t> dims,
                      const std::vector<T> &values) {
  HostTensor t{std::move(name), dtype, std::move(dims), {}};
  if (t.elements() != values.size())
    throw std::runtime_error("tensor '" + t.name + "': shape does not match its values");
  t.data.resize(values.size() * sizeof(T));
  std::memcpy(t.data.data(), values.data(), t.data.size());
  return t;
}

template <typename T> void readRaw(std::ifstream &in, T &v, const std::string &path) {
  if (!in.read(reinterpret_cast<char *>(&v), sizeof(T)))
    throw std::runtime_error(path + ": truncated tensor file");
}

inline std::map<std::string, HostTensor> readTensorFile(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw std::runtime_error(path + ": cannot open");
  char magic[8];
  if (!in.read(magic, 8) || std::memcmp(magic, "SNNCCTEN", 8) != 0)
    throw std::runtime_error(path + ": not an snncc tensor file");
  std::uint32_t version = 0, count = 0;
  readRaw(in, version, path);
  readRaw(in, count, path);
  if (version != 1)
    throw std::runtime_error(path + ": tensor file version " + std::to_string(version) + " (expected 1)");
  std::map<std::string, HostTensor> out;
  for (std::uint32_t k = 0; k < count; ++k) {
    HostTensor t;
    std::uint32_t len = 0, dtype = 0, rank = 0;
    readRaw(in, len, path);
    t.name.resize(len);
    if (!in.read(&t.name[0], len))
      throw std::runtime_error(path + ": truncated tensor file");
    readRaw(in, dtype, path);
    readRaw(in, rank, path);
    t.dtype = DType(dtype);
    t.dims.resize(rank);
    for (auto &d : t.dims)
      readRaw(in, d, path);
    std::uint64_t bytes = 0;
    readRaw(in, bytes, path);
    t.data.resize(bytes);
    if (!in.read(reinterpret_cast<char *>(t.data.data()), std::streamsize(bytes)))
      throw std::runtime_error(path + ": truncated tensor file");
    out[t.name] = std::move(t);
  }
  return out;
}

inline void writeTensorFile(const std::string &path, const std::vector<HostTensor> &tensors) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary);
    out.write("SNNCCTEN", 8);
    const std::uint32_t version = 1, count = std::uint32_t(tensors.size());
    out.write(reinterpret_cast<const char *>(&version), 4);
    out.write(reinterpret_cast<const char *>(&count), 4);
    for (const auto &t : tensors) {
      const std::uint32_t len = std::uint32_t(t.name.size()), dtype = t.dtype,
                          rank = std::uint32_t(t.dims.size());
      const std::uint64_t bytes = t.data.size();
      out.write(reinterpret_cast<const char *>(&len), 4);
      out.write(t.name.data(), len);
      out.write(reinterpret_cast<const char *>(&dtype), 4);
      out.write(reinterpret_cast<const char *>(&rank), 4);
      for (auto d : t.dims)
        out.write(reinterpret_cast<const char *>(&d), 8);
      out.write(reinterpret_cast<const char *>(&bytes), 8);
      out.write(reinterpret_cast<const char *>(t.data.data()), std::streamsize(bytes));
    }
    if (!out)
      throw std::runtime_error(path + ": write failed");
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0)
    throw std::runtime_error(path + ": rename failed");
}

inline const HostTensor &need(const std::map<std::string, HostTensor> &m, const std::string &name,
                              DType dtype, std::size_t elements, const std::string &file) {
  auto it = m.find(name);
  if (it == m.end())
    throw std::runtime_error(file + ": tensor '" + name + "' is missing");
  if (it->second.dtype != dtype || it->second.elements() != elements)
    throw std::runtime_error(file + ": tensor '" + name + "' has the wrong type or shape (expected " +
                             std::to_string(elements) + " elements)");
  return it->second;
}

// ---- the plan's tile ranges (snncc.partition.plan.SLICE_RULE)
struct Layout {
  unsigned firstTile, numTiles, q, r, listTiles, listOffset, samplesPerList;

  unsigned lo(unsigned j) const { return j * q + (j < r ? j : r); }
  unsigned hi(unsigned j) const { return lo(j + 1); }
  unsigned tile(unsigned j) const { return firstTile + j; }
  unsigned listTile(unsigned j) const { return firstTile + (listOffset + j) % numTiles; }
  unsigned listBegin(unsigned j, unsigned batch) const {
    return j * samplesPerList < batch ? j * samplesPerList : batch;
  }
  unsigned listEnd(unsigned j, unsigned batch) const { return listBegin(j + 1, batch); }
};

// Tile j of the population holds rows x [lo_j, hi_j) of a neuron-layout tensor.
inline void mapNeuron(poplar::Graph &g, const poplar::Tensor &t, const Layout &l, unsigned rows) {
  for (unsigned j = 0; j < l.numTiles; ++j)
    if (l.hi(j) > l.lo(j))
      g.setTileMapping(t.slice(std::size_t(rows) * l.lo(j), std::size_t(rows) * l.hi(j)), l.tile(j));
}

// List tile j holds its samples' `rows` values each.
inline void mapList(poplar::Graph &g, const poplar::Tensor &t, const Layout &l, unsigned rows,
                    unsigned batch) {
  for (unsigned j = 0; j < l.listTiles; ++j)
    if (l.listEnd(j, batch) > l.listBegin(j, batch))
      g.setTileMapping(t.slice(std::size_t(rows) * l.listBegin(j, batch),
                               std::size_t(rows) * l.listEnd(j, batch)),
                       l.listTile(j));
}

// Tile j of the population holds `rows` values (partial input gradients).
inline void mapPartials(poplar::Graph &g, const poplar::Tensor &t, const Layout &l, unsigned rows) {
  for (unsigned j = 0; j < l.numTiles; ++j)
    g.setTileMapping(t.slice(std::size_t(rows) * j, std::size_t(rows) * (j + 1)), l.tile(j));
}

// A chunks tensor: `entries` values in chunks of c = ceil(entries / tiles), tile j
// holding [j c, (j + 1) c) (padded: the tensor has tiles x c values, so every tile holds
// the same bytes); chunk j's entries are [chunkBegin(j), chunkEnd(j)).
inline std::size_t chunkSize(std::size_t entries, const Layout &l) { return (entries + l.numTiles - 1) / l.numTiles; }
inline std::size_t chunkBegin(std::size_t entries, const Layout &l, unsigned j) {
  return std::min(entries, j * chunkSize(entries, l));
}
inline std::size_t chunkEnd(std::size_t entries, const Layout &l, unsigned j) { return chunkBegin(entries, l, j + 1); }

inline void mapChunks(poplar::Graph &g, const poplar::Tensor &t, const Layout &l, std::size_t entries) {
  const std::size_t c = chunkSize(entries, l);
  for (unsigned j = 0; j < l.numTiles; ++j)
    g.setTileMapping(t.slice(j * c, (j + 1) * c), l.tile(j));
}

// What a vertex reads of tensors spread over several tiles, and nothing else (an edge to
// data on another tile is a receive buffer on the vertex's tile).
// The samples [b0, b0 + nb) of every tile's [B][n_j] block of a neuron-layout tensor.
inline poplar::Tensor samplesOf(const poplar::Tensor &t, const Layout &l, unsigned batch, unsigned b0, unsigned nb) {
  std::vector<poplar::Tensor> parts;
  for (unsigned j = 0; j < l.numTiles; ++j) {
    const std::size_t base = std::size_t(batch) * l.lo(j), n = l.hi(j) - l.lo(j);
    parts.push_back(t.slice(base + b0 * n, base + (b0 + nb) * n));
  }
  return poplar::concat(parts);
}

// Chunk j of the `entries` values of every tile's block of a partials tensor.
inline poplar::Tensor chunkOf(const poplar::Tensor &t, const Layout &l, std::size_t entries, unsigned j) {
  std::vector<poplar::Tensor> parts;
  const std::size_t e0 = chunkBegin(entries, l, j), e1 = chunkEnd(entries, l, j);
  for (unsigned p = 0; p < l.numTiles; ++p)
    parts.push_back(t.slice(p * entries + e0, p * entries + e1));
  return poplar::concat(parts);
}

// The columns [lo, hi) of each of the `rows` rows of width g of a [rows][g] tensor.
inline poplar::Tensor columnsOf(const poplar::Tensor &t, unsigned rows, std::size_t g, unsigned lo, unsigned hi) {
  std::vector<poplar::Tensor> parts;
  for (unsigned b = 0; b < rows; ++b)
    parts.push_back(t.slice(b * g + lo, b * g + hi));
  return poplar::concat(parts);
}

// [rows][size] host order <-> neuron block layout ([tile][rows][n_j]).
template <typename T>
std::vector<T> toTiles(const std::vector<T> &host, const Layout &l, unsigned rows, unsigned size) {
  std::vector<T> out(host.size());
  for (unsigned j = 0; j < l.numTiles; ++j) {
    const unsigned lo = l.lo(j), n = l.hi(j) - lo;
    for (unsigned row = 0; row < rows; ++row)
      for (unsigned i = 0; i < n; ++i)
        out[std::size_t(rows) * lo + std::size_t(row) * n + i] = host[std::size_t(row) * size + lo + i];
  }
  return out;
}

template <typename T>
std::vector<T> fromTiles(const std::vector<T> &tiled, const Layout &l, unsigned rows, unsigned size) {
  std::vector<T> out(tiled.size());
  for (unsigned j = 0; j < l.numTiles; ++j) {
    const unsigned lo = l.lo(j), n = l.hi(j) - lo;
    for (unsigned row = 0; row < rows; ++row)
      for (unsigned i = 0; i < n; ++i)
        out[std::size_t(row) * size + lo + i] = tiled[std::size_t(rows) * lo + std::size_t(row) * n + i];
  }
  return out;
}

// Spike-id lists [B][T][C] with counts [B][T][2] -> dense 0/1 [T][B][N] of the
// first `which` count (0: kept spikes, 1: spikes and gradient ids).
inline std::vector<float> listsToDense(const std::vector<unsigned> &ids, const std::vector<unsigned> &counts,
                                       unsigned steps, unsigned batch, unsigned size, unsigned cap,
                                       unsigned which) {
  std::vector<float> out(std::size_t(steps) * batch * size, 0.0f);
  for (unsigned b = 0; b < batch; ++b)
    for (unsigned t = 0; t < steps; ++t) {
      const std::size_t e = std::size_t(b) * steps + t;
      for (unsigned k = 0; k < counts[2 * e + which]; ++k)
        out[(std::size_t(t) * batch + b) * size + ids[e * cap + k]] = 1.0f;
    }
  return out;
}

} // namespace snncc_support

#endif // snncc_program_support_hpp
