// Instantiates Graph's templated calls so that their signatures can be read
// back from the object file (test_api_declarations.py).
#include <poplar/Graph.hpp>

using namespace poplar;

void probe(Graph &g, FieldRef f, const Tensor &t) {
  g.addConstant<float>(FLOAT, {1}, 1.0f);
  g.addConstant<float>(FLOAT, {1}, ArrayRef<float>({1.0f}));
  g.setInitialValue<float>(f, 1.0f);
  g.setInitialValue<float>(f, ArrayRef<float>({1.0f}));
  g.setInitialValue<float>(t, 1.0f);
  g.setInitialValue<float>(t, ArrayRef<float>({1.0f}));
}
