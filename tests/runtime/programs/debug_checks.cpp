// Receive buffers in the memory check and report, and output poisoning:
// debug_checks CASE CODELETS_DIR [OPTION]. Prints one result line (see
// tests/runtime/test_receive_and_poison.py).
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <poplar/Engine.hpp>
#include <poplar/Graph.hpp>
#include <poplar/IPUModel.hpp>
#include <snncc/runtime_report.hpp>

using namespace poplar;
using namespace poplar::program;

static std::string dir;

static Device makeDevice(unsigned bytesPerTile) {
  IPUModel m;
  m.tilesPerIPU = 4;
  m.memoryBytesPerTile = bytesPerTile;
  return m.createDevice();
}

static Tensor var(Graph &g, Type type, std::size_t n, const char *name, unsigned tile) {
  Tensor t = g.addVariable(type, {n}, name);
  g.setTileMapping(t, tile);
  return t;
}

static VertexRef sumIn(Graph &g, ComputeSet cs, Tensor in, Tensor out, unsigned tile) {
  VertexRef v = g.addVertex(cs, "snncc_test::SumIn", {{"in", in}, {"out", out}});
  g.setTileMapping(v, tile);
  return v;
}

// Tile 0: "big" connects 1000 floats of tile 1 and 10 of its own (4000
// bytes received), "small" 200 floats of tile 2 (800). Tile 1: "small"
// connects 50 floats of tile 0 and an output on tile 3 (204). Prints
// memoryReport(graph) as JSON, then runs both; the engine's report goes
// to SNNCC_RUNTIME_REPORT.
static int receiveReport() {
  Device device = makeDevice(624 * 1024);
  Graph g(device.getTarget());
  g.addCodelets(dir + "/debug_test.cpp");
  Tensor a = var(g, FLOAT, 1000, "a", 1), b = var(g, FLOAT, 10, "b", 0);
  Tensor c = var(g, FLOAT, 200, "c", 2), d = var(g, FLOAT, 50, "d", 0);
  Tensor o0 = var(g, FLOAT, 1, "o0", 0), o1 = var(g, FLOAT, 1, "o1", 0);
  Tensor o2 = var(g, FLOAT, 1, "o2", 3);
  ComputeSet big = g.addComputeSet("big"), small = g.addComputeSet("small");
  sumIn(g, big, concat(a, b), o0[0], 0);
  sumIn(g, small, c, o1[0], 0);
  sumIn(g, small, d, o2[0], 1);
  std::printf("%s\n", snncc::runtime::memoryReport(g).toJSON().c_str());
  Engine e(g, Sequence{Execute(big), Execute(small)});
  e.load(device);
  e.run(0);
  return 0;
}

// A vertex on tile 0 sums x (6000 floats, 24000 bytes); y (10000 bytes) is
// on the other tile. The limit is 30000 bytes per tile: with x on tile 0
// (local) tile 0 holds 24016 bytes and runs; with x on tile 1 (remote) tile 0
// needs y + a 24000-byte receive buffer + 16 and is refused.
static int remoteRead(bool remote, const OptionFlags &opts) {
  Device device = makeDevice(30000);
  Graph g(device.getTarget());
  g.addCodelets(dir + "/debug_test.cpp");
  Tensor x = var(g, FLOAT, 6000, "x", remote ? 1 : 0);
  var(g, FLOAT, 2500, "y", remote ? 0 : 1);
  Tensor out = var(g, FLOAT, 1, "out", 0);
  g.setInitialValue(x, ArrayRef<float>(std::vector<float>(6000, 0.5f)));
  ComputeSet cs = g.addComputeSet("sum");
  sumIn(g, cs, x, out[0], 0);
  g.createHostRead("out", out);
  try {
    Engine e(g, Execute(cs), opts);
    e.load(device);
    e.run(0);
    float s = 0;
    e.readTensor("out", &s, &s + 1);
    std::printf("accepted sum=%g\n", double(s));
  } catch (const graph_memory_allocation_error &e) {
    std::printf("caught graph_memory_allocation_error: %s\n", e.what());
  } catch (const invalid_option &e) {
    std::printf("caught invalid_option: %s\n", e.what());
  }
  return 0;
}

// Output poisoning: each tensor starts at 1, 2, 3, ... and one execution of
// one compute set runs a vertex per tensor. Prints each tensor's elements as
// hex bits (floats and unsigned 32-bit, half 16-bit).
static int poison(const OptionFlags &opts) {
  Device device = makeDevice(624 * 1024);
  Graph g(device.getTarget());
  g.addCodelets(dir + "/debug_test.cpp");
  ComputeSet cs = g.addComputeSet("cs");
  struct Case {
    const char *name;
    Type type;
    std::size_t n;
  };
  const std::vector<Case> cases = {{"addf", FLOAT, 4}, {"addh", HALF, 4}, {"addu", UNSIGNED_INT, 4},
                                   {"inout", FLOAT, 4}, {"first", FLOAT, 4}, {"staged", FLOAT, 6}};
  std::map<std::string, Tensor> t;
  for (const Case &c : cases) {
    t[c.name] = var(g, c.type, c.n, c.name, 0);
    std::vector<float> init;
    for (std::size_t i = 0; i < c.n; ++i)
      init.push_back(float(i + 1));
    if (c.type == UNSIGNED_INT)
      g.setInitialValue(t[c.name], ArrayRef<unsigned>(std::vector<unsigned>{1, 2, 3, 4}));
    else
      g.setInitialValue(t[c.name], ArrayRef<float>(init));
    g.createHostRead(c.name, t[c.name]);
  }
  auto add = [&](const char *type, const char *field, Tensor x) {
    g.setTileMapping(g.addVertex(cs, type, {{field, x}}), 0);
  };
  add("snncc_test::AddOneToOutput<float>", "out", t["addf"]);
  add("snncc_test::AddOneToOutput<half>", "out", t["addh"]);
  add("snncc_test::AddOneToOutput<unsigned int>", "out", t["addu"]);
  add("snncc_test::AddOneInOut", "x", t["inout"]);
  add("snncc_test::WriteFirst", "out", t["first"]);
  // A split edge: elements 0, 1, 4, 5 through a staging buffer.
  add("snncc_test::WriteFirst", "out", concat(t["staged"].slice(0, 2), t["staged"].slice(4, 6)));
  try {
    Engine e(g, Execute(cs), opts);
    e.load(device);
    e.run(0);
    for (const Case &c : cases) {
      std::vector<unsigned char> bytes(c.n * (c.type == HALF ? 2 : 4));
      e.readTensor(c.name, bytes.data(), bytes.data() + bytes.size());
      std::printf("%s", c.name);
      for (std::size_t i = 0; i < c.n; ++i) {
        std::uint32_t v = 0;
        std::memcpy(&v, bytes.data() + i * (c.type == HALF ? 2 : 4), c.type == HALF ? 2 : 4);
        std::printf(" %08x", v);
      }
      std::printf("\n");
    }
  } catch (const invalid_option &e) {
    std::printf("caught invalid_option: %s\n", e.what());
  }
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 3)
    return 2;
  dir = argv[2];
  const std::string c = argv[1];
  OptionFlags opts;
  if (argc == 5)
    opts.set(argv[3], argv[4]);
  if (c == "receive_report")
    return receiveReport();
  if (c == "remote_read" || c == "local_read")
    return remoteRead(c == "remote_read", opts);
  if (c == "poison")
    return poison(opts);
  return 2;
}
