// Copyright (c) 2024 snncc authors. SPDX-License-Identifier: Apache-2.0
// The model-independent body of every generated program.cpp (copied verbatim):
// program.cpp holds the model's elements (one ElementDef per population,
// projection and the globals: tile range and tensors) and its vertex builders,
// and calls run(). run() selects the device, creates and maps the tensors,
// calls program.cpp's addVertices, builds the streams and the training step,
// and drives it:
//
//   train INIT BATCH OUT [STEPS]
//   train --train INIT DATA OUTDIR FIRST_EPOCH LAST_EPOCH STEPS_DONE
//
// INIT: weights ("weight.<projection>" [in, out], "bias.<projection>" [out])
// and per-neuron parameters ("beta.<population>" [N], alpha, threshold, gradient_level);
// optional "dev.<tensor>" entries (a checkpoint's device tensors) are written
// back as they are. BATCH: "inputs" uint8 [T, B, inputs], "labels" uint32 [B];
// OUT: the last step's forward outputs and gradients and the updated weights.
// --train: trains epochs FIRST..LAST over DATA ("train.offsets" uint32 [N T + 1]
// and "train.channels" uint32 [spikes]: sample n's input spikes at timestep t are
// channels[offsets[n T + t] ..), ascending; "train.labels" uint32 [N], "test.*"
// alike, "order" uint32 [E, N]: each epoch's sample order, cut into batches of
// B), streams batches in and
// per-batch results out, prints one line per batch and per test evaluation,
// and writes OUTDIR/epoch.<E>.bin after each epoch E. Tensor file format and the
// line protocol: docs/codegen.md. Device: SNNCC_DEVICE=ipu|model (selectDevice).
#ifndef snncc_program_driver_hpp
#define snncc_program_driver_hpp

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <iomanip>
#include <iostream>
#include <map>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <gcl/Collectives.hpp>
#include <poplar/DeviceManager.hpp>
#include <poplar/Engine.hpp>
#include <poplar/Graph.hpp>
#include <poplar/IPUModel.hpp>
#include <poplar/Program.hpp>

#include "program_support.hpp"

#ifndef SNNCC_CODELETS_DIR
#define SNNCC_CODELETS_DIR "codelets"
#endif

namespace snncc_support {

// ---- the model's elements (populations, projections, the globals) and their tensors,
// decided by snncc/lower/host.py; program.cpp's builders add the vertices.
enum Map : unsigned { NEURON, LIST, PARTIALS, CHUNKS, SINGLE }; // tensor layouts (snncc/lower/program.py)
// What the host does with a tensor: PARAM a per-neuron parameter from INIT ("<what>.<element>"),
// ZERO zero-initialised (not always written by the host), WRITE/READ a host write/read handle,
// HALF_COPY the float16 copy of the master "w" or "b" (what without its "h"), which the host
// writes from the master whenever it has written the master.
enum : unsigned { PARAM = 1, ZERO = 2, WRITE = 4, READ = 8, HALF_COPY = 16 };
enum ElementType : unsigned { FLOAT_ELEMENTS, HALF_ELEMENTS, UNSIGNED_ELEMENTS };

inline const poplar::Type &deviceType(ElementType e) {
  return e == FLOAT_ELEMENTS ? poplar::FLOAT : e == HALF_ELEMENTS ? poplar::HALF : poplar::UNSIGNED_INT;
}

struct TensorDef {
  const char *what;
  ElementType type;
  Map map;
  std::size_t rows; // values per neuron / sample / tile, entries split over the tiles (CHUNKS), or all (SINGLE)
  unsigned host;    // PARAM | ZERO | WRITE | READ
};
struct ElementDef {
  const char *id; // "" for the globals
  unsigned size;  // neurons (populations) or target neurons (projections)
  unsigned rows;  // list capacity (populations) or source neurons (projections)
  unsigned flags;
  Layout tiles; // a projection's are its target's; the globals' the readout's
  std::vector<TensorDef> tensors;
};
// Element flags: what the program reads back and how.
enum : unsigned { SPIKES = 1, GRAD_MASK = 2, OVERFLOW_ERROR = 4, MEMBRANE = 8, SYNAPSE = 16, BIAS = 32, PROJECTION = 64 };

inline std::string tensorName(const char *id, const std::string &what) {
  return id[0] ? std::string(id) + "." + what : what;
}

// One element's tensors in the graph, and the slices its vertices connect to.
struct Element {
  const ElementDef *def;
  unsigned batch;
  std::map<std::string, std::pair<poplar::Tensor, const TensorDef *>> tensors;

  const Layout &tiles() const { return def->tiles; }
  const poplar::Tensor &operator[](const std::string &what) const { return entry(what).first; }
  // Tile j's share: neuron tile j, list tile j, target tile j's partials or chunk.
  poplar::Tensor tile(const std::string &what, unsigned j) const {
    const auto &e = entry(what);
    const std::size_t rows = e.second->rows;
    const Layout &l = def->tiles;
    switch (e.second->map) {
    case NEURON:
      return e.first.slice(rows * l.lo(j), rows * l.hi(j));
    case LIST:
      return e.first.slice(rows * l.listBegin(j, batch), rows * l.listEnd(j, batch));
    case PARTIALS:
      return e.first.slice(rows * j, rows * (j + 1));
    case CHUNKS:
      return e.first.slice(chunkBegin(rows, l, j), chunkEnd(rows, l, j));
    default:
      return e.first;
    }
  }
  poplar::Tensor samples(const std::string &what, unsigned b0, unsigned nb) const {
    return samplesOf(entry(what).first, def->tiles, batch, b0, nb);
  }
  poplar::Tensor chunk(const std::string &what, unsigned j) const {
    return chunkOf(entry(what).first, def->tiles, entry(what).second->rows, j);
  }
  poplar::Tensor columns(const std::string &what, unsigned lo, unsigned hi) const {
    return columnsOf(entry(what).first, batch, entry(what).second->rows / batch, lo, hi);
  }
  // The entries of tile j's chunk of a chunks tensor.
  unsigned chunkEntries(const std::string &what, unsigned j) const {
    const std::size_t rows = entry(what).second->rows;
    return unsigned(chunkEnd(rows, def->tiles, j) - chunkBegin(rows, def->tiles, j));
  }
  const std::pair<poplar::Tensor, const TensorDef *> &entry(const std::string &what) const {
    const auto it = tensors.find(what);
    if (it == tensors.end())
      throw std::runtime_error("element '" + std::string(def->id) + "' has no tensor '" + what + "'");
    return it->second;
  }
};

// The elements by id, and the globals.
struct Elements {
  std::vector<Element> all;
  std::map<std::string, std::size_t> index;
  const Element *globals = nullptr;
  const Element &operator()(const std::string &id) const {
    const auto it = index.find(id);
    if (it == index.end())
      throw std::runtime_error("no element '" + id + "'");
    return all[it->second];
  }
};

// The compute sets by name.
struct ComputeSets {
  std::map<std::string, poplar::ComputeSet> byName;
  poplar::ComputeSet operator()(const std::string &name) const { return byName.at(name); }
};

// The optimizer's constants; its per-step scalars are computed on the host in double.
struct Optimizer {
  bool adam;
  double lr, beta1, beta2, eps, momentum;
};

struct Model {
  unsigned timesteps, batch; // batch: each replica's share of a batch of batch x replicas samples
  unsigned replicas;         // data-parallel replicas, one per process (PopRun instance or MPI rank)
  std::vector<const char *> computeSets;
  std::vector<unsigned> forwardStep, backwardStep; // one forward and one reverse timestep, in order
  unsigned loss, update;                           // compute sets
  std::vector<ElementDef> elements;
  unsigned globals, input, classes; // element indices; readout classes
  unsigned numIPUs, tilesPerIPU, bytesPerTile;
  Optimizer optimizer;
  void (*addVertices)(poplar::Graph &, const ComputeSets &, const Elements &);
};

// This process's replica: its rank in the job that PopRun or mpirun started (one replica per
// instance), 0 when the model has one replica.
inline unsigned localReplica(unsigned replicas) {
  if (replicas == 1)
    return 0;
  for (const char *name : {"OMPI_COMM_WORLD_RANK", "PMI_RANK", "PMIX_RANK"})
    if (const char *v = std::getenv(name))
      if (*v) {
        const unsigned r = unsigned(std::stoul(v));
        if (r >= replicas)
          throw std::runtime_error("process rank " + std::to_string(r) + " is not below the replication factor " +
                                   std::to_string(replicas) + " (one replica per process)");
        return r;
      }
  throw std::runtime_error("replication factor " + std::to_string(replicas) +
                           " runs one replica per process: start the program with mpirun -n " +
                           std::to_string(replicas) + " (or poprun)");
}

#ifndef SNNCC_DEFAULT_DEVICE
#define SNNCC_DEFAULT_DEVICE "ipu"
#endif

// SNNCC_DEVICE=ipu: the first of the IPU devices with the model's IPUs that attaches;
// SNNCC_DEVICE=model: an IPUModel of the plan's shape (the host runtime in a host build).
// The default is SNNCC_DEFAULT_DEVICE ("model" in host-runtime builds, "ipu" with the SDK).
inline poplar::Device selectDevice(const Model &m) {
  const char *env = std::getenv("SNNCC_DEVICE");
  const std::string kind = env && *env ? env : SNNCC_DEFAULT_DEVICE;
  if (kind == "ipu") {
    auto manager = poplar::DeviceManager::createDeviceManager();
    std::vector<poplar::Device> devices = manager.getDevices(poplar::TargetType::IPU, m.numIPUs);
    for (poplar::Device &device : devices)
      if (device.attach())
        return std::move(device);
    throw std::runtime_error("no IPU device attached: " + std::to_string(devices.size()) + " devices of " +
                             std::to_string(m.numIPUs) + " IPUs found" + (devices.empty() ? "" : ", all busy") +
                             " (SNNCC_DEVICE=model runs the IPUModel)");
  }
  if (kind != "model")
    throw std::runtime_error("SNNCC_DEVICE is '" + kind + "': use ipu or model");
  poplar::IPUModel model("ipu2");
  model.numIPUs = m.numIPUs;
  model.tilesPerIPU = m.tilesPerIPU;
  model.memoryBytesPerTile = m.bytesPerTile;
  poplar::Device device = model.createDevice();
  device.attach();
  return device;
}

// The whole program: returns main's exit status.
inline int run(const Model &m, int argc, char **argv) {
  using namespace poplar;
  using namespace poplar::program;
  const unsigned T = m.timesteps, B = m.batch, R = m.replicas;
  const unsigned GLOBALS = m.globals, INPUT = m.input, CLASSES = m.classes, LOSS = m.loss, UPDATE = m.update;
  const std::vector<ElementDef> &elements = m.elements;
  try {
    const bool training = argc == 8 && std::string(argv[1]) == "--train";
    if (!training && (argc < 4 || argc > 5)) {
      std::cerr << "usage: " << argv[0] << " INIT BATCH OUT [STEPS]\n"
                << "       " << argv[0] << " --train INIT DATA OUTDIR FIRST_EPOCH LAST_EPOCH STEPS_DONE\n";
      return 2;
    }
    const std::string initPath = training ? argv[2] : argv[1];
    const auto init = readTensorFile(initPath);

    const unsigned replica = localReplica(R);
    Device device = selectDevice(m);
    Graph graph(device.getTarget(), replication_factor(R));
    graph.addCodelets(std::string(SNNCC_CODELETS_DIR) + "/snncc_generic.cpp");
    graph.addCodelets(std::string(SNNCC_CODELETS_DIR) + "/model.cpp");

    // ---- tensors (flat; layouts in snncc/lower/program.py), zero unless the host always
    // writes them, host handles only for what the host writes or reads
    Elements E;
    std::map<std::string, Tensor> tensors;
    auto V = [&](const std::string &name) -> Tensor & { return tensors.at(name); };
    for (const ElementDef &e : elements) {
      Element el{&e, B, {}};
      for (const TensorDef &d : e.tensors) {
        const std::size_t n = d.map == NEURON ? d.rows * e.tiles.hi(e.tiles.numTiles - 1)
                              : d.map == LIST ? d.rows * B
                              : d.map == PARTIALS ? d.rows * e.tiles.numTiles
                              : d.map == CHUNKS ? chunkSize(d.rows, e.tiles) * e.tiles.numTiles : d.rows;
        const std::string name = tensorName(e.id, d.what);
        Tensor t = tensors[name] = graph.addVariable(deviceType(d.type), {n}, name);
        if (d.map == NEURON)
          mapNeuron(graph, t, e.tiles, unsigned(d.rows));
        else if (d.map == LIST)
          mapList(graph, t, e.tiles, unsigned(d.rows), B);
        else if (d.map == PARTIALS)
          mapPartials(graph, t, e.tiles, unsigned(d.rows));
        else if (d.map == CHUNKS)
          mapChunks(graph, t, e.tiles, d.rows);
        else
          graph.setTileMapping(t, e.tiles.firstTile);
        if (d.host & ZERO) {
          if (d.type == FLOAT_ELEMENTS)
            graph.setInitialValue(t, 0.0f);
          else if (d.type == HALF_ELEMENTS)
            graph.setInitialValueHalf(t, std::uint16_t(0));
          else
            graph.setInitialValue(t, 0u);
        }
        if (d.host & WRITE)
          graph.createHostWrite(name, t);
        if (d.host & READ)
          graph.createHostRead(name, t);
        el.tensors.emplace(d.what, std::make_pair(t, &d));
      }
      E.index.emplace(e.id, E.all.size());
      E.all.push_back(std::move(el));
    }
    E.globals = &E.all[GLOBALS];
    Tensor zeroT = graph.addConstant<unsigned>(UNSIGNED_INT, {1}, 0u, "t.first");
    Tensor lastT = graph.addConstant<unsigned>(UNSIGNED_INT, {1}, T - 1, "t.last");
    graph.setTileMapping(zeroT, elements[GLOBALS].tiles.firstTile);
    graph.setTileMapping(lastT, elements[GLOBALS].tiles.firstTile);

    // ---- compute sets and their vertices (program.cpp's builders)
    std::vector<ComputeSet> cs;
    ComputeSets sets;
    for (const char *name : m.computeSets) {
      cs.push_back(graph.addComputeSet(name));
      sets.byName.emplace(name, cs.back());
    }
    m.addVertices(graph, sets, E);

    // ---- streams and the training step
    const ElementDef &input = elements[INPUT];
    Tensor &inIdsT = V(tensorName(input.id, "ids")), &inCountsT = V(tensorName(input.id, "counts")),
           &inOverflowT = V(tensorName(input.id, "overflow"));
    DataStream inIds = graph.addHostToDeviceFIFO("in.ids", UNSIGNED_INT, inIdsT.numElements());
    DataStream inCounts = graph.addHostToDeviceFIFO("in.counts", UNSIGNED_INT, inCountsT.numElements());
    DataStream inOverflow = graph.addHostToDeviceFIFO("in.overflow", UNSIGNED_INT, inOverflowT.numElements());
    DataStream inLabels = graph.addHostToDeviceFIFO("in.labels", UNSIGNED_INT, B);
    // the optimizer's per-step scalars, filled by the host before each training step
    DataStream inHyper = graph.addHostToDeviceFIFO("in.hyper", FLOAT, V("hyper").numElements());
    Sequence forward, backward;
    for (unsigned c : m.forwardStep)
      forward.add(Execute(cs[c]));
    for (unsigned c : m.backwardStep)
      backward.add(Execute(cs[c]));
    // per-batch results out: the loss and scores, and every spiking population's counts and overflow
    std::vector<std::pair<std::string, std::vector<unsigned char>>> outBuffers;
    Sequence report;
    auto streamOut = [&](const std::string &name) {
      Tensor &t = V(name);
      report.add(Copy(t, graph.addDeviceToHostFIFO("out." + name, t.elementType(), t.numElements())));
      outBuffers.emplace_back("out." + name, std::vector<unsigned char>(t.numElements() * 4));
    };
    streamOut("loss");
    streamOut("scores");
    for (const ElementDef &e : elements)
      if (e.flags & SPIKES) {
        streamOut(tensorName(e.id, "counts"));
        streamOut(tensorName(e.id, "overflow"));
      }
    Sequence batchIn{Copy(inIds, inIdsT), Copy(inCounts, inCountsT), Copy(inOverflow, inOverflowT),
                     Copy(inLabels, V("labels")), Copy(zeroT, V("t")), Repeat(T, forward), Execute(cs[LOSS])};
    Sequence step{Copy(inHyper, V("hyper")), batchIn, Copy(lastT, V("t")), Repeat(T, backward)};
    if (R > 1) // the weight and bias gradients, summed over the replicas before the update
      for (const ElementDef &e : elements)
        if (e.flags & PROJECTION)
          for (const TensorDef &d : e.tensors)
            if (std::string(d.what) == "dw" || std::string(d.what) == "db")
              gcl::allReduceInPlaceCrossReplica(graph, V(tensorName(e.id, d.what)), gcl::CollectiveOperator::ADD,
                                                step, {"gradients"});
    step.add(Execute(cs[UPDATE]));
    step.add(report);
    Sequence evaluate{batchIn, report};
    enum : unsigned { TRAIN_STEP = 0, EVALUATE = 1 };

    Engine engine(graph, std::vector<Program>{step, evaluate});
    engine.load(device);
    for (auto &kv : outBuffers)
      engine.connectStream(kv.first, kv.second.data(), kv.second.data() + kv.second.size());
    auto streamed = [&](const std::string &name) -> const unsigned char * {
      for (const auto &kv : outBuffers)
        if (kv.first == "out." + name)
          return kv.second.data();
      throw std::runtime_error("no output stream '" + name + "'");
    };

    // ---- initial values: the weights and per-neuron parameters from INIT (the rest is zero)
    auto writeFloats = [&](const std::string &name, const std::vector<float> &v) {
      engine.writeTensor(name, v.data(), v.data() + v.size());
    };
    for (const ElementDef &e : elements) {
      for (const TensorDef &d : e.tensors)
        if (d.host & PARAM)
          writeFloats(tensorName(e.id, d.what), toTiles(need(init, std::string(d.what) + "." + e.id, F32, e.size, initPath).values<float>(), e.tiles, 1, e.size));
      if (!(e.flags & PROJECTION))
        continue;
      const std::string id = e.id;
      writeFloats(id + ".w", toTiles(need(init, "weight." + id, F32, std::size_t(e.rows) * e.size, initPath).values<float>(), e.tiles, e.rows, e.size));
      if (e.flags & BIAS)
        writeFloats(id + ".b", toTiles(need(init, "bias." + id, F32, e.size, initPath).values<float>(), e.tiles, 1, e.size));
    }
    for (const auto &kv : init) // a checkpoint's device tensors (weights, optimizer state), as they were
      if (kv.first.rfind("dev.", 0) == 0) {
        const std::string name = kv.first.substr(4);
        const TensorDef *d = nullptr;
        for (const Element &e : E.all)
          for (const auto &t : e.tensors)
            if (tensorName(e.def->id, t.first) == name)
              d = t.second.second;
        if (!d || !(d->host & WRITE) || (d->host & HALF_COPY) || V(name).numElements() != kv.second.elements() ||
            kv.second.dtype != (d->type == FLOAT_ELEMENTS ? F32 : U32))
          throw std::runtime_error(initPath + ": tensor '" + kv.first + "' does not fit this program");
        engine.writeTensor(name, kv.second.data.data(), kv.second.data.data() + kv.second.data.size());
      }
    // the float16 copies of the weights and biases, rounded from the masters just written
    for (const ElementDef &e : elements)
      for (const TensorDef &d : e.tensors)
        if (d.host & HALF_COPY) {
          const std::string what = d.what, master = tensorName(e.id, what.substr(0, what.size() - 1));
          std::vector<float> v(V(master).numElements());
          engine.readTensor(master, v.data(), v.data() + v.size());
          std::vector<std::uint16_t> h(v.size());
          copyFloatToDeviceHalf(device.getTarget(), v.data(), h.data(), v.size());
          engine.writeTensor(tensorName(e.id, what), h.data(), h.data() + h.size());
        }

    // ---- input spike-id lists: entry (b, t) from sample b's n ascending input ids at t, of
    // which the first inCap are kept (the drop rule of snncc.torch)
    const ElementDef &in = elements[INPUT];
    const unsigned inSize = in.size, inCap = in.rows;
    std::vector<unsigned> ids(std::size_t(B) * T * inCap, 0u), counts(std::size_t(B) * T * 2, 0u), overflow(std::size_t(B) * T, 0u);
    std::vector<unsigned> labels(B, 0u);
    auto setEntry = [&](unsigned b, unsigned t, const unsigned *first, std::size_t n) {
      const std::size_t e = std::size_t(b) * T + t;
      const unsigned kept = unsigned(std::min<std::size_t>(n, inCap));
      unsigned *list = &ids[e * inCap];
      std::copy(first, first + kept, list);
      std::fill(list + kept, list + inCap, 0u);
      counts[2 * e] = counts[2 * e + 1] = kept;
      overflow[e] = unsigned(n - kept);
    };
    engine.connectStream("in.ids", ids.data(), ids.data() + ids.size());
    engine.connectStream("in.counts", counts.data(), counts.data() + counts.size());
    engine.connectStream("in.overflow", overflow.data(), overflow.data() + overflow.size());
    engine.connectStream("in.labels", labels.data(), labels.data() + labels.size());
    std::vector<float> hyper(V("hyper").numElements(), 0.0f);
    engine.connectStream("in.hyper", hyper.data(), hyper.data() + hyper.size());

    // the optimizer's per-step scalars, computed on the host in double (k counts from 1),
    // streamed in at the start of the next training step
    // and [7] the step's real samples over all replicas (the Loss vertex's divisor)
    auto setHyper = [&](unsigned k, std::size_t real) {
      const Optimizer &o = m.optimizer;
      const std::vector<float> h =
          o.adam ? std::vector<float>{float(1.0 - o.beta1), float(o.beta2), float(1.0 - o.beta2), float(o.eps),
                                      float(-(o.lr / (1.0 - std::pow(o.beta1, double(k))))),
                                      float(std::sqrt(1.0 - std::pow(o.beta2, double(k)))), 0.0f, float(real)}
                 : std::vector<float>{float(-o.lr), float(o.momentum), k == 1 ? 1.0f : 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, float(real)};
      std::copy(h.begin(), h.end(), hyper.begin());
    };

    if (!training) {
      // ---- one batch from BATCH (all replicas' samples: this replica's are B from replica x B),
      // STEPS training steps on it; replica 0 writes OUT (its samples' outputs, the summed gradients)
      const std::string batchPath = argv[2];
      const unsigned steps = argc == 5 ? unsigned(std::stoul(argv[4])) : 1u;
      const auto batch = readTensorFile(batchPath);
      const std::size_t BR = std::size_t(B) * R, first = std::size_t(replica) * B;
      const auto inputs = need(batch, "inputs", U8, std::size_t(T) * BR * inSize, batchPath).values<std::uint8_t>();
      const auto given = need(batch, "labels", U32, BR, batchPath).values<unsigned>();
      std::copy(given.begin() + first, given.begin() + first + B, labels.begin()); // labels is the stream's buffer
      for (std::size_t b = 0; b < BR; ++b)
        if (given[b] >= CLASSES) {
          std::cerr << batchPath << ": label " << given[b] << " of sample " << b << " is not below " << CLASSES << "\n";
          return 2;
        }
      std::vector<unsigned> row;
      for (unsigned b = 0; b < B; ++b)
        for (unsigned t = 0; t < T; ++t) {
          const std::uint8_t *x = &inputs[(std::size_t(t) * BR + first + b) * inSize];
          row.clear();
          for (unsigned i = 0; i < inSize; ++i)
            if (x[i])
              row.push_back(i);
          setEntry(b, t, row.data(), row.size());
        }
      for (unsigned k = 1; k <= steps; ++k) {
        setHyper(k, BR);
        engine.run(TRAIN_STEP);
      }
      // ---- results
      auto readFloats = [&](const std::string &name) { // a HALF tensor's values converted to float
        std::vector<float> v(V(name).numElements());
        if (V(name).elementType() == HALF) {
          std::vector<std::uint16_t> h(v.size());
          engine.readTensor(name, h.data(), h.data() + h.size());
          copyDeviceHalfToFloat(device.getTarget(), h.data(), v.data(), v.size());
        } else {
          engine.readTensor(name, v.data(), v.data() + v.size());
        }
        return v;
      };
      auto readUnsigned = [&](const std::string &name) {
        std::vector<unsigned> v(V(name).numElements());
        engine.readTensor(name, v.data(), v.data() + v.size());
        return v;
      };
      auto history = [&](const ElementDef &e, const char *what) { // [T][B][N], without the initial state
        const auto all = fromTiles(readFloats(tensorName(e.id, what)), e.tiles, (T + 1) * B, e.size);
        return std::vector<float>(all.begin() + std::ptrdiff_t(std::size_t(B) * e.size), all.end());
      };
      // the last step's loss, scores, spike counts and overflow from its output streams
      auto streamedAs = [&](const std::string &name, auto zero) {
        using U = decltype(zero);
        const auto *p = reinterpret_cast<const U *>(streamed(name));
        return std::vector<U>(p, p + V(name).numElements());
      };
      std::vector<HostTensor> out;
      const auto loss = streamedAs("loss", 0.0f);
      float lossSum = 0.0f;
      for (float l : loss)
        lossSum += l;
      out.push_back(makeTensor("loss", F32, {1}, std::vector<float>{lossSum * (1.0f / float(B))}));
      out.push_back(makeTensor("scores", F32, {B, CLASSES}, streamedAs("scores", 0.0f)));
      bool overflowError = false;
      for (const ElementDef &e : elements) {
        const std::string id = e.id;
        if (e.flags & SPIKES) {
          const auto ids_ = readUnsigned(id + ".ids"), counts_ = streamedAs(id + ".counts", 0u), ovf = streamedAs(id + ".overflow", 0u);
          out.push_back(makeTensor("spikes." + id, F32, {T, B, e.size}, listsToDense(ids_, counts_, T, B, e.size, e.rows, 0)));
          if (e.flags & GRAD_MASK)
            out.push_back(makeTensor("grad_mask." + id, F32, {T, B, e.size}, listsToDense(ids_, counts_, T, B, e.size, e.rows, 1)));
          std::vector<unsigned> ovfTB(std::size_t(T) * B);
          for (unsigned b = 0; b < B; ++b)
            for (unsigned t = 0; t < T; ++t) {
              const std::size_t k = std::size_t(b) * T + t;
              ovfTB[std::size_t(t) * B + b] = ovf[k];
              if ((e.flags & OVERFLOW_ERROR) && ovf[k] > 0 && !overflowError) {
                overflowError = true;
                std::cerr << "population '" << id << "': " << counts_[2 * k] + ovf[k] << " spikes at timestep " << t
                          << " of sample " << b << " exceed its capacity of " << e.rows << "\n";
              }
            }
          out.push_back(makeTensor("overflow." + id, U32, {T, B}, ovfTB));
        }
        if (e.flags & MEMBRANE)
          out.push_back(makeTensor("mem." + id, F32, {T, B, e.size}, history(e, "mem")));
        if (e.flags & SYNAPSE)
          out.push_back(makeTensor("syn." + id, F32, {T, B, e.size}, history(e, "syn")));
        if (e.flags & PROJECTION) {
          out.push_back(makeTensor("grad.weight." + id, F32, {e.rows, e.size}, fromTiles(readFloats(id + ".dw"), e.tiles, e.rows, e.size)));
          out.push_back(makeTensor("weight." + id, F32, {e.rows, e.size}, fromTiles(readFloats(id + ".w"), e.tiles, e.rows, e.size)));
          if (e.flags & BIAS) {
            out.push_back(makeTensor("grad.bias." + id, F32, {e.size}, fromTiles(readFloats(id + ".db"), e.tiles, 1, e.size)));
            out.push_back(makeTensor("bias." + id, F32, {e.size}, fromTiles(readFloats(id + ".b"), e.tiles, 1, e.size)));
          }
        }
      }
      if (replica == 0)
        writeTensorFile(argv[3], out);
      return overflowError ? 3 : 0;
    }

    // ---- training over DATA: epochs FIRST..LAST, each a pass over the training split in
    // the order of "order" [epoch - 1] and an evaluation of the test split
    const std::string dataPath = argv[3], outDir = argv[4];
    const unsigned firstEpoch = unsigned(std::stoul(argv[5])), lastEpoch = unsigned(std::stoul(argv[6]));
    unsigned k = unsigned(std::stoul(argv[7])); // training steps done before (Adam's step counter)
    const auto data = readTensorFile(dataPath);
    auto samples = [&](const std::string &split) {
      const auto it = data.find(split + ".labels");
      return it == data.end() ? std::size_t(0) : it->second.elements();
    };
    const std::size_t nTrain = samples("train"), nTest = samples("test");
    // a split's input spikes, in place in the file's buffer: row n T + t's ids are
    // channels[offsets[row] .. offsets[row + 1]), checked ascending and below inSize
    struct Events {
      const unsigned *offsets, *channels;
    };
    auto events = [&](const std::string &split, std::size_t n) {
      const std::string what = split + ".offsets";
      const unsigned *off = need(data, what, U32, n * T + 1, dataPath).view<unsigned>();
      const auto it = data.find(split + ".channels");
      if (it == data.end() || it->second.dtype != U32 || it->second.dims.size() != 1 || off[0] != 0 ||
          it->second.elements() != off[n * T])
        throw std::runtime_error(dataPath + ": '" + split + ".channels' must be uint32 [" + what + "[-1]]");
      const unsigned *ch = it->second.view<unsigned>();
      for (std::size_t r = 0; r < n * T; ++r) {
        if (off[r + 1] < off[r])
          throw std::runtime_error(dataPath + ": '" + what + "' decreases at row " + std::to_string(r));
        for (unsigned i = off[r]; i < off[r + 1]; ++i)
          if (ch[i] >= inSize || (i > off[r] && ch[i] <= ch[i - 1]))
            throw std::runtime_error(dataPath + ": '" + split + ".channels' of sample " + std::to_string(r / T) +
                                     ", timestep " + std::to_string(r % T) + " are not ascending ids below " + std::to_string(inSize));
      }
      return Events{off, ch};
    };
    const Events trainX = events("train", nTrain), testX = events("test", nTest);
    const auto trainY = need(data, "train.labels", U32, nTrain, dataPath).values<unsigned>();
    const auto testY = need(data, "test.labels", U32, nTest, dataPath).values<unsigned>();
    const HostTensor &orderT = data.at("order");
    if (orderT.dims.size() != 2 || orderT.dims[1] != nTrain || orderT.dims[0] < lastEpoch || orderT.dtype != U32)
      throw std::runtime_error(dataPath + ": 'order' must be uint32 [epochs >= " + std::to_string(lastEpoch) + ", " + std::to_string(nTrain) + "]");
    const auto order = orderT.values<unsigned>();
    for (unsigned y : trainY)
      if (y >= CLASSES)
        throw std::runtime_error(dataPath + ": label " + std::to_string(y) + " is not below " + std::to_string(CLASSES));
    for (unsigned y : testY)
      if (y >= CLASSES)
        throw std::runtime_error(dataPath + ": label " + std::to_string(y) + " is not below " + std::to_string(CLASSES));

    std::cout << std::setprecision(9) << "populations";
    for (const ElementDef &e : elements)
      if (e.flags & SPIKES)
        std::cout << ' ' << e.id;
    std::cout << std::endl;
    // runs this replica's share of one batch (positions pos[0..n) of a split; the rest of B is
    // padding, label CLASSES) and prints "<tag> EPOCH BATCH SAMPLES LOSS_SUM CORRECT SPIKES...
    // OVERFLOW..." (spiking populations in order; with replicas, every replica prints its share)
    auto batchRun = [&](const char *tag, unsigned epoch, std::size_t index, const Events &X,
                        const std::vector<unsigned> &Y, const unsigned *pos, unsigned n, unsigned program) {
      for (unsigned b = 0; b < B; ++b) {
        labels[b] = b < n ? Y[pos[b]] : CLASSES;
        for (unsigned t = 0; t < T; ++t) {
          const std::size_t r = b < n ? std::size_t(pos[b]) * T + t : 0;
          setEntry(b, t, b < n ? X.channels + X.offsets[r] : nullptr, b < n ? X.offsets[r + 1] - X.offsets[r] : 0);
        }
      }
      engine.run(program);
      const float *loss = reinterpret_cast<const float *>(streamed("loss"));
      const float *scores = reinterpret_cast<const float *>(streamed("scores"));
      double lossSum = 0.0;
      unsigned correct = 0;
      for (unsigned b = 0; b < n; ++b) {
        lossSum += loss[b];
        unsigned best = 0;
        for (unsigned c = 1; c < CLASSES; ++c)
          if (scores[b * CLASSES + c] > scores[b * CLASSES + best])
            best = c;
        correct += best == labels[b] ? 1u : 0u;
      }
      std::vector<unsigned long long> spikes, over;
      for (const ElementDef &e : elements) {
        if (!(e.flags & SPIKES))
          continue;
        const unsigned *cnt = reinterpret_cast<const unsigned *>(streamed(tensorName(e.id, "counts")));
        const unsigned *ovf = reinterpret_cast<const unsigned *>(streamed(tensorName(e.id, "overflow")));
        unsigned long long sp = 0, ov = 0;
        for (unsigned b = 0; b < n; ++b)
          for (unsigned t = 0; t < T; ++t) {
            const std::size_t i = std::size_t(b) * T + t;
            sp += cnt[2 * i];
            ov += ovf[i];
            if ((e.flags & OVERFLOW_ERROR) && ovf[i] > 0) {
              std::cerr << "population '" << e.id << "': " << cnt[2 * i] + ovf[i] << " spikes at timestep " << t << " of "
                        << (program == EVALUATE ? "test" : "training") << " sample " << pos[b] << " exceed its capacity of " << e.rows
                        << " (raise sparsity.max_spikes or max_activity, or set overflow to 'drop')\n";
              std::exit(3);
            }
          }
        spikes.push_back(sp);
        over.push_back(ov);
      }
      std::cout << tag << ' ' << epoch << ' ' << index << ' ' << n << ' ' << lossSum << ' ' << correct;
      for (auto v : spikes)
        std::cout << ' ' << v;
      for (auto v : over)
        std::cout << ' ' << v;
      std::cout << std::endl;
    };
    std::vector<unsigned> testPos(nTest);
    for (std::size_t i = 0; i < nTest; ++i)
      testPos[i] = unsigned(i);
    // a batch of B x R samples from position i: this replica's are B from i + replica x B
    const std::size_t BR = std::size_t(B) * R;
    auto share = [&](std::size_t i, std::size_t n) {
      const std::size_t lo = std::min(n, i + std::size_t(replica) * B);
      return std::make_pair(lo, unsigned(std::min<std::size_t>(B, n - lo)));
    };
    for (unsigned epoch = firstEpoch; epoch <= lastEpoch; ++epoch) {
      const unsigned *ord = &order[std::size_t(epoch - 1) * nTrain];
      for (std::size_t i = 0, index = 1; i < nTrain; i += BR, ++index) {
        setHyper(++k, std::min(BR, nTrain - i));
        const auto [lo, n] = share(i, nTrain);
        batchRun("batch", epoch, index, trainX, trainY, ord + lo, n, TRAIN_STEP);
      }
      for (std::size_t i = 0, index = 1; i < nTest; i += BR, ++index) {
        const auto [lo, n] = share(i, nTest);
        batchRun("test", epoch, index, testX, testY, testPos.data() + lo, n, EVALUATE);
      }
      if (replica != 0) // the replicas hold the same weights: the first writes them
        continue;
      // the weights (and, as "state.<tensor>", every projection tensor a resumed run needs:
      // those with a host write handle) after the epoch, in host order [rows][neurons]: the
      // host backend's checkpoint is this file plus its meta entries, so that its process
      // does no work beside the next epoch's
      std::vector<HostTensor> out;
      for (const ElementDef &e : elements) {
        if (!(e.flags & PROJECTION))
          continue;
        for (const TensorDef &d : e.tensors) {
          const std::string what = d.what, name = tensorName(e.id, what);
          if (!(d.host & WRITE) || (d.host & HALF_COPY)) // the copies follow from the masters
            continue;
          if (d.map != NEURON)
            throw std::runtime_error("tensor '" + name + "' is kept across epochs but has no host order");
          std::vector<float> v(V(name).numElements());
          engine.readTensor(name, v.data(), v.data() + v.size());
          out.push_back(makeTensor("state." + name, F32, {d.rows, e.size}, fromTiles(v, e.tiles, d.rows, e.size)));
          if (what == "w")
            out.push_back(makeTensor("weight." + std::string(e.id), F32, {e.rows, e.size}, fromTiles(v, e.tiles, e.rows, e.size)));
          else if (what == "b")
            out.push_back(makeTensor("bias." + std::string(e.id), F32, {e.size}, fromTiles(v, e.tiles, 1, e.size)));
        }
      }
      out.push_back(makeTensor("steps", U32, {1}, std::vector<unsigned>{k}));
      writeTensorFile(outDir + "/epoch." + std::to_string(epoch) + ".bin", out);
      std::cout << "epoch " << epoch << ' ' << k << std::endl;
    }
    return 0;
  } catch (const std::exception &e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
}

} // namespace snncc_support

#endif // snncc_program_driver_hpp
