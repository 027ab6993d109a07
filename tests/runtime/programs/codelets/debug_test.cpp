// Copyright (c) 2024 snncc authors. SPDX-License-Identifier: Apache-2.0
// Test codelets for the memory check and output poisoning: pure Poplar, some
// deliberately wrong (reading an Output, writing part of one).
#include <poplar/HalfFloat.hpp>
#include <poplar/Vertex.hpp>

using namespace poplar;

namespace snncc_test {

// out = the sum of in.
class SumIn : public Vertex {
public:
  SumIn();

  Input<Vector<float>> in;
  Output<float> out;

  void compute() {
    float acc = 0.0f;
    for (unsigned i = 0; i < in.size(); ++i)
      acc += in[i];
    *out = acc;
  }
};

// Wrong on purpose: adds one to what its Output holds.
template <typename T> class AddOneToOutput : public Vertex {
public:
  AddOneToOutput();

  Output<Vector<T>> out;

  void compute() {
    for (unsigned i = 0; i < out.size(); ++i)
      out[i] += T(1);
  }
};
template class AddOneToOutput<float>;
template class AddOneToOutput<half>;
template class AddOneToOutput<unsigned int>;

// The same through an InOut: correct.
class AddOneInOut : public Vertex {
public:
  AddOneInOut();

  InOut<Vector<float>> x;

  void compute() {
    for (unsigned i = 0; i < x.size(); ++i)
      x[i] += 1.0f;
  }
};

// Wrong on purpose: writes only the first element of its Output.
class WriteFirst : public Vertex {
public:
  WriteFirst();

  Output<Vector<float>> out;

  void compute() { out[0] = 7.0f; }
};

} // namespace snncc_test
