// Copyright (c) 2024 snncc authors. SPDX-License-Identifier: Apache-2.0
// Test codelets in PopLibs style: pure Poplar, no registration code.
#include <poplar/HalfFloat.hpp>
#include <poplar/Vertex.hpp>

using namespace poplar;

static constexpr auto ONE_PTR = poplar::VectorLayout::ONE_PTR;
static constexpr auto SPAN = poplar::VectorLayout::SPAN;

namespace snncc_test {

// out[j] = sum over the first `count` listed ids of weights[id][j]: forward
// work proportional to the number of spikes. Workers take columns
// j = wid, wid + numWorkers(), ... so that each writes its own elements.
template <typename T> class SparseRowSum : public MultiVertex {
public:
  SparseRowSum();

  Input<Vector<unsigned, ONE_PTR>> ids;
  Input<unsigned> count;
  Input<Vector<T, ONE_PTR, 8>> weights; // [rows][numOut], row-major
  Output<Vector<T, SPAN, 8>> out;
  const unsigned numOut;

  void compute(unsigned wid) {
    const unsigned n = *count;
    for (unsigned j = wid; j < numOut; j += numWorkers()) {
      T acc = T(0);
      for (unsigned k = 0; k < n; ++k)
        acc += weights[ids[k] * numOut + j];
      out[j] = acc;
    }
  }
};
template class SparseRowSum<float>;

// v = decay * v + x; a neuron spikes when v > threshold and then loses
// threshold (subtract reset).
template <typename T> class LeakyIntegrate : public MultiVertex {
public:
  LeakyIntegrate();

  InOut<Vector<T>> v;
  Input<Vector<T, ONE_PTR>> x;
  Output<Vector<T, ONE_PTR>> spikes;
  const T decay;
  const T threshold;

  void compute(unsigned wid) {
    for (unsigned i = wid; i < v.size(); i += numWorkers()) {
      T u = decay * v[i] + x[i];
      const bool s = u > threshold;
      spikes[i] = s ? T(1) : T(0);
      v[i] = s ? u - threshold : u;
    }
  }
};
template class LeakyIntegrate<float>;

// Ids of the spiking neurons of one tile, offset to global ids, and a count.
class CollectSpikes : public Vertex {
public:
  CollectSpikes();

  Input<Vector<float>> spikes;
  Output<Vector<unsigned, ONE_PTR>> ids;
  Output<unsigned> count;
  unsigned offset;

  bool compute() {
    unsigned n = 0;
    for (unsigned i = 0; i < spikes.size(); ++i)
      if (spikes[i] > 0.5f)
        ids[n++] = offset + i;
    *count = n;
    return true;
  }
};

// out[i] = sum over partials p of partials[p][i] (a 2-D field).
class ReducePartials : public MultiVertex {
public:
  ReducePartials();

  Vector<Input<Vector<float, ONE_PTR>>> partials;
  Output<Vector<float>> out;

  void compute(unsigned wid) {
    for (unsigned i = wid; i < out.size(); i += numWorkers()) {
      float acc = 0.0f;
      for (unsigned p = 0; p < partials.size(); ++p)
        acc += partials[p][i];
      out[i] = acc;
    }
  }
};

// x[i] = x[i] * scale + bias[i], in any float type (half computes in float).
template <typename T> class ScaleAdd : public MultiVertex {
public:
  ScaleAdd();

  InOut<Vector<T>> x;
  Input<Vector<T, ONE_PTR>> bias;
  const float scale;

  void compute(unsigned wid) {
    for (unsigned i = wid; i < x.size(); i += numWorkers())
      x[i] = float(x[i]) * scale + float(bias[i]);
  }
};
template class ScaleAdd<float>;
template class ScaleAdd<half>;

// Counts down; keepGoing is true while the counter is positive.
class CountDown : public Vertex {
public:
  CountDown();

  InOut<unsigned> counter;
  Output<bool> keepGoing;

  void compute() {
    if (*counter > 0)
      --*counter;
    *keepGoing = *counter > 0;
  }
};

// Sums rows of a VectorList (lists of different lengths).
class ListSum : public Vertex {
public:
  ListSum();

  Input<VectorList<float, VectorListLayout::DELTANELEMENTS>> lists;
  Output<Vector<float, ONE_PTR>> sums;
  Vector<float> weights; // vertex-state vector, one weight per list

  void compute() {
    for (unsigned r = 0; r < lists.size(); ++r) {
      float acc = 0.0f;
      for (unsigned i = 0; i < lists[r].size(); ++i)
        acc += lists[r][i];
      sums[r] = acc * weights[r];
    }
  }
};

} // namespace snncc_test
