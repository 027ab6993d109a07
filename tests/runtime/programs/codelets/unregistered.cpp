// A codelet file whose vertex is deliberately not registered: addCodelets
// must reject it.
#include <poplar/Vertex.hpp>

class NotRegistered : public poplar::Vertex {
public:
  NotRegistered();
  poplar::Output<float> out;
  void compute() { *out = 1.0f; }
};
