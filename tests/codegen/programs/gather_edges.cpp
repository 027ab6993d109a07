// Copyright (c) 2024 snncc authors. SPDX-License-Identifier: Apache-2.0
// Prints which elements program_support.hpp's gathering edges (samplesOf, chunkOf,
// columnsOf) select and how mapChunks maps a "chunks" tensor, on small hand-sized
// tensors whose element k holds the value k (tests/codegen/test_host_program.py).
#include <iostream>
#include <numeric>
#include <string>
#include <vector>

#include <poplar/Engine.hpp>
#include <poplar/Graph.hpp>
#include <poplar/IPUModel.hpp>

#include "program_support.hpp"

using namespace poplar;
using namespace snncc_support;

int main() {
  IPUModel model("ipu2");
  model.tilesPerIPU = 8;
  Device device = model.createDevice();
  Graph graph(device.getTarget());
  auto indexed = [&](const std::string &name, std::size_t n) {
    Tensor t = graph.addVariable(UNSIGNED_INT, {n}, name);
    graph.setTileMapping(t, 0);
    std::vector<unsigned> v(n);
    std::iota(v.begin(), v.end(), 0u);
    graph.setInitialValue(t, ArrayRef<unsigned>(v));
    return t;
  };
  // a population of 5 neurons on 2 tiles ([0, 3), [3, 5)), batch 3: [tile][sample][neuron]
  const Layout pop{0, 2, 2, 1, 1, 0, 3};
  const Tensor code = indexed("code", 15);
  // partials [P = 3 target tiles][E = 5]; a chunks tensor of 2 samples x 5 neurons
  const Layout target{2, 3, 0, 0, 0, 0, 0};
  const Tensor partials = indexed("partials", 15), sums = indexed("sums", 10);
  std::vector<std::pair<std::string, Tensor>> edges{
      {"samples 1 2", samplesOf(code, pop, 3, 1, 2)}, {"samples 0 1", samplesOf(code, pop, 3, 0, 1)},
      {"chunk 0", chunkOf(partials, target, 5, 0)},  {"chunk 2", chunkOf(partials, target, 5, 2)},
      {"columns 1 3", columnsOf(sums, 2, 5, 1, 3)},  {"columns 3 5", columnsOf(sums, 2, 5, 3, 5)}};
  for (const auto &e : edges)
    graph.createHostRead(e.first, e.second);
  const Tensor chunks = graph.addVariable(FLOAT, {chunkSize(5, target) * 3}, "chunks");
  mapChunks(graph, chunks, target, 5);

  Engine engine(graph, std::vector<program::Program>{program::Sequence{}});
  engine.load(device);
  for (const auto &e : edges) {
    std::vector<unsigned> v(e.second.numElements());
    engine.readTensor(e.first, v.data(), v.data() + v.size());
    std::cout << e.first << ":";
    for (unsigned x : v)
      std::cout << ' ' << x;
    std::cout << '\n';
  }
  const auto mapping = graph.getTileMapping(chunks);
  std::cout << "chunks:";
  for (std::size_t tile = 0; tile < mapping.size(); ++tile)
    for (const auto &iv : mapping[tile])
      std::cout << ' ' << tile << ":[" << iv.begin() << "," << iv.end() << ")";
  std::cout << '\n';
  return 0;
}
