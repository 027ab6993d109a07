// Host-only registration of the test codelets, in the form the code
// generator emits: include the codelet files, then one line per vertex type.
#include <snncc/vertex_registry.hpp>

#include "codelets/snn_test.cpp"

SNNCC_REGISTER_VERTEX("snn_test.cpp", "snncc_test::SparseRowSum<float>",
                      snncc_test::SparseRowSum<float>, ids, count, weights, out, numOut);
SNNCC_REGISTER_VERTEX("snn_test.cpp", "snncc_test::LeakyIntegrate<float>",
                      snncc_test::LeakyIntegrate<float>, v, x, spikes, decay, threshold);
SNNCC_REGISTER_VERTEX("snn_test.cpp", "snncc_test::CollectSpikes",
                      snncc_test::CollectSpikes, spikes, ids, count, offset);
SNNCC_REGISTER_VERTEX("snn_test.cpp", "snncc_test::ReducePartials",
                      snncc_test::ReducePartials, partials, out);
SNNCC_REGISTER_VERTEX("snn_test.cpp", "snncc_test::ScaleAdd<float>",
                      snncc_test::ScaleAdd<float>, x, bias, scale);
SNNCC_REGISTER_VERTEX("snn_test.cpp", "snncc_test::ScaleAdd<half>",
                      snncc_test::ScaleAdd<half>, x, bias, scale);
SNNCC_REGISTER_VERTEX("snn_test.cpp", "snncc_test::CountDown",
                      snncc_test::CountDown, counter, keepGoing);
SNNCC_REGISTER_VERTEX("snn_test.cpp", "snncc_test::ListSum",
                      snncc_test::ListSum, lists, sums, weights);
