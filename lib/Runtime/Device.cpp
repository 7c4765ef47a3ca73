//===- Device.cpp - the CUDA driver and HIP, opened with dlopen -----------===//
//
// Only the handful of driver entry points the runtime needs, declared here
// with their C ABI so no GPU SDK is needed to build.
//
//===----------------------------------------------------------------------===//
#include "attn/Runtime/Runtime.h"

#include <algorithm>
#include <cstring>
#include <dlfcn.h>
#include <mutex>

namespace attn::rt {
namespace {

using Result = int; // CUresult / hipError_t: 0 is success

template <typename F> bool bind(void *lib, const char *name, F &fn) {
  fn = reinterpret_cast<F>(dlsym(lib, name));
  return fn != nullptr;
}

//===----------------------------------------------------------------------===//
// CUDA driver API
//===----------------------------------------------------------------------===//
class CudaDevice final : public Device {
public:
  static Status open(std::unique_ptr<Device> &out) {
    void *lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!lib)
      return Status::error("no CUDA driver: cannot open libcuda.so.1 (" +
                           std::string(dlerror()) + ")");
    auto d = std::make_unique<CudaDevice>();
    bool ok = bind(lib, "cuInit", d->cuInit) &&
              bind(lib, "cuDeviceGetCount", d->cuDeviceGetCount) &&
              bind(lib, "cuDeviceGet", d->cuDeviceGet) &&
              bind(lib, "cuDeviceGetAttribute", d->cuDeviceGetAttribute) &&
              bind(lib, "cuDevicePrimaryCtxRetain", d->cuDevicePrimaryCtxRetain) &&
              bind(lib, "cuCtxSetCurrent", d->cuCtxSetCurrent) &&
              bind(lib, "cuModuleLoadData", d->cuModuleLoadData) &&
              bind(lib, "cuModuleGetFunction", d->cuModuleGetFunction) &&
              bind(lib, "cuLaunchKernel", d->cuLaunchKernel) &&
              bind(lib, "cuMemAlloc_v2", d->cuMemAlloc) &&
              bind(lib, "cuMemFree_v2", d->cuMemFree) &&
              bind(lib, "cuMemcpyHtoD_v2", d->cuMemcpyHtoD) &&
              bind(lib, "cuMemcpyDtoH_v2", d->cuMemcpyDtoH) &&
              bind(lib, "cuCtxSynchronize", d->cuCtxSynchronize) &&
              bind(lib, "cuEventCreate", d->cuEventCreate) &&
              bind(lib, "cuEventRecord", d->cuEventRecord) &&
              bind(lib, "cuEventSynchronize", d->cuEventSynchronize) &&
              bind(lib, "cuEventElapsedTime", d->cuEventElapsedTime) &&
              bind(lib, "cuEventDestroy_v2", d->cuEventDestroy) &&
              bind(lib, "cuGetErrorString", d->cuGetErrorString) &&
              bind(lib, "cuOccupancyMaxActiveBlocksPerMultiprocessor",
                   d->cuOccupancy) &&
              bind(lib, "cuFuncSetAttribute", d->cuFuncSetAttribute);
    if (!ok)
      return Status::error("the CUDA driver lacks an entry point the runtime "
                           "needs (driver too old?)");
    bind(lib, "cuLaunchCooperativeKernel", d->cuLaunchCooperativeKernel);
    bind(lib, "cuLaunchKernelEx", d->cuLaunchKernelEx);
    bind(lib, "cuTensorMapEncodeTiled", d->cuTensorMapEncodeTiled);
    bind(lib, "cuModuleGetGlobal_v2", d->cuModuleGetGlobal);
    if (Status s = d->check(d->cuInit(0), "cuInit"); !s)
      return s;
    int count = 0;
    if (Status s = d->check(d->cuDeviceGetCount(&count), "cuDeviceGetCount"); !s)
      return s;
    if (count == 0)
      return Status::error("no CUDA device: the driver reports none");
    if (Status s = d->check(d->cuDeviceGet(&d->device, 0), "cuDeviceGet"); !s)
      return s;
    if (Status s = d->check(d->cuDevicePrimaryCtxRetain(&d->context, d->device),
                            "cuDevicePrimaryCtxRetain");
        !s)
      return s;
    int major = 0, minor = 0;
    d->cuDeviceGetAttribute(&major, 75, d->device); // COMPUTE_CAPABILITY_MAJOR
    d->cuDeviceGetAttribute(&minor, 76, d->device); // COMPUTE_CAPABILITY_MINOR
    d->cuDeviceGetAttribute(&d->sms, 16, d->device); // MULTIPROCESSOR_COUNT
    // MAX_ACCESS_POLICY_WINDOW_SIZE (0 where the device has none).
    d->cuDeviceGetAttribute(&d->maxWindow, 109, d->device);
    d->arch_ = "sm_" + std::to_string(major) + std::to_string(minor);
    out = std::move(d);
    return Status::success();
  }

  std::string arch() const override { return arch_; }
  int multiprocessors() const override { return sms; }
  int occupancy(void *fn, int threads, int64_t dynamicShared) override {
    int n = 0;
    if (cuOccupancy(&n, fn, threads, size_t(dynamicShared)) != 0 || n < 1)
      return 1;
    return n;
  }
  Status allowDynamicShared(void *fn, int64_t bytes) override {
    if (bytes <= 48 * 1024)
      return Status::success();
    int most = 0; // MAX_SHARED_MEMORY_PER_BLOCK_OPTIN
    cuDeviceGetAttribute(&most, 97, device);
    if (bytes > most)
      return Status::error("kernel needs " + std::to_string(bytes) +
                           " bytes of workgroup memory; " + arch_ +
                           " allows " + std::to_string(most));
    constexpr int kMaxDynamicShared = 8; // CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_...
    return check(cuFuncSetAttribute(fn, kMaxDynamicShared, int(bytes)),
                 "cuFuncSetAttribute(max dynamic shared memory)");
  }

  Status loadModule(const std::string &image, void *&module) override {
    if (Status s = current(); !s)
      return s;
    return check(cuModuleLoadData(&module, image.c_str()), "cuModuleLoadData");
  }
  Status getFunction(void *module, const std::string &name,
                     void *&fn) override {
    return check(cuModuleGetFunction(&fn, module, name.c_str()),
                 "cuModuleGetFunction(" + name + ")");
  }
  Status getGlobal(void *module, const std::string &name, void *&ptr,
                   size_t &bytes) override {
    if (!cuModuleGetGlobal)
      return Device::getGlobal(module, name, ptr, bytes);
    unsigned long long at = 0;
    if (Status s = check(cuModuleGetGlobal(&at, &bytes, module, name.c_str()),
                         "cuModuleGetGlobal(" + name + ")");
        !s)
      return s;
    ptr = reinterpret_cast<void *>(at);
    return Status::success();
  }
  Status launch(void *fn, const int64_t g[3], const int64_t b[3],
                int64_t shared, void *stream, void **params) override {
    if (Status s = current(); !s)
      return s;
    return check(cuLaunchKernel(fn, unsigned(g[0]), unsigned(g[1]),
                                unsigned(g[2]), unsigned(b[0]), unsigned(b[1]),
                                unsigned(b[2]), unsigned(shared), stream,
                                params, nullptr),
                 "cuLaunchKernel");
  }
  bool cooperativeLaunch() const override {
    return cuLaunchCooperativeKernel != nullptr;
  }
  Status launchCooperative(void *fn, const int64_t g[3], const int64_t b[3],
                           int64_t shared, void *stream,
                           void **params) override {
    if (!cuLaunchCooperativeKernel)
      return Device::launchCooperative(fn, g, b, shared, stream, params);
    if (Status s = current(); !s)
      return s;
    return check(cuLaunchCooperativeKernel(fn, unsigned(g[0]), unsigned(g[1]),
                                           unsigned(g[2]), unsigned(b[0]),
                                           unsigned(b[1]), unsigned(b[2]),
                                           unsigned(shared), stream, params),
                 "cuLaunchCooperativeKernel");
  }
  Status launchEarly(void *fn, const int64_t g[3], const int64_t b[3],
                     int64_t shared, void *stream, void **params) override {
    if (!cuLaunchKernelEx)
      return launch(fn, g, b, shared, stream, params);
    if (Status s = current(); !s)
      return s;
    LaunchAttribute early{};
    early.id = kProgrammaticStreamSerialization;
    early.value.programmaticStreamSerializationAllowed = 1;
    return check(launchEx(fn, g, b, shared, stream, params, &early, 1),
                 "cuLaunchKernelEx(programmatic stream serialization)");
  }
  Status launchStreaming(void *fn, const int64_t g[3], const int64_t b[3],
                         int64_t shared, void *stream, void **params,
                         bool cooperative, const void *base,
                         size_t bytes) override {
    if (!cuLaunchKernelEx || maxWindow <= 0 || !bytes)
      return Device::launchStreaming(fn, g, b, shared, stream, params,
                                     cooperative, base, bytes);
    if (Status s = current(); !s)
      return s;
    // cuda.h's CUaccessPolicyWindow: every line of the window streaming.
    struct AccessPolicyWindow {
      const void *base;
      size_t bytes;
      float hitRatio;
      int hitProp, missProp;
    } window{base, std::min(bytes, size_t(maxWindow)), 1.0f, kAccessStreaming,
             kAccessStreaming};
    LaunchAttribute attrs[2]{};
    attrs[0].id = kAccessPolicyWindow;
    static_assert(sizeof(window) <= sizeof(attrs[0].value.bytes),
                  "CUaccessPolicyWindow in CUlaunchAttributeValue");
    std::memcpy(attrs[0].value.bytes, &window, sizeof(window));
    attrs[1].id = kCooperative;
    attrs[1].value.cooperative = 1;
    // The window is a hint: where the driver refuses it, the plain launch
    // (which reports any error of its own).
    if (launchEx(fn, g, b, shared, stream, params, attrs,
                 cooperative ? 2 : 1) == 0)
      return Status::success();
    return Device::launchStreaming(fn, g, b, shared, stream, params,
                                   cooperative, base, 0);
  }
  Status encodeTensorMap(const TensorMapRequest &r, void *map) override {
    if (!cuTensorMapEncodeTiled)
      return Status::error("the CUDA driver has no cuTensorMapEncodeTiled "
                           "(needs CUDA 12)");
    // cuda.h's CUtensorMapDataType, ...Swizzle, ...L2promotion values.
    int dtype = r.dtype == "bf16" ? 9 : r.dtype == "f16" ? 6 : -1;
    int swizzle = r.swizzle == 0     ? 0
                  : r.swizzle == 32  ? 1
                  : r.swizzle == 64  ? 2
                  : r.swizzle == 128 ? 3
                                     : -1;
    if (dtype < 0 || swizzle < 0)
      return Status::error("no tensor map of " + r.dtype + " with a " +
                           std::to_string(r.swizzle) + "-byte swizzle");
    constexpr int kInterleaveNone = 0, kL2Promotion256B = 3, kOobZero = 0;
    std::vector<unsigned> ones(r.dims.size(), 1);
    return check(cuTensorMapEncodeTiled(
                     map, dtype, unsigned(r.dims.size()), r.address,
                     r.dims.data(), r.strides.data(), r.box.data(), ones.data(),
                     kInterleaveNone, swizzle, kL2Promotion256B, kOobZero),
                 "cuTensorMapEncodeTiled");
  }
  Status alloc(size_t bytes, void *&ptr) override {
    if (Status s = current(); !s)
      return s;
    unsigned long long p = 0;
    Status s = check(cuMemAlloc(&p, bytes), "cuMemAlloc");
    ptr = reinterpret_cast<void *>(p);
    return s;
  }
  Status free(void *ptr) override {
    return check(cuMemFree(reinterpret_cast<unsigned long long>(ptr)),
                 "cuMemFree");
  }
  Status copyToDevice(void *dst, const void *src, size_t bytes) override {
    return check(cuMemcpyHtoD(reinterpret_cast<unsigned long long>(dst), src,
                              bytes),
                 "cuMemcpyHtoD");
  }
  Status copyToHost(void *dst, const void *src, size_t bytes) override {
    return check(cuMemcpyDtoH(dst, reinterpret_cast<unsigned long long>(src),
                              bytes),
                 "cuMemcpyDtoH");
  }
  Status synchronize() override {
    return check(cuCtxSynchronize(), "cuCtxSynchronize");
  }
  Status time(const std::function<Status()> &body, int iters,
              float &ms) override {
    void *start = nullptr, *stop = nullptr;
    if (Status s = check(cuEventCreate(&start, 0), "cuEventCreate"); !s)
      return s;
    if (Status s = check(cuEventCreate(&stop, 0), "cuEventCreate"); !s)
      return s;
    Status s = check(cuEventRecord(start, nullptr), "cuEventRecord");
    for (int i = 0; s && i < iters; ++i)
      s = body();
    if (s)
      s = check(cuEventRecord(stop, nullptr), "cuEventRecord");
    if (s)
      s = check(cuEventSynchronize(stop), "cuEventSynchronize");
    if (s)
      s = check(cuEventElapsedTime(&ms, start, stop), "cuEventElapsedTime");
    ms /= float(iters);
    cuEventDestroy(start);
    cuEventDestroy(stop);
    return s;
  }

private:
  Status check(Result r, const std::string &what) {
    if (r == 0)
      return Status::success();
    const char *msg = nullptr;
    cuGetErrorString(r, &msg);
    return Status::error(what + " failed: " + (msg ? msg : "unknown error") +
                         " (" + std::to_string(r) + ")");
  }
  Status current() { return check(cuCtxSetCurrent(context), "cuCtxSetCurrent"); }

  int device = 0, sms = 0;
  void *context = nullptr;
  int maxWindow = 0;
  std::string arch_;
  Result (*cuInit)(unsigned);
  Result (*cuDeviceGetCount)(int *);
  Result (*cuDeviceGet)(int *, int);
  Result (*cuDeviceGetAttribute)(int *, int, int);
  Result (*cuDevicePrimaryCtxRetain)(void **, int);
  Result (*cuCtxSetCurrent)(void *);
  Result (*cuModuleLoadData)(void **, const void *);
  Result (*cuModuleGetFunction)(void **, void *, const char *);
  Result (*cuModuleGetGlobal)(unsigned long long *, size_t *, void *,
                              const char *) = nullptr;
  Result (*cuLaunchKernel)(void *, unsigned, unsigned, unsigned, unsigned,
                           unsigned, unsigned, unsigned, void *, void **,
                           void **);
  Result (*cuLaunchCooperativeKernel)(void *, unsigned, unsigned, unsigned,
                                      unsigned, unsigned, unsigned, unsigned,
                                      void *, void **) = nullptr;
  // cuda.h's CUlaunchAttribute and CUlaunchConfig, as laid out there.
  static constexpr int kAccessPolicyWindow = 1, kCooperative = 2,
                       kProgrammaticStreamSerialization = 6;
  static constexpr int kAccessStreaming = 1; // CU_ACCESS_PROPERTY_STREAMING
  struct LaunchAttribute {
    int id;
    char pad[8 - sizeof(int)];
    union {
      char bytes[64];
      int cooperative;
      int programmaticStreamSerializationAllowed;
    } value;
  };
  struct LaunchConfig {
    unsigned gridX, gridY, gridZ, blockX, blockY, blockZ, sharedBytes;
    void *stream;
    LaunchAttribute *attrs;
    unsigned numAttrs;
  };
  static_assert(sizeof(LaunchAttribute) == 72 && sizeof(LaunchConfig) == 56,
                "CUlaunchAttribute / CUlaunchConfig layout");
  Result (*cuLaunchKernelEx)(const LaunchConfig *, void *, void **,
                             void **) = nullptr;
  /// cuLaunchKernelEx of `fn` with the `n` attributes at `attrs`.
  Result launchEx(void *fn, const int64_t g[3], const int64_t b[3],
                  int64_t shared, void *stream, void **params,
                  LaunchAttribute *attrs, unsigned n) {
    LaunchConfig config{unsigned(g[0]),
                        unsigned(g[1]),
                        unsigned(g[2]),
                        unsigned(b[0]),
                        unsigned(b[1]),
                        unsigned(b[2]),
                        unsigned(shared),
                        stream,
                        attrs,
                        n};
    return cuLaunchKernelEx(&config, fn, params, nullptr);
  }
  Result (*cuTensorMapEncodeTiled)(void *, int, unsigned, void *,
                                   const uint64_t *, const uint64_t *,
                                   const unsigned *, const unsigned *, int, int,
                                   int, int) = nullptr;
  Result (*cuMemAlloc)(unsigned long long *, size_t);
  Result (*cuMemFree)(unsigned long long);
  Result (*cuMemcpyHtoD)(unsigned long long, const void *, size_t);
  Result (*cuMemcpyDtoH)(void *, unsigned long long, size_t);
  Result (*cuCtxSynchronize)();
  Result (*cuEventCreate)(void **, unsigned);
  Result (*cuEventRecord)(void *, void *);
  Result (*cuEventSynchronize)(void *);
  Result (*cuEventElapsedTime)(float *, void *, void *);
  Result (*cuEventDestroy)(void *);
  Result (*cuGetErrorString)(Result, const char **);
  Result (*cuOccupancy)(int *, void *, int, size_t);
  Result (*cuFuncSetAttribute)(void *, int, int);
};

//===----------------------------------------------------------------------===//
// HIP (AMD)
//===----------------------------------------------------------------------===//
class HipDevice final : public Device {
public:
  static Status open(std::unique_ptr<Device> &out) {
    void *lib = dlopen("libamdhip64.so", RTLD_NOW | RTLD_LOCAL);
    if (!lib)
      return Status::error("no HIP runtime: cannot open libamdhip64.so (" +
                           std::string(dlerror()) + ")");
    auto d = std::make_unique<HipDevice>();
    bool ok = bind(lib, "hipGetDeviceCount", d->hipGetDeviceCount) &&
              bind(lib, "hipSetDevice", d->hipSetDevice) &&
              bind(lib, "hipDeviceGetAttribute", d->hipDeviceGetAttribute) &&
              bind(lib, "hipModuleLoadData", d->hipModuleLoadData) &&
              bind(lib, "hipModuleGetFunction", d->hipModuleGetFunction) &&
              bind(lib, "hipModuleLaunchKernel", d->hipModuleLaunchKernel) &&
              bind(lib, "hipMalloc", d->hipMalloc) &&
              bind(lib, "hipFree", d->hipFree) &&
              bind(lib, "hipMemcpy", d->hipMemcpy) &&
              bind(lib, "hipDeviceSynchronize", d->hipDeviceSynchronize) &&
              bind(lib, "hipEventCreate", d->hipEventCreate) &&
              bind(lib, "hipEventRecord", d->hipEventRecord) &&
              bind(lib, "hipEventSynchronize", d->hipEventSynchronize) &&
              bind(lib, "hipEventElapsedTime", d->hipEventElapsedTime) &&
              bind(lib, "hipEventDestroy", d->hipEventDestroy) &&
              bind(lib, "hipGetErrorString", d->hipGetErrorString) &&
              bind(lib, "hipModuleOccupancyMaxActiveBlocksPerMultiprocessor",
                   d->hipOccupancy);
    if (!ok)
      return Status::error("the HIP runtime lacks an entry point the runtime "
                           "needs");
    int count = 0;
    if (Status s = d->check(d->hipGetDeviceCount(&count), "hipGetDeviceCount");
        !s)
      return s;
    if (count == 0)
      return Status::error("no AMD GPU: HIP reports none");
    if (Status s = d->check(d->hipSetDevice(0), "hipSetDevice"); !s)
      return s;
    d->hipDeviceGetAttribute(&d->sms, 16, 0); // MultiprocessorCount
    out = std::move(d);
    return Status::success();
  }
  // The gfx name comes from hipDeviceProp_t, whose layout varies by release;
  // the loader rejects a mismatched code object with its own error instead.
  std::string arch() const override { return "gfx"; }
  int multiprocessors() const override { return sms; }
  int occupancy(void *fn, int threads, int64_t dynamicShared) override {
    int n = 0;
    if (hipOccupancy(&n, fn, threads, size_t(dynamicShared)) != 0 || n < 1)
      return 1;
    return n;
  }
  // No AMD kernel uses dynamic workgroup memory yet; the launch reports an
  // over-budget request itself.
  Status allowDynamicShared(void *, int64_t) override {
    return Status::success();
  }
  Status loadModule(const std::string &image, void *&module) override {
    return check(hipModuleLoadData(&module, image.data()), "hipModuleLoadData");
  }
  Status getFunction(void *module, const std::string &name,
                     void *&fn) override {
    return check(hipModuleGetFunction(&fn, module, name.c_str()),
                 "hipModuleGetFunction(" + name + ")");
  }
  Status launch(void *fn, const int64_t g[3], const int64_t b[3],
                int64_t shared, void *stream, void **params) override {
    return check(hipModuleLaunchKernel(fn, unsigned(g[0]), unsigned(g[1]),
                                       unsigned(g[2]), unsigned(b[0]),
                                       unsigned(b[1]), unsigned(b[2]),
                                       unsigned(shared), stream, params,
                                       nullptr),
                 "hipModuleLaunchKernel");
  }
  Status alloc(size_t bytes, void *&ptr) override {
    return check(hipMalloc(&ptr, bytes), "hipMalloc");
  }
  Status free(void *ptr) override { return check(hipFree(ptr), "hipFree"); }
  Status copyToDevice(void *dst, const void *src, size_t bytes) override {
    return check(hipMemcpy(dst, src, bytes, 1), "hipMemcpy"); // HostToDevice
  }
  Status copyToHost(void *dst, const void *src, size_t bytes) override {
    return check(hipMemcpy(dst, src, bytes, 2), "hipMemcpy"); // DeviceToHost
  }
  Status synchronize() override {
    return check(hipDeviceSynchronize(), "hipDeviceSynchronize");
  }
  Status time(const std::function<Status()> &body, int iters,
              float &ms) override {
    void *start = nullptr, *stop = nullptr;
    hipEventCreate(&start);
    hipEventCreate(&stop);
    Status s = check(hipEventRecord(start, nullptr), "hipEventRecord");
    for (int i = 0; s && i < iters; ++i)
      s = body();
    if (s)
      s = check(hipEventRecord(stop, nullptr), "hipEventRecord");
    if (s)
      s = check(hipEventSynchronize(stop), "hipEventSynchronize");
    if (s)
      s = check(hipEventElapsedTime(&ms, start, stop), "hipEventElapsedTime");
    ms /= float(iters);
    hipEventDestroy(start);
    hipEventDestroy(stop);
    return s;
  }

private:
  Status check(Result r, const std::string &what) {
    if (r == 0)
      return Status::success();
    const char *msg = hipGetErrorString(r);
    return Status::error(what + " failed: " + (msg ? msg : "unknown error"));
  }
  int sms = 0;
  Result (*hipGetDeviceCount)(int *);
  Result (*hipSetDevice)(int);
  Result (*hipDeviceGetAttribute)(int *, int, int);
  Result (*hipModuleLoadData)(void **, const void *);
  Result (*hipModuleGetFunction)(void **, void *, const char *);
  Result (*hipModuleLaunchKernel)(void *, unsigned, unsigned, unsigned,
                                  unsigned, unsigned, unsigned, unsigned,
                                  void *, void **, void **);
  Result (*hipMalloc)(void **, size_t);
  Result (*hipFree)(void *);
  Result (*hipMemcpy)(void *, const void *, size_t, int);
  Result (*hipDeviceSynchronize)();
  Result (*hipEventCreate)(void **);
  Result (*hipEventRecord)(void *, void *);
  Result (*hipEventSynchronize)(void *);
  Result (*hipEventElapsedTime)(float *, void *, void *);
  Result (*hipEventDestroy)(void *);
  const char *(*hipGetErrorString)(Result);
  Result (*hipOccupancy)(int *, void *, int, size_t);
};

} // namespace

Status Device::get(const std::string &vendor, Device *&out) {
  // One device per vendor per process, opened once.
  static std::mutex mutex;
  static std::map<std::string, std::unique_ptr<Device>> devices;
  std::lock_guard<std::mutex> lock(mutex);
  auto it = devices.find(vendor);
  if (it == devices.end()) {
    std::unique_ptr<Device> d;
    Status s = vendor == "nvidia" ? CudaDevice::open(d)
               : vendor == "amd"  ? HipDevice::open(d)
                                  : Status::error("unknown GPU vendor '" +
                                                  vendor + "'");
    if (!s)
      return s;
    it = devices.emplace(vendor, std::move(d)).first;
  }
  out = it->second.get();
  return Status::success();
}

} // namespace attn::rt
