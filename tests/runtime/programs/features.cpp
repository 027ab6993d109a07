// Exercises 2-D fields, non-contiguous edges, half, VectorList, vertex-state
// vectors, RepeatWhileTrue, If, transposed copies and LINEAR mapping.
//   features IN CODELETS_DIR  > results.txt   (one "name v0 v1 ..." per line)
// IN: float P[4][8], Xa[8], Xb[8], bias[8], H[8], HB[8], L[9], M[2][3];
//     uint32 K, pred
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <vector>

#include <poplar/Engine.hpp>
#include <poplar/Graph.hpp>
#include <poplar/IPUModel.hpp>
#include <snncc/runtime_report.hpp>

using namespace poplar;
using namespace poplar::program;

static std::vector<float> readF(std::ifstream &in, std::size_t n) {
  std::vector<float> v(n);
  in.read(reinterpret_cast<char *>(v.data()), std::streamsize(n * 4));
  return v;
}

template <typename T> static void print(const char *name, const std::vector<T> &v) {
  std::printf("%s", name);
  for (const T &x : v)
    std::printf(" %.9g", double(x));
  std::printf("\n");
}

int main(int argc, char **argv) {
  if (argc != 3)
    return 2;
  std::ifstream in(argv[1], std::ios::binary);
  auto P = readF(in, 32), Xa = readF(in, 8), Xb = readF(in, 8), bias = readF(in, 8);
  auto H = readF(in, 8), HB = readF(in, 8), L = readF(in, 9), M = readF(in, 6);
  std::uint32_t K = 0, predValue = 0;
  in.read(reinterpret_cast<char *>(&K), 4);
  in.read(reinterpret_cast<char *>(&predValue), 4);
  if (!in)
    return 2;

  IPUModel model;
  model.tilesPerIPU = 4;
  Device device = model.createDevice();
  Graph graph(device.getTarget());
  graph.addCodelets(std::string(argv[2]) + "/snn_test.cpp");

  // 1. Partials on four tiles reduced on tile 0 (2-D field, both ways).
  Tensor partials = graph.addVariable(FLOAT, {4, 8}, "partials");
  for (unsigned t = 0; t < 4; ++t)
    graph.setTileMapping(partials[t], t);
  graph.setInitialValue(partials, ArrayRef<float>(P));
  Tensor red = graph.addVariable(FLOAT, {8}, "reduced");
  Tensor red2 = graph.addVariable(FLOAT, {8}, "reduced2");
  graph.setTileMapping(red, 0);
  graph.setTileMapping(red2, 0);
  ComputeSet reduce = graph.addComputeSet("reduce");
  VertexRef r1 = graph.addVertex(reduce, "snncc_test::ReducePartials",
                                 {{"partials", {partials[0], partials[1], partials[2], partials[3]}},
                                  {"out", red}});
  graph.setTileMapping(r1, 0);
  VertexRef r2 = graph.addVertex(reduce, "snncc_test::ReducePartials");
  graph.setFieldSize(r2["partials"], 4);
  for (unsigned p = 0; p < 4; ++p)
    graph.connect(r2["partials"][p], partials[3 - p]);
  graph.connect(r2["out"], red2);
  graph.setTileMapping(r2, 0);

  // 2. A field connected to a non-contiguous tensor (two variables).
  Tensor xa = graph.addVariable(FLOAT, {8}, "xa");
  Tensor xb = graph.addVariable(FLOAT, {8}, "xb");
  Tensor b = graph.addVariable(FLOAT, {8}, "bias");
  for (Tensor t : {xa, xb, b})
    graph.setTileMapping(t, 1);
  graph.setInitialValue(xa, ArrayRef<float>(Xa));
  graph.setInitialValue(xb, ArrayRef<float>(Xb));
  graph.setInitialValue(b, ArrayRef<float>(bias));
  ComputeSet scale = graph.addComputeSet("scale");
  VertexRef s1 = graph.addVertex(scale, "snncc_test::ScaleAdd<float>",
                                 {{"x", concat(xa.slice(0, 4), xb.slice(4, 8))}, {"bias", b}});
  graph.setInitialValue(s1["scale"], 2.5f);
  graph.setTileMapping(s1, 1);

  // 3. half.
  Tensor h = graph.addVariable(HALF, {8}, "h");
  Tensor hb = graph.addVariable(HALF, {8}, "hb");
  graph.setTileMapping(h, 2);
  graph.setTileMapping(hb, 2);
  graph.setInitialValue(h, ArrayRef<float>(H));
  graph.setInitialValue(hb, ArrayRef<float>(HB));
  VertexRef s2 = graph.addVertex(scale, "snncc_test::ScaleAdd<half>", {{"x", h}, {"bias", hb}});
  graph.setInitialValue(s2["scale"], 0.75f);
  graph.setTileMapping(s2, 2);

  // 4. RepeatWhileTrue: counter K..1, body adds one per iteration.
  Tensor counter = graph.addVariable(UNSIGNED_INT, {}, "counter");
  Tensor keepGoing = graph.addVariable(BOOL, {}, "keepGoing");
  Tensor acc = graph.addVariable(FLOAT, {1}, "acc");
  Tensor one = graph.addConstant<float>(FLOAT, {1}, 1.0f, "one");
  for (Tensor t : {counter, keepGoing, acc, one})
    graph.setTileMapping(t, 3);
  graph.setInitialValue(counter, K);
  ComputeSet down = graph.addComputeSet("countdown");
  graph.setTileMapping(
      graph.addVertex(down, "snncc_test::CountDown", {{"counter", counter}, {"keepGoing", keepGoing}}), 3);
  ComputeSet inc = graph.addComputeSet("increment");
  VertexRef s3 = graph.addVertex(inc, "snncc_test::ScaleAdd<float>", {{"x", acc}, {"bias", one}});
  graph.setInitialValue(s3["scale"], 1);
  graph.setTileMapping(s3, 3);

  // 5. If on a predicate written by the host.
  Tensor pred = graph.addVariable(UNSIGNED_INT, {}, "pred");
  Tensor chosen = graph.addVariable(FLOAT, {1}, "chosen");
  Tensor c1 = graph.addConstant<float>(FLOAT, {1}, 11.0f, "c1");
  Tensor c2 = graph.addConstant<float>(FLOAT, {1}, 22.0f, "c2");
  for (Tensor t : {pred, chosen, c1, c2})
    graph.setTileMapping(t, 0);
  graph.createHostWrite("pred", pred);

  // 6. VectorList of lists of different sizes with a state vector.
  Tensor lst = graph.addVariable(FLOAT, {9}, "lists");
  Tensor sums = graph.addVariable(FLOAT, {3}, "sums");
  graph.setTileMapping(lst, 1);
  graph.setTileMapping(sums, 1);
  graph.setInitialValue(lst, ArrayRef<float>(L));
  ComputeSet lists = graph.addComputeSet("lists");
  VertexRef ls = graph.addVertex(lists, "snncc_test::ListSum",
                                 {{"lists", {lst.slice(0, 3), lst.slice(3, 4), lst.slice(4, 9)}},
                                  {"sums", sums}});
  graph.setInitialValue(ls["weights"], ArrayRef<float>({1.0f, 2.0f, 3.0f}));
  graph.setTileMapping(ls, 1);

  // 7. Transposed copy; 8. LINEAR mapping.
  Tensor m = graph.addVariable(FLOAT, {2, 3}, "m");
  Tensor mt = graph.addVariable(FLOAT, {3, 2}, "mt");
  graph.setTileMapping(m, 0);
  graph.setTileMapping(mt, 2);
  graph.setInitialValue(m, ArrayRef<float>(M));
  Tensor lin = graph.addVariable(FLOAT, {10}, VariableMappingMethod::LINEAR, "linear");

  for (auto [name, t] : {std::pair<const char *, Tensor>{"reduced", red}, {"reduced2", red2},
                         {"xa", xa}, {"xb", xb}, {"h", h}, {"acc", acc}, {"chosen", chosen},
                         {"sums", sums}, {"mt", mt}, {"counter", counter}})
    graph.createHostRead(name, t);

  Sequence prog{Execute(reduce), Execute(scale),
                RepeatWhileTrue(Execute(down), keepGoing, Execute(inc)),
                If(pred, Copy(c1, chosen), Copy(c2, chosen)), Execute(lists),
                Copy(m.transpose(), mt)};
  Engine engine(graph, prog, OptionFlags{{"debug.instrument", "false"}});
  engine.load(device);
  engine.writeTensor("pred", &predValue, &predValue + 1);
  engine.run(0);

  auto readFloats = [&](const char *name, std::size_t n) {
    std::vector<float> v(n);
    engine.readTensor(name, v.data(), v.data() + n);
    print(name, v);
  };
  readFloats("reduced", 8);
  readFloats("reduced2", 8);
  readFloats("xa", 8);
  readFloats("xb", 8);
  readFloats("acc", 1);
  readFloats("chosen", 1);
  readFloats("sums", 3);
  readFloats("mt", 6);
  std::vector<std::uint16_t> hbits(8);
  engine.readTensor("h", hbits.data(), hbits.data() + 8);
  print("h_bits", hbits);
  std::uint32_t cnt = 0;
  engine.readTensor("counter", &cnt, &cnt + 1);
  print("counter", std::vector<std::uint32_t>{cnt});
  std::vector<unsigned> linTiles;
  const auto mapping = graph.getTileMapping(lin);
  for (unsigned t = 0; t < mapping.size(); ++t)
    for (const Interval &i : mapping[t])
      linTiles.insert(linTiles.end(), {t, unsigned(i.begin()), unsigned(i.end())});
  print("linear_mapping", linTiles);
  const auto rep = snncc::runtime::report(engine);
  for (const auto &cs : rep.computeSets)
    std::printf("cs %s %llu %llu\n", cs.name.c_str(), (unsigned long long)cs.exchangeBytes,
                (unsigned long long)cs.executions);
  std::printf("copyExchangeBytes %llu\n", (unsigned long long)rep.copyExchangeBytes);
  return 0;
}
