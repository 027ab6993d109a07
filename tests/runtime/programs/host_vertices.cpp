// Host-only registration of the test codelets with the calls the code
// generator emits: include the codelet files, then per vertex type a
// Registrar with the table of its fields.
#include <snncc/vertex_registry.hpp>

#include "codelets/snn_test.cpp"

namespace {
using snncc::host::field;
using snncc::host::makeVertex;
using snncc::host::Registrar;

using SparseRowSumF = snncc_test::SparseRowSum<float>;
const Registrar registerSparseRowSumF(makeVertex<SparseRowSumF>(
    "snn_test.cpp", "snncc_test::SparseRowSum<float>",
    {field<&SparseRowSumF::ids>("ids"), field<&SparseRowSumF::count>("count"),
     field<&SparseRowSumF::weights>("weights"), field<&SparseRowSumF::out>("out"),
     field<&SparseRowSumF::numOut>("numOut")}));

using LeakyIntegrateF = snncc_test::LeakyIntegrate<float>;
const Registrar registerLeakyIntegrateF(makeVertex<LeakyIntegrateF>(
    "snn_test.cpp", "snncc_test::LeakyIntegrate<float>",
    {field<&LeakyIntegrateF::v>("v"), field<&LeakyIntegrateF::x>("x"),
     field<&LeakyIntegrateF::spikes>("spikes"), field<&LeakyIntegrateF::decay>("decay"),
     field<&LeakyIntegrateF::threshold>("threshold")}));

using snncc_test::CollectSpikes;
const Registrar registerCollectSpikes(makeVertex<CollectSpikes>(
    "snn_test.cpp", "snncc_test::CollectSpikes",
    {field<&CollectSpikes::spikes>("spikes"), field<&CollectSpikes::ids>("ids"),
     field<&CollectSpikes::count>("count"), field<&CollectSpikes::offset>("offset")}));

using snncc_test::ReducePartials;
const Registrar registerReducePartials(makeVertex<ReducePartials>(
    "snn_test.cpp", "snncc_test::ReducePartials",
    {field<&ReducePartials::partials>("partials"), field<&ReducePartials::out>("out")}));

using ScaleAddF = snncc_test::ScaleAdd<float>;
const Registrar registerScaleAddF(makeVertex<ScaleAddF>(
    "snn_test.cpp", "snncc_test::ScaleAdd<float>",
    {field<&ScaleAddF::x>("x"), field<&ScaleAddF::bias>("bias"),
     field<&ScaleAddF::scale>("scale")}));

using ScaleAddH = snncc_test::ScaleAdd<half>;
const Registrar registerScaleAddH(makeVertex<ScaleAddH>(
    "snn_test.cpp", "snncc_test::ScaleAdd<half>",
    {field<&ScaleAddH::x>("x"), field<&ScaleAddH::bias>("bias"),
     field<&ScaleAddH::scale>("scale")}));

using snncc_test::CountDown;
const Registrar registerCountDown(makeVertex<CountDown>(
    "snn_test.cpp", "snncc_test::CountDown",
    {field<&CountDown::counter>("counter"), field<&CountDown::keepGoing>("keepGoing")}));

using snncc_test::ListSum;
const Registrar registerListSum(makeVertex<ListSum>(
    "snn_test.cpp", "snncc_test::ListSum",
    {field<&ListSum::lists>("lists"), field<&ListSum::sums>("sums"),
     field<&ListSum::weights>("weights")}));
} // namespace
