// Copyright (c) 2024 snncc authors. SPDX-License-Identifier: Apache-2.0
// Model-independent codelets of every generated snncc program (copied
// verbatim into the build directory): the timestep counter and the
// optimizer updates. Pure Poplar Vertex API: no heap, no exceptions, no
// standard-library containers.
#include <cmath>
#include <poplar/HalfFloat.hpp>
#include <poplar/Vertex.hpp>

using namespace poplar;


namespace snncc {

static constexpr auto ONE_PTR = poplar::VectorLayout::ONE_PTR;
static constexpr auto SPAN = poplar::VectorLayout::SPAN;

// Worker wid's contiguous block [*begin, *end) of an n-element vector of T, as
// PopLibs splits elementwise work: whole 64-bit groups (8 / sizeof(T)
// elements), so that each block starts 8-byte aligned (the vectors are) and a
// worker can load and store 64 bits at a time; the first (groups mod workers)
// workers take one group more. One divide per call, none per element.
template <typename T>
inline void workerBlock(unsigned n, unsigned wid, unsigned workers, unsigned *begin, unsigned *end) {
  constexpr unsigned group = 8 / sizeof(T);
  const unsigned groups = (n + group - 1) / group;
  const unsigned q = groups / workers, r = groups % workers;
  const unsigned g0 = wid * q + (wid < r ? wid : r), g1 = g0 + q + (wid < r ? 1 : 0);
  *begin = g0 * group < n ? g0 * group : n;
  *end = g1 * group < n ? g1 * group : n;
}

// t += delta (the timestep counter of the forward and the reverse loop).
class Tick : public Vertex {
public:
  Tick();

  InOut<unsigned> t;
  int delta;

  void compute() { *t = unsigned(int(*t) + delta); }
};

// Adam, torch.optim.Adam's multi-tensor order of operations:
//   m = m + (1 - b1) (g - m);  v = b2 v + (1 - b2) g g
//   w = w + stepSize m / (sqrt(v) / bc2Sqrt + eps)
// hyper = {1 - b1, b2, 1 - b2, eps, stepSize = -lr / (1 - b1^k),
//          bc2Sqrt = sqrt(1 - b2^k)}, computed by the host in double for
// step k and written before each step. Each worker takes a contiguous block
// (workerBlock). With COPY, copy[i] = the new w[i] rounded to half: the
// float16 copy that a mixed-precision network computes with.
template <bool COPY, typename T>
inline void adam(T *w, const T *g, T *m, T *v, half *copy, const float *hyper, unsigned begin, unsigned end) {
  const float oneMinusB1 = hyper[0], b2 = hyper[1], oneMinusB2 = hyper[2];
  const float eps = hyper[3], stepSize = hyper[4], bc2Sqrt = hyper[5];
  for (unsigned i = begin; i < end; ++i) {
    const float gi = float(g[i]);
    const float mi = float(m[i]) + oneMinusB1 * (gi - float(m[i]));
    const float vi = float(v[i]) * b2 + oneMinusB2 * gi * gi;
    m[i] = T(mi);
    v[i] = T(vi);
    const float denom = std::sqrt(vi) / bc2Sqrt + eps;
    w[i] = T(float(w[i]) + stepSize * (mi / denom));
    if (COPY)
      copy[i] = half(float(w[i]));
  }
}

// SGD with optional momentum (torch.optim.SGD, dampening 0):
//   first step buf = g, later buf = momentum buf + g;  w = w + negLr buf.
// hyper = {negLr, momentum, first (1 on the first step, else 0)}.
template <bool COPY, typename T>
inline void sgd(T *w, const T *g, T *buf, half *copy, const float *hyper, unsigned begin, unsigned end) {
  const float negLr = hyper[0], momentum = hyper[1];
  const bool first = hyper[2] > 0.5f;
  for (unsigned i = begin; i < end; ++i) {
    float b = float(g[i]);
    if (momentum > 0.0f && !first)
      b = momentum * float(buf[i]) + b;
    buf[i] = T(b);
    w[i] = T(float(w[i]) + negLr * b);
    if (COPY)
      copy[i] = half(float(w[i]));
  }
}

// SGD without momentum: w = w + negLr g (hyper = {negLr, ...}).
template <bool COPY, typename T>
inline void sgdPlain(T *w, const T *g, half *copy, const float *hyper, unsigned begin, unsigned end) {
  const float negLr = hyper[0];
  for (unsigned i = begin; i < end; ++i) {
    w[i] = T(float(w[i]) + negLr * float(g[i]));
    if (COPY)
      copy[i] = half(float(w[i]));
  }
}

// The update vertices: one per optimizer, and one that also writes the float16 copy.
template <typename T> class AdamUpdate : public MultiVertex {
public:
  AdamUpdate();

  InOut<Vector<T, SPAN, 8>> w;
  Input<Vector<T, ONE_PTR, 8>> g;
  InOut<Vector<T, ONE_PTR, 8>> m;
  InOut<Vector<T, ONE_PTR, 8>> v;
  Input<Vector<float, ONE_PTR>> hyper;

  void compute(unsigned wid) {
    unsigned begin, end;
    workerBlock<T>(w.size(), wid, numWorkers(), &begin, &end);
    adam<false>(&w[0], &g[0], &m[0], &v[0], nullptr, &hyper[0], begin, end);
  }
};
template class AdamUpdate<float>;

template <typename T> class AdamUpdateHalf : public MultiVertex {
public:
  AdamUpdateHalf();

  InOut<Vector<T, SPAN, 8>> w;
  Input<Vector<T, ONE_PTR, 8>> g;
  InOut<Vector<T, ONE_PTR, 8>> m;
  InOut<Vector<T, ONE_PTR, 8>> v;
  Output<Vector<half, ONE_PTR, 8>> copy;
  Input<Vector<float, ONE_PTR>> hyper;

  void compute(unsigned wid) {
    unsigned begin, end; // whole 64-bit groups of the half copy (so of w too): no shared word
    workerBlock<half>(w.size(), wid, numWorkers(), &begin, &end);
    adam<true>(&w[0], &g[0], &m[0], &v[0], &copy[0], &hyper[0], begin, end);
  }
};
template class AdamUpdateHalf<float>;

template <typename T> class SgdUpdate : public MultiVertex {
public:
  SgdUpdate();

  InOut<Vector<T, SPAN, 8>> w;
  Input<Vector<T, ONE_PTR, 8>> g;
  InOut<Vector<T, ONE_PTR, 8>> buf;
  Input<Vector<float, ONE_PTR>> hyper;

  void compute(unsigned wid) {
    unsigned begin, end;
    workerBlock<T>(w.size(), wid, numWorkers(), &begin, &end);
    sgd<false>(&w[0], &g[0], &buf[0], nullptr, &hyper[0], begin, end);
  }
};
template class SgdUpdate<float>;

template <typename T> class SgdUpdateHalf : public MultiVertex {
public:
  SgdUpdateHalf();

  InOut<Vector<T, SPAN, 8>> w;
  Input<Vector<T, ONE_PTR, 8>> g;
  InOut<Vector<T, ONE_PTR, 8>> buf;
  Output<Vector<half, ONE_PTR, 8>> copy;
  Input<Vector<float, ONE_PTR>> hyper;

  void compute(unsigned wid) {
    unsigned begin, end;
    workerBlock<half>(w.size(), wid, numWorkers(), &begin, &end);
    sgd<true>(&w[0], &g[0], &buf[0], &copy[0], &hyper[0], begin, end);
  }
};
template class SgdUpdateHalf<float>;

template <typename T> class SgdPlainUpdate : public MultiVertex {
public:
  SgdPlainUpdate();

  InOut<Vector<T, SPAN, 8>> w;
  Input<Vector<T, ONE_PTR, 8>> g;
  Input<Vector<float, ONE_PTR>> hyper;

  void compute(unsigned wid) {
    unsigned begin, end;
    workerBlock<T>(w.size(), wid, numWorkers(), &begin, &end);
    sgdPlain<false>(&w[0], &g[0], nullptr, &hyper[0], begin, end);
  }
};
template class SgdPlainUpdate<float>;

template <typename T> class SgdPlainUpdateHalf : public MultiVertex {
public:
  SgdPlainUpdateHalf();

  InOut<Vector<T, SPAN, 8>> w;
  Input<Vector<T, ONE_PTR, 8>> g;
  Output<Vector<half, ONE_PTR, 8>> copy;
  Input<Vector<float, ONE_PTR>> hyper;

  void compute(unsigned wid) {
    unsigned begin, end;
    workerBlock<half>(w.size(), wid, numWorkers(), &begin, &end);
    sgdPlain<true>(&w[0], &g[0], &copy[0], &hyper[0], begin, end);
  }
};
template class SgdPlainUpdateHalf<float>;

} // namespace snncc
