// Each case builds a faulty graph or program and must fail with the named
// Poplar exception: rejections CASE CODELETS_DIR. Prints "caught TYPE: what"
// and exits 0 when the expected exception is thrown, 1 otherwise.
#include <cstdio>
#include <functional>
#include <map>
#include <string>
#include <type_traits>
#include <vector>

#include <poplar/Engine.hpp>
#include <poplar/Graph.hpp>
#include <poplar/IPUModel.hpp>

using namespace poplar;
using namespace poplar::program;

static std::string dir;

template <typename E> static int expect(const char *name, const std::function<void()> &f) {
  static_assert(std::is_base_of<std::runtime_error, E>::value, "Poplar errors are runtime_errors");
  try {
    f();
  } catch (const E &e) {
    std::printf("caught %s: %s\n", name, e.what());
    return 0;
  } catch (const std::exception &e) {
    std::printf("wrong exception (wanted %s): %s\n", name, e.what());
    return 1;
  }
  std::printf("no exception (wanted %s)\n", name);
  return 1;
}

struct Fixture {
  Device device;
  Graph graph;
  explicit Fixture(unsigned bytesPerTile = 624 * 1024)
      : device([&] {
          IPUModel m;
          m.tilesPerIPU = 4;
          m.memoryBytesPerTile = bytesPerTile;
          return m.createDevice();
        }()),
        graph(device.getTarget()) {
    graph.addCodelets(dir + "/snn_test.cpp");
  }
  // One ScaleAdd vertex on `tile` over x (bias on the same tile).
  VertexRef scale(ComputeSet cs, Tensor x, unsigned tile) {
    Tensor b = graph.addVariable(FLOAT, {x.numElements()}, "b");
    graph.setTileMapping(b, tile);
    VertexRef v = graph.addVertex(cs, "snncc_test::ScaleAdd<float>", {{"x", x}, {"bias", b}});
    graph.setInitialValue(v["scale"], 1.0f);
    graph.setTileMapping(v, tile);
    return v;
  }
};

int main(int argc, char **argv) {
  if (argc != 3)
    return 2;
  dir = argv[2];
  std::map<std::string, std::function<int()>> cases;

  cases["overlapping_writes"] = [] {
    return expect<graph_cycle_error>("graph_cycle_error", [] {
      Fixture f;
      Tensor x = f.graph.addVariable(FLOAT, {8}, "x");
      f.graph.setTileMapping(x, 0);
      ComputeSet cs = f.graph.addComputeSet("cs");
      f.scale(cs, x.slice(0, 5), 0);
      f.scale(cs, x.slice(4, 8), 1); // element 4 written twice
      Engine e(f.graph, Execute(cs));
    });
  };
  cases["disjoint_writes_ok"] = [] {
    Fixture f;
    Tensor x = f.graph.addVariable(FLOAT, {8}, "x");
    f.graph.setTileMapping(x, 0);
    ComputeSet cs = f.graph.addComputeSet("cs");
    f.scale(cs, x.slice(0, 4), 0);
    f.scale(cs, x.slice(4, 8), 1);
    Engine e(f.graph, Execute(cs));
    std::printf("accepted\n");
    return 0;
  };
  cases["read_of_written"] = [] {
    return expect<graph_cycle_error>("graph_cycle_error", [] {
      Fixture f;
      Tensor x = f.graph.addVariable(FLOAT, {8}, "x");
      Tensor y = f.graph.addVariable(FLOAT, {8}, "y");
      f.graph.setTileMapping(x, 0);
      f.graph.setTileMapping(y, 1);
      ComputeSet cs = f.graph.addComputeSet("cs");
      f.scale(cs, x, 0);
      VertexRef v = f.graph.addVertex(cs, "snncc_test::ScaleAdd<float>", {{"x", y}, {"bias", x}});
      f.graph.setInitialValue(v["scale"], 1.0f);
      f.graph.setTileMapping(v, 1);
      Engine e(f.graph, Execute(cs));
    });
  };
  cases["unmapped_tensor"] = [] {
    return expect<invalid_tile_mapping>("invalid_tile_mapping", [] {
      Fixture f;
      Tensor x = f.graph.addVariable(FLOAT, {8}, "x");
      f.graph.setTileMapping(x.slice(0, 7), 0); // element 7 unmapped
      ComputeSet cs = f.graph.addComputeSet("cs");
      f.scale(cs, x, 0);
      Engine e(f.graph, Execute(cs));
    });
  };
  cases["unmapped_vertex"] = [] {
    return expect<invalid_tile_mapping>("invalid_tile_mapping", [] {
      Fixture f;
      Tensor x = f.graph.addVariable(FLOAT, {8}, "x");
      f.graph.setTileMapping(x, 0);
      ComputeSet cs = f.graph.addComputeSet("cs");
      VertexRef v = f.graph.addVertex(cs, "snncc_test::ScaleAdd<float>", {{"x", x}, {"bias", x}});
      f.graph.setInitialValue(v["scale"], 1.0f);
      Engine e(f.graph, Execute(cs));
    });
  };
  // 4 x 40000 floats = 160000 bytes on tile 0 with 160000 bytes per tile:
  // fits exactly without vertices, not with one vertex's state.
  cases["out_of_memory"] = [] {
    return expect<graph_memory_allocation_error>("graph_memory_allocation_error", [] {
      Fixture f(160000);
      Tensor x = f.graph.addVariable(FLOAT, {20000}, "x");
      Tensor b = f.graph.addVariable(FLOAT, {20000}, "bias0");
      f.graph.setTileMapping(x, 0);
      f.graph.setTileMapping(b, 0);
      ComputeSet cs = f.graph.addComputeSet("cs");
      VertexRef v = f.graph.addVertex(cs, "snncc_test::ScaleAdd<float>", {{"x", x}, {"bias", b}});
      f.graph.setInitialValue(v["scale"], 1.0f);
      f.graph.setTileMapping(v, 0);
      Engine e(f.graph, Execute(cs));
    });
  };
  cases["fits_exactly"] = [] {
    Fixture f(160000);
    Tensor x = f.graph.addVariable(FLOAT, {40000}, "x");
    f.graph.setTileMapping(x, 0);
    Engine e(f.graph, Sequence{});
    std::printf("accepted\n");
    return 0;
  };
  cases["allow_out_of_memory"] = [] {
    Fixture f(1000);
    Tensor x = f.graph.addVariable(FLOAT, {1000}, "x");
    f.graph.setTileMapping(x, 0);
    Engine e(f.graph, Sequence{}, OptionFlags{{"debug.allowOutOfMemory", "true"}});
    std::printf("accepted\n");
    return 0;
  };
  cases["unregistered_codelet_file"] = [] {
    return expect<graph_program_compilation_error>("graph_program_compilation_error", [] {
      Fixture f;
      f.graph.addCodelets(dir + "/unregistered.cpp");
    });
  };
  cases["missing_codelet_file"] = [] {
    return expect<file_load_error>("file_load_error", [] {
      Fixture f;
      f.graph.addCodelets(dir + "/no_such_file.cpp");
    });
  };
  cases["unknown_vertex_type"] = [] {
    return expect<unknown_vertex_type>("unknown_vertex_type", [] {
      Fixture f;
      f.graph.addVertex(f.graph.addComputeSet("cs"), "snncc_test::NoSuchVertex");
    });
  };
  cases["unknown_field"] = [] {
    return expect<unknown_field>("unknown_field", [] {
      Fixture f;
      VertexRef v = f.graph.addVertex(f.graph.addComputeSet("cs"), "snncc_test::CountDown");
      f.graph.connect(v["nope"], f.graph.addVariable(FLOAT, {1}));
    });
  };
  cases["type_mismatch"] = [] {
    return expect<graph_connection_error>("graph_connection_error", [] {
      Fixture f;
      VertexRef v = f.graph.addVertex(f.graph.addComputeSet("cs"), "snncc_test::CountDown");
      f.graph.connect(v["counter"], f.graph.addVariable(FLOAT, {1}));
    });
  };
  cases["unconnected_field"] = [] {
    return expect<graph_connection_error>("graph_connection_error", [] {
      Fixture f;
      Tensor c = f.graph.addVariable(UNSIGNED_INT, {}, "c");
      f.graph.setTileMapping(c, 0);
      ComputeSet cs = f.graph.addComputeSet("cs");
      f.graph.setTileMapping(f.graph.addVertex(cs, "snncc_test::CountDown", {{"counter", c}}), 0);
      Engine e(f.graph, Execute(cs));
    });
  };
  cases["unknown_option"] = [] {
    return expect<invalid_option>("invalid_option", [] {
      Fixture f;
      Engine e(f.graph, Sequence{}, OptionFlags{{"snncc.noSuchOption", "1"}});
    });
  };
  cases["unconnected_stream"] = [] {
    return expect<stream_connection_error>("stream_connection_error", [] {
      Fixture f;
      Tensor x = f.graph.addVariable(FLOAT, {4}, "x");
      f.graph.setTileMapping(x, 0);
      DataStream s = f.graph.addHostToDeviceFIFO("in", FLOAT, 4);
      Engine e(f.graph, Copy(s, x));
      e.load(f.device);
      e.run(0);
    });
  };
  cases["bad_slice"] = [] {
    return expect<index_error>("index_error", [] {
      Fixture f;
      f.graph.addVariable(FLOAT, {4, 2}, "x").slice(1, 5);
    });
  };

  auto it = cases.find(argv[1]);
  if (it == cases.end()) {
    std::printf("unknown case\n");
    return 2;
  }
  return it->second();
}
