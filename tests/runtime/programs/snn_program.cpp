// A small spiking layer trained-step-like program, written as generated
// code would be: real Poplar host API only.
//
//   snn_program IN OUT CODELETS_DIR
// IN:  uint32 numIn, numOut, tiles, steps, capacity; float decay, threshold;
//      float w[numIn][numOut]; uint32 ids[steps][capacity]; uint32 counts[steps]
// OUT: float spikes[steps][numOut]; float v[numOut]; uint32 outIds[steps][numOut];
//      uint32 outCounts[steps][tiles]
// Tile t holds output neurons [t*per, (t+1)*per) and their weight columns;
// the input spike list lives on tile 0 and reaches the others by exchange.
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <vector>

#include <poplar/DeviceManager.hpp>
#include <poplar/Engine.hpp>
#include <poplar/Graph.hpp>
#include <poplar/IPUModel.hpp>
#include <poplar/Program.hpp>

using namespace poplar;
using namespace poplar::program;

template <typename T> std::vector<T> readVec(std::ifstream &in, std::size_t n) {
  std::vector<T> v(n);
  in.read(reinterpret_cast<char *>(v.data()), std::streamsize(n * sizeof(T)));
  return v;
}

int main(int argc, char **argv) {
  if (argc != 4) {
    std::cerr << "usage: snn_program IN OUT CODELETS_DIR\n";
    return 2;
  }
  std::ifstream in(argv[1], std::ios::binary);
  auto hdr = readVec<std::uint32_t>(in, 5);
  const unsigned numIn = hdr[0], numOut = hdr[1], tiles = hdr[2], steps = hdr[3], cap = hdr[4];
  auto params = readVec<float>(in, 2);
  auto w = readVec<float>(in, std::size_t(numIn) * numOut);
  auto ids = readVec<std::uint32_t>(in, std::size_t(steps) * cap);
  auto counts = readVec<std::uint32_t>(in, steps);
  if (!in || numOut % tiles) {
    std::cerr << "bad input\n";
    return 2;
  }
  const unsigned per = numOut / tiles;

  // No IPU on the host runtime: fall back to an IPUModel as generated code does.
  auto dm = DeviceManager::createDeviceManager();
  Device device;
  if (dm.getNumDevices() > 0) {
    device = dm.getDevice(0);
  } else {
    IPUModel model("ipu2");
    model.numIPUs = 1;
    model.tilesPerIPU = tiles;
    device = model.createDevice();
  }
  device.attach();
  const Target &target = device.getTarget();
  Graph graph(target);
  graph.addCodelets(std::string(argv[3]) + "/snn_test.cpp");

  Tensor inIds = graph.addVariable(UNSIGNED_INT, {cap}, "inIds");
  Tensor inCount = graph.addVariable(UNSIGNED_INT, {1}, "inCount");
  graph.setTileMapping(inIds, 0);
  graph.setTileMapping(inCount, 0);
  Tensor weights = graph.addVariable(FLOAT, {tiles, numIn, per}, "weights");
  Tensor x = graph.addVariable(FLOAT, {numOut}, "x");
  Tensor v = graph.addVariable(FLOAT, {numOut}, "v");
  Tensor spikes = graph.addVariable(FLOAT, {numOut}, "spikes");
  Tensor outIds = graph.addVariable(UNSIGNED_INT, {numOut}, "outIds");
  Tensor outCounts = graph.addVariable(UNSIGNED_INT, {tiles}, "outCounts");
  Tensor zero = graph.addConstant<float>(FLOAT, {1}, 0.0f, "zero");
  graph.setTileMapping(zero, 0);

  ComputeSet syn = graph.addComputeSet("synapses");
  ComputeSet lif = graph.addComputeSet("neurons");
  ComputeSet collect = graph.addComputeSet("collect");
  for (unsigned t = 0; t < tiles; ++t) {
    const auto lo = t * per, hi = (t + 1) * per;
    graph.setTileMapping(weights[t], t);
    for (Tensor s : {x, v, spikes, outIds})
      graph.setTileMapping(s.slice(lo, hi), t);
    graph.setTileMapping(outCounts[t], t);

    VertexRef s = graph.addVertex(syn, "snncc_test::SparseRowSum<float>",
                                  {{"ids", inIds}, {"count", inCount[0]},
                                   {"weights", weights[t].flatten()},
                                   {"out", x.slice(lo, hi)}});
    graph.setInitialValue(s["numOut"], per);
    graph.setTileMapping(s, t);

    VertexRef n = graph.addVertex(lif, "snncc_test::LeakyIntegrate<float>");
    graph.connect(n["v"], v.slice(lo, hi));
    graph.connect(n["x"], x.slice(lo, hi));
    graph.connect(n["spikes"], spikes.slice(lo, hi));
    graph.setInitialValue(n["decay"], params[0]);
    graph.setInitialValue(n["threshold"], params[1]);
    graph.setTileMapping(n, t);

    VertexRef c = graph.addVertex(collect, "snncc_test::CollectSpikes",
                                  {{"spikes", spikes.slice(lo, hi)},
                                   {"ids", outIds.slice(lo, hi)},
                                   {"count", outCounts[t]}});
    graph.setInitialValue(c["offset"], lo);
    graph.setTileMapping(c, t);
  }

  DataStream idsIn = graph.addHostToDeviceFIFO("ids", UNSIGNED_INT, cap);
  DataStream countIn = graph.addHostToDeviceFIFO("count", UNSIGNED_INT, 1);
  DataStream spikesOut = graph.addDeviceToHostFIFO("spikes", FLOAT, numOut);
  DataStream idsOut = graph.addDeviceToHostFIFO("outIds", UNSIGNED_INT, numOut);
  DataStream countsOut = graph.addDeviceToHostFIFO("outCounts", UNSIGNED_INT, tiles);
  graph.createHostWrite("weights", weights);
  graph.createHostRead("v", v);

  Sequence step{Copy(idsIn, inIds), Copy(countIn, inCount), Execute(syn), Execute(lif),
                Execute(collect)};
  step.add(Copy(spikes, spikesOut));
  step.add(Copy(outIds, idsOut));
  step.add(Copy(outCounts, countsOut));
  Sequence init;
  // v starts at zero: copy the constant into every element.
  for (unsigned i = 0; i < numOut; ++i)
    init.add(Copy(zero, v.slice(i, i + 1)));
  Sequence main{init, Repeat(steps, step), Sync(SyncType::INTERNAL)};

  // Weights arrive with their tile layout: [tile][numIn][per].
  std::vector<float> wTiled(w.size());
  for (unsigned t = 0; t < tiles; ++t)
    for (unsigned r = 0; r < numIn; ++r)
      for (unsigned j = 0; j < per; ++j)
        wTiled[(std::size_t(t) * numIn + r) * per + j] = w[std::size_t(r) * numOut + t * per + j];

  Engine engine(graph, main);
  engine.load(device);
  engine.writeTensor("weights", wTiled.data(), wTiled.data() + wTiled.size());
  std::vector<float> spikesHost(std::size_t(steps) * numOut);
  std::vector<std::uint32_t> idsHost(std::size_t(steps) * numOut), countsHost(std::size_t(steps) * tiles);
  engine.connectStream("ids", ids.data(), ids.data() + ids.size());
  engine.connectStream(countIn, counts.data(), counts.data() + counts.size());
  engine.connectStream(spikesOut, spikesHost.data(), spikesHost.data() + spikesHost.size());
  engine.connectStream("outIds", idsHost.data(), idsHost.data() + idsHost.size());
  engine.connectStream("outCounts", countsHost.data(), countsHost.data() + countsHost.size());
  engine.run(0);
  std::vector<float> vHost(numOut);
  engine.readTensor("v", vHost.data(), vHost.data() + vHost.size());

  std::ofstream out(argv[2], std::ios::binary);
  out.write(reinterpret_cast<const char *>(spikesHost.data()), std::streamsize(spikesHost.size() * 4));
  out.write(reinterpret_cast<const char *>(vHost.data()), std::streamsize(vHost.size() * 4));
  out.write(reinterpret_cast<const char *>(idsHost.data()), std::streamsize(idsHost.size() * 4));
  out.write(reinterpret_cast<const char *>(countsHost.data()), std::streamsize(countsHost.size() * 4));
  return out ? 0 : 1;
}
