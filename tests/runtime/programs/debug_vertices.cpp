// Host-only registration of codelets/debug_test.cpp (see host_vertices.cpp).
#include <snncc/vertex_registry.hpp>

#include "codelets/debug_test.cpp"

namespace {
using snncc::host::field;
using snncc::host::makeVertex;
using snncc::host::Registrar;

using snncc_test::SumIn;
const Registrar registerSumIn(makeVertex<SumIn>(
    "debug_test.cpp", "snncc_test::SumIn", {field<&SumIn::in>("in"), field<&SumIn::out>("out")}));

using AddF = snncc_test::AddOneToOutput<float>;
const Registrar registerAddF(makeVertex<AddF>("debug_test.cpp", "snncc_test::AddOneToOutput<float>",
                                              {field<&AddF::out>("out")}));
using AddH = snncc_test::AddOneToOutput<half>;
const Registrar registerAddH(makeVertex<AddH>("debug_test.cpp", "snncc_test::AddOneToOutput<half>",
                                              {field<&AddH::out>("out")}));
using AddU = snncc_test::AddOneToOutput<unsigned int>;
const Registrar registerAddU(makeVertex<AddU>(
    "debug_test.cpp", "snncc_test::AddOneToOutput<unsigned int>", {field<&AddU::out>("out")}));

using snncc_test::AddOneInOut;
const Registrar registerAddOneInOut(makeVertex<AddOneInOut>(
    "debug_test.cpp", "snncc_test::AddOneInOut", {field<&AddOneInOut::x>("x")}));

using snncc_test::WriteFirst;
const Registrar registerWriteFirst(makeVertex<WriteFirst>(
    "debug_test.cpp", "snncc_test::WriteFirst", {field<&WriteFirst::out>("out")}));
} // namespace
