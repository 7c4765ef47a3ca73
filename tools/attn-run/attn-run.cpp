//===- attn-run.cpp - run, check and time an attn artifact ----------------===//
//
// attn-run DIR [--module NAME] [--batch B] [--tokens T] [--cache L]
//              [--mixed-lengths] [--splits S] [--combine
//              auto|row|rows|wide|slices|latent-slices|grid]
//              [--iters N] [--seed N] [--dry-run SMS]
//
// Loads an artifact written by `attn-opt --attn-compile`, fills every input
// with random values (rounded to the storage type), poisons the output,
// runs the kernels, compares every element with a float64 reference and
// times the launches with events. No MLIR: builds with the runtime alone.
// --dry-run SMS prints the launches the runtime makes for these sizes on a
// GPU of SMS multiprocessors (split count, combine kernel, grids, the
// forward's merge and normalise flags) and runs nothing: no GPU or driver
// needed.
//
//===----------------------------------------------------------------------===//
#include "DryRunDevice.h"
#include "Reference.h"
#include "attn/Runtime/Json.h"
#include "attn/Runtime/Runtime.h"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <string>

using namespace attn;
using attn::rt::Status;

namespace {
struct Options {
  std::string dir, module;
  int64_t batch = 2, tokens = 1, cache = 257, splits = 0, iters = 20;
  int64_t dryRun = 0; // multiprocessors of the stand-in GPU; 0: run
  rt::KernelModule::Combine combine = rt::KernelModule::Combine::Auto;
  bool mixed = false;
  unsigned seed = 1;
};

[[noreturn]] void usage(const char *msg) {
  std::fprintf(
      stderr,
      "attn-run: %s\nusage: attn-run DIR [--module NAME] [--batch B] "
      "[--tokens T] [--cache L] [--mixed-lengths] [--splits S] "
      "[--combine auto|row|rows|wide|slices|latent-slices|grid] [--iters N] "
      "[--seed N] "
      "[--dry-run SMS]\n",
      msg);
  std::exit(2);
}

Options parse(int argc, char **argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc)
        usage(("missing value for " + a).c_str());
      return argv[++i];
    };
    auto number = [&]() {
      std::string v = next();
      char *end = nullptr;
      long long n = std::strtoll(v.c_str(), &end, 10);
      if (*end || n < 0)
        usage(("bad number '" + v + "' for " + a).c_str());
      return int64_t(n);
    };
    if (a == "--module")
      o.module = next();
    else if (a == "--batch")
      o.batch = number();
    else if (a == "--tokens")
      o.tokens = number();
    else if (a == "--cache")
      o.cache = number();
    else if (a == "--splits")
      o.splits = number();
    else if (a == "--combine") {
      std::string v = next();
      using C = rt::KernelModule::Combine;
      if (v == "auto")
        o.combine = C::Auto;
      else if (v == "row")
        o.combine = C::PerRow;
      else if (v == "rows")
        o.combine = C::Rows;
      else if (v == "wide")
        o.combine = C::Wide;
      else if (v == "slices")
        o.combine = C::Slices;
      else if (v == "grid")
        o.combine = C::Grid;
      else if (v == "latent-slices")
        o.combine = C::LatentSlices;
      else
        usage(("--combine takes auto, row, rows, wide, slices, latent-slices "
               "or grid, got '" +
               v + "'")
                  .c_str());
    } else if (a == "--iters")
      o.iters = number();
    else if (a == "--dry-run") {
      o.dryRun = number();
      if (o.dryRun < 1)
        usage("--dry-run takes the multiprocessors of the GPU to plan for");
    } else if (a == "--seed")
      o.seed = unsigned(number());
    else if (a == "--mixed-lengths")
      o.mixed = true;
    else if (!a.empty() && a[0] == '-')
      usage(("unknown option " + a).c_str());
    else if (o.dir.empty())
      o.dir = a;
    else
      usage("more than one artifact directory");
  }
  if (o.dir.empty())
    usage("no artifact directory");
  return o;
}

uint16_t toBf16(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  u += 0x7FFF + ((u >> 16) & 1); // round to nearest even
  return uint16_t(u >> 16);
}
float fromBf16(uint16_t h) {
  uint32_t u = uint32_t(h) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}
uint16_t toF16(float f) {
  if (std::isnan(f))
    return 0x7E00;
  uint32_t u;
  std::memcpy(&u, &f, 4);
  uint32_t sign = (u >> 16) & 0x8000;
  int32_t exp = int32_t((u >> 23) & 0xFF) - 127 + 15;
  uint32_t mant = u & 0x7FFFFF;
  if (exp <= 0)
    return uint16_t(sign); // |x| < 2^-14: flush (inputs are O(1))
  if (exp >= 31)
    return uint16_t(sign | 0x7C00);
  uint32_t h = sign | (uint32_t(exp) << 10) | (mant >> 13);
  if ((mant & 0x1FFF) > 0x1000 || ((mant & 0x1FFF) == 0x1000 && (h & 1)))
    ++h;
  return uint16_t(h);
}
float fromF16(uint16_t h) {
  uint32_t sign = uint32_t(h & 0x8000) << 16, exp = (h >> 10) & 0x1F,
           mant = h & 0x3FF;
  uint32_t u = exp == 0    ? sign
               : exp == 31 ? sign | 0x7F800000 | (mant << 13)
                           : sign | ((exp - 15 + 127) << 23) | (mant << 13);
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

/// Host bytes in the storage type, and the rounded values as doubles.
void encode(const std::string &dtype, const std::vector<double> &v,
            std::vector<char> &bytes, std::vector<double> &rounded) {
  rounded.resize(v.size());
  if (dtype == "i32" || dtype == "i64") {
    bytes.resize(v.size() * (dtype == "i32" ? 4 : 8));
    for (size_t i = 0; i < v.size(); ++i) {
      if (dtype == "i32")
        reinterpret_cast<int32_t *>(bytes.data())[i] = int32_t(v[i]);
      else
        reinterpret_cast<int64_t *>(bytes.data())[i] = int64_t(v[i]);
      rounded[i] = v[i];
    }
  } else if (dtype == "f32") {
    bytes.resize(v.size() * 4);
    for (size_t i = 0; i < v.size(); ++i)
      rounded[i] = reinterpret_cast<float *>(bytes.data())[i] = float(v[i]);
  } else {
    bool bf = dtype == "bf16";
    bytes.resize(v.size() * 2);
    for (size_t i = 0; i < v.size(); ++i) {
      uint16_t h = bf ? toBf16(float(v[i])) : toF16(float(v[i]));
      reinterpret_cast<uint16_t *>(bytes.data())[i] = h;
      rounded[i] = bf ? fromBf16(h) : fromF16(h);
    }
  }
}

double decode(const std::string &dtype, const char *bytes, size_t i) {
  if (dtype == "f32")
    return reinterpret_cast<const float *>(bytes)[i];
  uint16_t h = reinterpret_cast<const uint16_t *>(bytes)[i];
  return dtype == "bf16" ? fromBf16(h) : fromF16(h);
}

/// Device buffers of one run, freed when it ends.
struct DeviceBuffers {
  rt::Device *dev;
  std::vector<void *> ptrs;
  std::vector<size_t> sizes;
  ~DeviceBuffers() {
    for (void *d : ptrs)
      dev->free(d);
  }
  /// Copies `bytes` to a new device buffer; false (after a message) on error.
  bool upload(const std::vector<char> &bytes) {
    void *d = nullptr;
    if (Status s = dev->alloc(bytes.size(), d); !s) {
      std::fprintf(stderr, "attn-run: %s\n", s.message.c_str());
      return false;
    }
    ptrs.push_back(d);
    sizes.push_back(bytes.size());
    dev->copyToDevice(d, bytes.data(), bytes.size());
    return true;
  }
  /// Buffer `i` back on the host.
  std::vector<char> download(size_t i) {
    std::vector<char> out(sizes[i]);
    dev->copyToHost(out.data(), ptrs[i], out.size());
    return out;
  }
};

/// max |got - want| / max |want| over every element, and whether all of
/// `got` is finite.
std::pair<double, bool> compare(const std::string &dtype,
                                const std::vector<char> &got,
                                const std::vector<double> &want) {
  double maxRef = 0, maxErr = 0;
  bool finite = true;
  for (size_t i = 0; i < want.size(); ++i) {
    double g = decode(dtype, got.data(), i);
    finite &= std::isfinite(g);
    maxRef = std::max(maxRef, std::fabs(want[i]));
    maxErr = std::max(maxErr, std::fabs(g - want[i]));
  }
  return {maxErr / std::max(maxRef, 1e-30), finite};
}

/// "attn-run: <module>: <message>", the module named once (the runtime's
/// own messages start with it).
void reportError(const rt::KernelModule &m, const Status &st) {
  bool named = st.message.rfind(m.name() + ":", 0) == 0;
  std::fprintf(stderr, "attn-run: %s%s%s\n", named ? "" : m.name().c_str(),
               named ? "" : ": ", st.message.c_str());
}

/// Waits for a launch's kernels; reports a failure of either.
bool finished(rt::Device *dev, const rt::KernelModule &m, Status st) {
  if (st)
    st = dev->synchronize();
  if (!st)
    reportError(m, st);
  return bool(st);
}

int runCacheUpdate(rt::Device *dev, rt::KernelModule &m, const Options &o) {
  const int64_t B = o.batch, T = o.tokens, C = o.cache;
  const int64_t s = m.info()["time_stride"].i64();
  std::mt19937 rng(o.seed);
  std::uniform_real_distribution<double> uni(-1.0, 1.0);
  run::Tensors host;
  DeviceBuffers buffers{dev, {}, {}};
  std::string dtype = m.info()["dtype"].str();
  // Tokens already seen: every new token still lands inside the capacity,
  // some sequences start mid-slot.
  int64_t maxLen = std::max<int64_t>(0, C * s - T);
  for (const rt::TensorSpec &t : m.inputs()) {
    size_t n = size_t(t.elements(B, T, C, 1));
    std::vector<double> v(n);
    for (size_t i = 0; i < n; ++i)
      v[i] = t.name == "lengths"
                 ? double(o.mixed ? (int64_t(i) * 37 + 5) % (maxLen + 1)
                                  : maxLen)
                 : uni(rng);
    std::vector<char> bytes;
    encode(t.dtype, v, bytes, host[t.name]);
    if (!buffers.upload(bytes))
      return 1;
  }
  if (!finished(dev, m, m.run(buffers.ptrs, B, T, C)))
    return 1;
  std::vector<double> want = run::referenceCacheUpdate(m.info(), host, B, T, C);
  auto [rel, finite] = compare(dtype, buffers.download(0), want);
  double tol = dtype == "f32" ? 1e-6 : 1e-2;
  bool ok = finite && rel <= tol;
  std::printf("%-24s B=%-4lld T=%-5lld C=%-6lld stride=%lld %-5s err=%.2e "
              "tol=%.0e %s\n",
              m.name().c_str(), (long long)B, (long long)T, (long long)C,
              (long long)s, dtype.c_str(), rel, tol, ok ? "PASS" : "FAIL");
  return ok ? 0 : 1;
}

/// --dry-run: the module's launches for these sizes, one line each.
int planModule(run::DryRunDevice &dev, rt::KernelModule &m, const Options &o,
               int64_t L) {
  const int64_t B = o.batch, Tq = o.tokens;
  int64_t S = 1;
  if (m.op() == "attention") {
    S = o.splits ? o.splits : m.chooseSplits(B, Tq, L);
    if (Status s = m.setCombine(o.combine); !s) {
      std::fprintf(stderr, "attn-run: %s\n", s.message.c_str());
      return 1;
    }
  }
  // The per-launch flags among the size arguments (the forward's `merge`
  // and `normalise`), read in the manifest's argument order.
  dev.describe = [&](const std::string &kernel, void **params) {
    std::string flags;
    const rt::Json &ks = m.info()["kernels"];
    for (size_t k = 0; k < ks.size(); ++k) {
      if (ks[k]["name"].str() != kernel)
        continue;
      const rt::Json &args = ks[k]["args"];
      size_t at = 0;
      for (size_t a = 0; a < args.size(); ++a) {
        const std::string &kind = args[a]["kind"].str();
        if (kind == "tensor") {
          at += rt::kTensorArgWords;
        } else if (kind == "size") {
          const std::string &name = args[a]["name"].str();
          if (name == "merge" || name == "normalise")
            flags += "  " + name + "=" +
                     std::to_string(*static_cast<int64_t *>(params[at]));
          ++at;
        }
      }
    }
    return flags;
  };
  dev.launches.clear();
  std::vector<void *> buffers(m.inputs().size(), nullptr);
  for (void *&p : buffers)
    dev.alloc(1, p); // stand-ins: launches only record their arguments
  if (Status s = m.run(buffers, B, Tq, L, o.splits); !s) {
    reportError(m, s);
    return 1;
  }
  std::printf("%s B=%lld Tq=%lld L=%lld S=%lld\n", m.name().c_str(),
              (long long)B, (long long)Tq, (long long)L, (long long)S);
  for (const run::DryRunDevice::Launch &l : dev.launches) {
    std::printf(
        "  %-12s grid %lld %lld %lld  block %lld  dynamic shared %lld%s%s%s",
        l.kernel.c_str(), (long long)l.grid[0], (long long)l.grid[1],
        (long long)l.grid[2], (long long)l.block[0], (long long)l.sharedBytes,
        *l.how ? "  " : "", l.how, l.flags.c_str());
    if (l.streamed)
      std::printf("  l2-streaming %zu", l.streamed);
    std::printf("\n");
  }
  return 0;
}

int runModule(rt::Device *dev, rt::KernelModule &m, const Options &o) {
  const int64_t L =
      m.info()["mask"].str() == "stride_aware_causal" ? o.tokens : o.cache;
  if (o.dryRun)
    return planModule(*static_cast<run::DryRunDevice *>(dev), m, o, L);
  if (m.op() == "cache_update")
    return runCacheUpdate(dev, m, o);
  const int64_t B = o.batch, Tq = o.tokens;
  std::mt19937 rng(o.seed);
  std::uniform_real_distribution<double> uni(-1.0, 1.0);
  run::Tensors host;
  DeviceBuffers buffers{dev, {}, {}};
  std::string dtype = m.info()["dtype"].str();
  int64_t cacheBytes = 0;
  // Mixed lengths: every sequence keeps at least Tq rows.
  auto length = [&](int64_t b) {
    return o.mixed ? std::max<int64_t>(Tq, L - (b * 37) %
                                                   std::max<int64_t>(1, L / 2))
                   : L;
  };
  bool lengths =
      std::any_of(m.inputs().begin(), m.inputs().end(),
                  [](const rt::TensorSpec &t) { return t.name == "seq_lens"; });
  for (const rt::TensorSpec &t : m.inputs()) {
    size_t n = size_t(t.elements(B, Tq, L, 1));
    std::vector<double> v(n);
    bool cache = t.name == "keys" || t.name == "values" || t.name == "rows" ||
                 t.name == "rope_keys";
    if (t.name == "seq_lens") {
      for (int64_t b = 0; b < B; ++b)
        v[b] = double(length(b));
    } else if (t.name != "out") {
      for (double &x : v)
        x = uni(rng);
    }
    // Cache rows past a sequence's length are NaN ([B, L, ...]): a kernel
    // that lets one into a result, even times a zero probability, fails.
    if (cache && lengths)
      for (size_t i = 0; i < n; ++i) {
        size_t perB = n / size_t(B), perRow = perB / size_t(L);
        if (int64_t(i % perB / perRow) >= length(int64_t(i / perB)))
          v[i] = std::nan("");
      }
    std::vector<char> bytes;
    if (t.name == "out")
      bytes.assign(n * t.elementBytes(), char(0xFF)); // poison: NaN
    else
      encode(t.dtype, v, bytes, host[t.name]);
    if (cache)
      cacheBytes += int64_t(bytes.size());
    if (!buffers.upload(bytes))
      return 1;
  }
  int64_t S = o.splits ? o.splits : m.chooseSplits(B, Tq, L);
  if (Status s = m.setCombine(o.combine); !s) {
    std::fprintf(stderr, "attn-run: %s\n", s.message.c_str());
    return 1;
  }
  if (!finished(dev, m, m.run(buffers.ptrs, B, Tq, L, S)))
    return 1;
  std::vector<double> want = run::referenceAttention(m.info(), host, B, Tq, L);
  auto [rel, finite] = compare(dtype, buffers.download(m.inputs().size() - 1),
                               want);
  double tol = dtype == "f32" ? 1e-4 : 1e-2;
  bool ok = finite && rel <= tol;
  float ms = 0;
  if (o.iters > 0) {
    dev->time([&] { return m.run(buffers.ptrs, B, Tq, L, S); }, int(o.iters),
              ms);
    // Once more behind the timed launches, into a poisoned output: the
    // arrival counters (grid_merge, combine_slices) must be back at zero,
    // or some rows would keep the poison.
    size_t outIndex = m.inputs().size() - 1;
    std::vector<char> poison(buffers.sizes[outIndex], char(0xFF));
    dev->copyToDevice(buffers.ptrs[outIndex], poison.data(), poison.size());
    if (!finished(dev, m, m.run(buffers.ptrs, B, Tq, L, S)))
      return 1;
    auto [again, againFinite] =
        compare(dtype, buffers.download(outIndex), want);
    ok &= againFinite && again <= tol;
    rel = std::max(rel, again);
    finite &= againFinite;
  }
  std::printf("%-24s B=%-4lld Tq=%-4lld L=%-6lld S=%-3lld %-4s %-5s "
              "err=%.2e tol=%.0e %s  %9.2f us  %8.1f GB/s\n",
              m.name().c_str(), (long long)B, (long long)Tq, (long long)L,
              (long long)S,
              m.mergesInGrid(B, Tq, S)       ? "grid"
              : m.combinesRows(B, Tq, S)     ? "rows"
              : m.combinesInSlices(B, Tq, S) ? "slices"
              : m.combinesWide(B, Tq, S)     ? "wide"
                                             : "row",
              dtype.c_str(), rel, tol,
              ok ? "PASS" : (finite ? "FAIL" : "FAIL(non-finite)"), ms * 1e3,
              ms > 0 ? cacheBytes / (ms * 1e-3) / 1e9 : 0.0);
  return ok ? 0 : 1;
}

/// The manifest's target ("sm_90a"), for the dry run's stand-in GPU; empty
/// where the manifest cannot be read (Artifact::open then says why).
std::string manifestTarget(const std::string &dir) {
  std::ifstream in(dir + "/manifest.json");
  std::stringstream text;
  text << in.rdbuf();
  rt::Json m;
  std::string error;
  return rt::Json::parse(text.str(), m, error) ? m["target"].str()
                                               : std::string();
}
} // namespace

int main(int argc, char **argv) {
  Options o = parse(argc, argv);
  std::unique_ptr<run::DryRunDevice> stand;
  if (o.dryRun)
    stand = std::make_unique<run::DryRunDevice>(manifestTarget(o.dir),
                                                int(o.dryRun));
  std::unique_ptr<rt::Artifact> art;
  if (Status s = rt::Artifact::open(o.dir, art, stand.get()); !s) {
    std::fprintf(stderr, "attn-run: %s\n", s.message.c_str());
    return 1;
  }
  rt::Device *dev = stand.get();
  if (!dev)
    rt::Device::get(art->modules().empty()
                        ? "nvidia"
                        : art->modules()[0]->info()["vendor"].str(),
                    dev);
  int failures = 0, ran = 0;
  for (auto &m : art->modules()) {
    if (!o.module.empty() && m->name() != o.module && m->function() != o.module)
      continue;
    ++ran;
    failures += runModule(dev, *m, o);
  }
  if (!ran) {
    std::fprintf(stderr, "attn-run: no module named '%s'\n", o.module.c_str());
    return 1;
  }
  return failures ? 1 : 0;
}
