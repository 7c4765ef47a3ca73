//===- DryRunDevice.h - a stand-in GPU that records launches ----*- C++ -*-===//
//
// attn-run --dry-run N loads an artifact onto this device instead of the
// driver: it has N multiprocessors and the artifact's architecture, runs
// nothing, and records every kernel launch, so the runtime's choices (split
// count, which combine kernel, grids) can be printed and tested without a
// GPU. Occupancy is limited by threads (2048 per multiprocessor) and
// dynamic workgroup memory (an H100's 228 KiB), not by registers.
//
//===----------------------------------------------------------------------===//
#ifndef ATTN_TOOLS_ATTN_RUN_DRYRUNDEVICE_H
#define ATTN_TOOLS_ATTN_RUN_DRYRUNDEVICE_H

#include "attn/Runtime/Runtime.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <list>
#include <map>
#include <string>
#include <vector>

namespace attn::run {

class DryRunDevice final : public rt::Device {
public:
  struct Launch {
    std::string kernel;
    int64_t grid[3], block[3], sharedBytes;
    const char *how;   // "" (ordinary), "cooperative" or "early"
    std::string flags; // what `describe` made of the arguments
    size_t streamed = 0; // bytes marked as streaming in L2
  };
  /// Reads a launch's arguments (the runtime's `params`, only valid during
  /// the launch) into Launch::flags, where set.
  std::function<std::string(const std::string &kernel, void **params)> describe;
  /// `target` as in the manifest ("sm_90a", "gfx942").
  DryRunDevice(const std::string &target, int multiprocessors)
      : arch_(!target.empty() && target.back() == 'a'
                  ? target.substr(0, target.size() - 1)
                  : target),
        sms_(multiprocessors) {}
  ~DryRunDevice() override {
    for (void *p : buffers_)
      std::free(p);
  }
  std::vector<Launch> launches;

  std::string arch() const override { return arch_; }
  int multiprocessors() const override { return sms_; }
  int occupancy(void *, int threads, int64_t dynamicShared) override {
    int byThreads = threads > 0 ? 2048 / threads : 1;
    int byShared = int(kSharedPerSM / (dynamicShared + kSharedPerBlock));
    return std::max(1, std::min(byThreads, byShared));
  }
  rt::Status allowDynamicShared(void *, int64_t) override { return ok(); }
  rt::Status loadModule(const std::string &image, void *&module) override {
    images_.push_back(image);
    module = &images_.back();
    return ok();
  }
  /// A PTX module's global (`.global .align A .b8 name[bytes]`, as a
  /// trace-blocks build's records), as real zeroed host memory that the
  /// copies below read and write.
  rt::Status getGlobal(void *module, const std::string &name, void *&ptr,
                       size_t &bytes) override {
    const std::string &image = *static_cast<std::string *>(module);
    size_t at = image.find(".b8 " + name + "[");
    if (at == std::string::npos)
      return rt::Device::getGlobal(module, name, ptr, bytes);
    bytes = std::strtoull(image.c_str() + at + name.size() + 5, nullptr, 10);
    ptr = std::calloc(bytes, 1);
    buffers_.push_back(ptr);
    globals[name] = {ptr, bytes};
    return ok();
  }
  /// The globals handed out, by name.
  std::map<std::string, std::pair<void *, size_t>> globals;
  rt::Status getFunction(void *, const std::string &name, void *&fn) override {
    names_.push_back(name);
    fn = &names_.back();
    return ok();
  }
  rt::Status launch(void *fn, const int64_t grid[3], const int64_t block[3],
                    int64_t sharedBytes, void *, void **params) override {
    const std::string &kernel = *static_cast<std::string *>(fn);
    launches.push_back({kernel,
                        {grid[0], grid[1], grid[2]},
                        {block[0], block[1], block[2]},
                        sharedBytes,
                        "",
                        describe ? describe(kernel, params) : ""});
    return ok();
  }
  // As the CUDA driver: NVIDIA targets launch cooperatively.
  bool cooperativeLaunch() const override { return nvidia(); }
  rt::Status launchCooperative(void *fn, const int64_t grid[3],
                               const int64_t block[3], int64_t sharedBytes,
                               void *stream, void **params) override {
    if (rt::Status s = launch(fn, grid, block, sharedBytes, stream, params); !s)
      return s;
    launches.back().how = "cooperative";
    return ok();
  }
  // As the CUDA driver: NVIDIA targets may start a kernel early.
  rt::Status launchEarly(void *fn, const int64_t grid[3],
                         const int64_t block[3], int64_t sharedBytes,
                         void *stream, void **params) override {
    if (rt::Status s = launch(fn, grid, block, sharedBytes, stream, params); !s)
      return s;
    if (nvidia())
      launches.back().how = "early";
    return ok();
  }
  // As the CUDA driver: NVIDIA targets mark the bytes in an L2 access
  // policy window.
  rt::Status launchStreaming(void *fn, const int64_t grid[3],
                             const int64_t block[3], int64_t sharedBytes,
                             void *stream, void **params, bool cooperative,
                             const void *base, size_t bytes) override {
    if (rt::Status s =
            rt::Device::launchStreaming(fn, grid, block, sharedBytes, stream,
                                        params, cooperative, base, bytes);
        !s)
      return s;
    if (nvidia())
      launches.back().streamed = bytes;
    return ok();
  }
  // sm_90 and newer encode tensor maps (the runtime has checked them); the
  // bytes are never read.
  rt::Status encodeTensorMap(const rt::TensorMapRequest &, void *map) override {
    if (!nvidia() || std::atoi(arch_.c_str() + 3) < 90)
      return rt::Device::encodeTensorMap({}, map);
    std::fill_n(static_cast<unsigned char *>(map), 128, 0);
    return ok();
  }
  // Buffers are real host memory, one byte each: nothing reads them.
  rt::Status alloc(size_t, void *&ptr) override {
    ptr = std::malloc(1);
    buffers_.push_back(ptr);
    return ok();
  }
  rt::Status free(void *) override { return ok(); }
  rt::Status copyToDevice(void *dst, const void *src, size_t bytes) override {
    if (isGlobal(dst))
      std::memcpy(dst, src, bytes);
    return ok();
  }
  rt::Status copyToHost(void *dst, const void *src, size_t bytes) override {
    if (isGlobal(src))
      std::memcpy(dst, src, bytes);
    return ok();
  }
  rt::Status synchronize() override { return ok(); }
  rt::Status time(const std::function<rt::Status()> &body, int,
                  float &ms) override {
    ms = 0;
    return body();
  }

private:
  bool nvidia() const { return arch_.rfind("sm_", 0) == 0; }
  // Workgroup memory of an H100 multiprocessor, and what each block
  // reserves of it.
  static constexpr int64_t kSharedPerSM = 228 * 1024, kSharedPerBlock = 1024;
  static rt::Status ok() { return rt::Status::success(); }
  std::string arch_;
  int sms_;
  std::list<std::string> names_; // stable addresses: the function handles
  std::list<std::string> images_; // and the modules
  bool isGlobal(const void *p) const {
    return std::any_of(globals.begin(), globals.end(),
                       [&](const auto &g) { return g.second.first == p; });
  }
  std::vector<void *> buffers_;
};

} // namespace attn::run

#endif // ATTN_TOOLS_ATTN_RUN_DRYRUNDEVICE_H
