// Half conversions for test_half.py, built once per conversion path (F16C and
// software) by that test, not by this directory's CMakeLists.txt.
//   half_convert IN OUT   (prints "f16c B", "runtime B", "bulk_mismatches N")
// IN:  uint32 nf, float f[nf], uint32 nd, double d[nd]
// OUT: float toFloat(h) for the 65536 half patterns h, uint16 fromFloat(f[nf]);
//      with HALF_WITH_RUNTIME (linked with the runtime) then also
//      copyDeviceHalfToFloat(all halves) float[65536], copyFloatToDeviceHalf(f)
//      uint16[nf], copyDoubleToDeviceHalf(d) uint16[nd],
//      copyDeviceHalfToDouble(all halves) double[65536].
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <vector>

#include <poplar/HalfFloat.hpp>
#ifdef HALF_WITH_RUNTIME
#include <poplar/Target.hpp>
#endif

using poplar::IeeeHalf;

template <typename T> static std::vector<T> readArray(std::ifstream &in) {
  std::uint32_t n = 0;
  in.read(reinterpret_cast<char *>(&n), 4);
  std::vector<T> v(n);
  in.read(reinterpret_cast<char *>(v.data()), std::streamsize(n * sizeof(T)));
  return v;
}

template <typename T> static void write(std::ofstream &out, const T *p, std::size_t n) {
  out.write(reinterpret_cast<const char *>(p), std::streamsize(n * sizeof(T)));
}

static bool sameBits(float a, float b) { return std::memcmp(&a, &b, 4) == 0; }

// The bulk helpers against the element conversions, for every length 0..37
// from many starting points (odd ones too, so the vector loads are unaligned),
// and nothing written past the end.
static unsigned long bulkMismatches(const std::vector<float> &f) {
  constexpr unsigned kMax = 37, kGuard = 3;
  unsigned long bad = 0;
  for (std::size_t start = 0; start + kMax <= f.size(); start += 331) {
    for (unsigned n = 0; n <= kMax; ++n) {
      std::vector<IeeeHalf> h(n + kGuard, IeeeHalf::fromBits(0xdead));
      snncc::host::floatToHalf(f.data() + start, h.data(), n);
      for (unsigned k = 0; k < n + kGuard; ++k) {
        const std::uint16_t want = k < n ? IeeeHalf::fromFloat(f[start + k]) : 0xdead;
        bad += h[k].bit16() != want;
      }
    }
  }
  std::vector<IeeeHalf> all(65536 + kMax);
  for (unsigned b = 0; b < all.size(); ++b)
    all[b] = IeeeHalf::fromBits(std::uint16_t(b));
  for (std::size_t start = 0; start < 65536; start += 97) {
    for (unsigned n = 0; n <= kMax; ++n) {
      std::vector<float> g(n + kGuard, -1.5f);
      snncc::host::halfToFloat(all.data() + start, g.data(), n);
      for (unsigned k = 0; k < n + kGuard; ++k) {
        const float want = k < n ? IeeeHalf::toFloat(all[start + k].bit16()) : -1.5f;
        bad += !sameBits(g[k], want);
      }
    }
  }
  return bad;
}

int main(int argc, char **argv) {
  if (argc != 3)
    return 2;
  std::ifstream in(argv[1], std::ios::binary);
  const auto f = readArray<float>(in);
  const auto d = readArray<double>(in);
  if (!in)
    return 3;
  std::ofstream out(argv[2], std::ios::binary);

  std::vector<float> toF(65536);
  for (unsigned b = 0; b < 65536; ++b)
    toF[b] = IeeeHalf::toFloat(std::uint16_t(b));
  write(out, toF.data(), toF.size());
  std::vector<std::uint16_t> fromF(f.size());
  for (std::size_t k = 0; k < f.size(); ++k)
    fromF[k] = IeeeHalf::fromFloat(f[k]);
  write(out, fromF.data(), fromF.size());

#if defined(__F16C__)
  std::printf("f16c 1\n");
#else
  std::printf("f16c 0\n");
#endif

#ifdef HALF_WITH_RUNTIME
  // Device buffers start one byte in: the copies must not assume alignment.
  const poplar::Target target = poplar::Target::createCPUTarget();
  std::vector<unsigned char> allHalves(1 + 2 * 65536);
  for (unsigned b = 0; b < 65536; ++b) {
    allHalves[1 + 2 * b] = std::uint8_t(b);
    allHalves[2 + 2 * b] = std::uint8_t(b >> 8);
  }
  std::vector<float> devF(65536);
  poplar::copyDeviceHalfToFloat(target, allHalves.data() + 1, devF.data(), 65536);
  write(out, devF.data(), devF.size());
  std::vector<unsigned char> dev(1 + 2 * f.size());
  poplar::copyFloatToDeviceHalf(target, f.data(), dev.data() + 1, f.size());
  write(out, dev.data() + 1, 2 * f.size());
  dev.assign(1 + 2 * d.size(), 0);
  poplar::copyDoubleToDeviceHalf(target, d.data(), dev.data() + 1, d.size());
  write(out, dev.data() + 1, 2 * d.size());
  std::vector<double> devD(65536);
  poplar::copyDeviceHalfToDouble(target, allHalves.data() + 1, devD.data(), 65536);
  write(out, devD.data(), devD.size());
  std::printf("runtime 1\n");
#else
  std::printf("runtime 0\n");
#endif
  std::printf("bulk_mismatches %lu\n", bulkMismatches(f));
  return out ? 0 : 4;
}
