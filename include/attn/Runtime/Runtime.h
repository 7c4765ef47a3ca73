//===- Runtime.h - load attn artifacts and launch their kernels -*- C++ -*-===//
//
// Loads the binaries and manifest that `attn-compile` writes and launches
// the fused attention kernels on device buffers. No MLIR or LLVM: the GPU
// driver (CUDA, or HIP for AMD) is opened with dlopen at run time, so this
// builds and links on machines without a GPU and fails with a clear message
// where there is no driver or device.
//
//===----------------------------------------------------------------------===//
#ifndef ATTN_RUNTIME_RUNTIME_H
#define ATTN_RUNTIME_RUNTIME_H

#include "attn/Runtime/Json.h"

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace attn::rt {

/// Success, or a message saying what went wrong and where.
struct Status {
  bool ok = true;
  std::string message;
  static Status success() { return {}; }
  static Status error(std::string m) { return {false, std::move(m)}; }
  explicit operator bool() const { return ok; }
};

class Device;

/// One tensor argument of a kernel as the manifest describes it.
struct TensorSpec {
  std::string name, dtype;
  std::vector<std::string> shape; // symbols (B, Tq, L, S) or numbers
  /// Element count for the given sizes.
  int64_t elements(int64_t B, int64_t Tq, int64_t L, int64_t S) const;
  size_t elementBytes() const;
};

/// A tensor map argument (TMA, sm_90): the runtime encodes a CUtensorMap
/// of one of the kernel's tensors per launch and passes its 128 bytes by
/// value.
struct TensorMapSpec {
  std::string tensor;       // the tensor argument it describes
  std::vector<int64_t> box; // elements per copy, per dimension of its shape
  int64_t swizzle = 0;      // bytes of the workgroup-memory swizzle (128)
};

/// Launch parameters a tensor argument takes (the memref1d ABI: allocated
/// and aligned pointers, offset, size, stride), each one 64-bit word; a
/// size takes one, then each tensor map its 128 bytes.
constexpr size_t kTensorArgWords = 5;

struct KernelSpec {
  std::string name;
  std::vector<TensorSpec> tensors; // in argument order
  std::vector<std::string> sizes;  // scalar size arguments, in order
  std::vector<TensorMapSpec> tensorMaps; // last, in order
  int64_t threads = 0, sharedBytes = 0;
  int64_t dynamicSharedBytes = 0; // passed at launch (tensor-core kernels)
};

/// The kernels of one attn op: `attention` (forward + combine) or
/// `cache_update` (one in-place update kernel).
class KernelModule {
public:
  /// "attention" or "cache_update".
  const std::string &op() const { return op_; }
  const Json &info() const { return info_; }
  const std::string &name() const { return name_; }
  const std::string &function() const { return function_; }
  /// The user-facing tensors, in the order `run` takes them. Attention: the
  /// forward kernel's inputs, the epilogue operands, then `out`. Cache
  /// update: cache (updated in place), rows, lengths, weights.
  const std::vector<TensorSpec> &inputs() const { return inputs_; }
  int64_t tileRows() const { return info_["tile_rows"].i64(); }
  /// The most splits the combine kernel merges.
  int64_t maxSplits() const {
    return info_.has("max_splits") ? info_["max_splits"].i64() : 64;
  }

  /// Launches the kernels on `buffers` (device pointers, in inputs() order,
  /// each 16-byte aligned: the kernels move up to 16 bytes at a time).
  /// Attention: batch B, Tq query tokens, L cache rows per sequence; `splits`
  /// = 0 picks the split count from the device's SM count. Cache update: B,
  /// Tq new tokens, L = the cache's capacity in slots.
  Status run(const std::vector<void *> &buffers, int64_t B, int64_t Tq,
             int64_t L, int64_t splits = 0, void *stream = nullptr);
  /// The split count `run` picks for these sizes.
  int64_t chooseSplits(int64_t B, int64_t Tq, int64_t L) const;

  /// Which combine kernel `run` launches: one block per batch row
  /// (PerRow), the same on more threads (Wide: combine_wide, where the
  /// manifest has it), or combine_rows (several batch rows per block
  /// sharing each load of the epilogue's weights, where the manifest has
  /// it). Auto picks by size.
  /// Grid: no combine kernel; the forward kernel, launched cooperatively,
  /// merges the splits itself (manifest grid_merge).
  /// Slices: each batch row's one-row combine in column slices on
  /// combine_wide's threads (combine_slices, where the manifest has it).
  /// LatentSlices: project_slices (16 batch rows and one latent slice of
  /// one head a block, where the manifest has it), the forward storing
  /// normalised rows.
  enum class Combine { Auto, PerRow, Rows, Wide, Grid, Slices, LatentSlices };
  /// Fixes the choice (tests, benchmarks); Rows needs combine_rows, Wide
  /// combine_wide, Slices combine_slices, Grid grid_merge and a driver with
  /// cooperative launches.
  Status setCombine(Combine c);
  /// Whether `run` merges S splits in the forward kernel for these sizes.
  bool mergesInGrid(int64_t B, int64_t Tq, int64_t S) const;
  /// Whether `run` launches combine_rows for these sizes and S splits (or,
  /// for few splits where the manifest has it, project_rows in its place).
  bool combinesRows(int64_t B, int64_t Tq, int64_t S) const;
  /// Whether `run` launches combine_wide (when not combine_rows) or, of
  /// that, combine_slices, after S splits.
  bool combinesWide(int64_t B, int64_t Tq, int64_t S) const;
  bool combinesInSlices(int64_t B, int64_t Tq, int64_t S) const;
  /// Whether `run` launches project_slices after S splits (in place of any
  /// other combine).
  bool projectsInSlices(int64_t B, int64_t Tq, int64_t S) const;
  /// Batch rows per project_slices block (its grid's z: ceildiv(B, this)).
  static constexpr int64_t kProjectSliceRows = 16;
  /// The bytes a row's merge and mat-vec read from which combine_wide pays
  /// off.
  static constexpr int64_t kWideRowBytes = 64 * 1024;
  /// Whether `run` lets combine_rows start while the forward kernel runs
  /// (manifest combine_rows_overlaps, and a forward grid of one wave: its
  /// blocks then all start before any of the combine's can).
  bool overlapsCombineRows(int64_t B, int64_t Tq, int64_t S) const;
  /// The most splits combine_rows merges (the tensor-core kind: 16).
  int64_t combineRowsMaxSplits() const;

private:
  /// Blocks of the one-row combine kernels for these sizes.
  int64_t oneRowBlocks(int64_t B, int64_t Tq) const;
  /// Bytes of one head's epilogue matrix in the combine (value_width x
  /// out_width of the storage type: up-projection, decoder, transform).
  int64_t headWeightBytes() const;
  /// combine_rows blocks per (token, batch block): the output heads times
  /// the blocks that split each head's columns (manifest
  /// combine_rows_slices).
  int64_t combineRowsHeadBlocks() const;
  /// project_slices' grid for these sizes.
  void projectSlicesGrid(int64_t B, int64_t Tq, int64_t grid[3]) const;
  /// Blocks of kernel `k` resident at once on the device (one wave).
  int64_t wave(const KernelSpec &k, void *fn) const;
  /// Whether every forward block for these sizes is resident at once: what
  /// the grid merge's blocks waiting for one another and the combine's
  /// early start both need.
  bool forwardFitsOneWave(int64_t B, int64_t Tq, int64_t S) const;
  friend class Artifact;
  Json info_;
  Status runAttention(const std::vector<void *> &buffers, int64_t B,
                      int64_t Tq, int64_t L, int64_t splits, void *stream);
  Status runCacheUpdate(const std::vector<void *> &buffers, int64_t B,
                        int64_t T, int64_t C, void *stream);
  /// How a kernel launches: every block resident at once (Cooperative),
  /// or allowed to start before the kernel before it ends (Early).
  enum class LaunchKind { Ordinary, Cooperative, Early };
  /// `streamed` (not with Early): the tensor argument marked as streaming
  /// in L2 (Device::launchStreaming).
  Status launch(const KernelSpec &k, void *fn, const int64_t grid[3],
                std::map<std::string, void *> &named,
                const std::map<std::string, int64_t> &sizes, void *stream,
                LaunchKind kind = LaunchKind::Ordinary,
                const std::string &streamed = "");
  std::string op_, name_, function_;
  KernelSpec fwd_, combine_, combineRows_, combineWide_, combineSlices_,
      projectRows_, projectSlices_;
  Combine combineChoice_ = Combine::Auto;
  std::vector<TensorSpec> inputs_;
  Device *device_ = nullptr;
  void *module_ = nullptr, *fwdFn_ = nullptr, *combineFn_ = nullptr,
       *combineRowsFn_ = nullptr, *combineWideFn_ = nullptr,
       *combineSlicesFn_ = nullptr, *projectRowsFn_ = nullptr,
       *projectSlicesFn_ = nullptr;
  void *workspace_ = nullptr;
  size_t workspaceBytes_ = 0;
  // A trace-blocks build's block records, one global per traced kernel
  // (attn/Runtime/TraceRecords.h): printed and cleared after each step.
  struct TraceGlobal {
    std::string kernel;
    void *ptr;
    size_t bytes;
  };
  std::vector<TraceGlobal> traces_;
  Status printTraces();
  // The arrival counters of grid_merge and combine_slices: zeroed once,
  // left at zero by every launch that counts.
  void *gridSync_ = nullptr;
  size_t gridSyncBytes_ = 0;
  /// Blocks of the forward kernel for these sizes, and its blocks of query
  /// rows per (batch row, group) (grid x).
  int64_t forwardBlocks(int64_t B, int64_t Tq, int64_t S) const;
  int64_t rowBlocks(int64_t Tq) const;
  /// A boolean of the manifest, false where absent (older artifacts).
  bool flag(const char *key) const;
  /// Grows `buffer` (`bytes` long) to at least `need` bytes, zeroed if
  /// asked; its contents are not kept.
  Status reserve(void *&buffer, size_t &bytes, size_t need, bool zeroed);
};

/// A directory written by attn-compile.
class Artifact {
public:
  /// Loads the artifact in `dir` onto `device`, by default the driver of
  /// the manifest's vendor (Device::get); a dry run passes a stand-in.
  static Status open(const std::string &dir, std::unique_ptr<Artifact> &out,
                     Device *device = nullptr);
  ~Artifact();
  const std::string &target() const { return target_; }
  std::vector<std::unique_ptr<KernelModule>> &modules() { return modules_; }
  /// By module name (e.g. mla_decode_attn0) or function name (mla_decode).
  KernelModule *find(const std::string &name);

private:
  std::string target_;
  std::vector<std::unique_ptr<KernelModule>> modules_;
  Device *device_ = nullptr;
};

/// What a tiled tensor map describes, innermost dimension first: a tensor
/// at `address` of 16-bit `dtype` ("bf16", "f16") elements, `dims`
/// elements per dimension, `strides` bytes between consecutive indices of
/// each dimension but the first (which is dense), copied in boxes of `box`
/// elements into workgroup memory in a `swizzle`-byte swizzle, elements
/// out of bounds read as zero.
struct TensorMapRequest {
  void *address = nullptr;
  std::string dtype;
  std::vector<uint64_t> dims, strides;
  std::vector<uint32_t> box;
  int64_t swizzle = 0;
};

/// The GPU behind the runtime: the CUDA driver or HIP, opened on first use.
class Device {
public:
  /// Opens the driver for `vendor` ("nvidia" or "amd") and device 0.
  static Status get(const std::string &vendor, Device *&out);
  virtual ~Device() = default;
  /// "sm_90" / "gfx942": what binaries this device runs.
  virtual std::string arch() const = 0;
  virtual int multiprocessors() const = 0;
  /// Blocks of `threads` threads of kernel `fn` resident per multiprocessor
  /// when each launches with `dynamicShared` bytes of workgroup memory.
  virtual int occupancy(void *fn, int threads, int64_t dynamicShared) = 0;
  /// Lets `fn` launch with `bytes` of dynamic workgroup memory (beyond the
  /// default 48 KiB where the device allows it).
  virtual Status allowDynamicShared(void *fn, int64_t bytes) = 0;
  virtual Status loadModule(const std::string &image, void *&module) = 0;
  /// The address and size of global `name` of a loaded module (a
  /// trace-blocks build's block records); an error where there is none.
  virtual Status getGlobal(void *module, const std::string &name, void *&ptr,
                           size_t &bytes) {
    return Status::error(arch() + ": no global '" + name + "'");
  }
  virtual Status getFunction(void *module, const std::string &name,
                             void *&fn) = 0;
  virtual Status launch(void *fn, const int64_t grid[3], const int64_t block[3],
                        int64_t sharedBytes, void *stream, void **params) = 0;
  /// Whether launchCooperative works here.
  virtual bool cooperativeLaunch() const { return false; }
  /// Launches `fn` with every block of the grid resident at once (the
  /// driver refuses a grid larger than that), as a kernel whose blocks wait
  /// for one another needs.
  virtual Status launchCooperative(void *fn, const int64_t grid[3],
                                   const int64_t block[3], int64_t sharedBytes,
                                   void *stream, void **params) {
    return Status::error(arch() + ": no cooperative launch");
  }
  /// Launches `fn` so that it may start while the kernel before it on
  /// `stream` still runs, once every block of that kernel has allowed it
  /// (programmatic dependent launch: griddepcontrol.launch_dependents
  /// there, griddepcontrol.wait in `fn` before it reads what that kernel
  /// writes). Where the driver cannot, an ordinary launch, which the wait
  /// then finds complete.
  virtual Status launchEarly(void *fn, const int64_t grid[3],
                             const int64_t block[3], int64_t sharedBytes,
                             void *stream, void **params) {
    return launch(fn, grid, block, sharedBytes, stream, params);
  }
  /// Launches `fn` as launch (or launchCooperative) does, with the `bytes`
  /// at `base` marked as streaming in L2 (evicted first: data the kernel
  /// reads once, which would otherwise evict what is read again). CUDA: an
  /// access policy window over the first bytes the device's window takes.
  /// Where the device has no such policy, the plain launch.
  virtual Status launchStreaming(void *fn, const int64_t grid[3],
                                 const int64_t block[3], int64_t sharedBytes,
                                 void *stream, void **params, bool cooperative,
                                 const void *base, size_t bytes) {
    return cooperative
               ? launchCooperative(fn, grid, block, sharedBytes, stream, params)
               : launch(fn, grid, block, sharedBytes, stream, params);
  }
  /// Encodes `r` into the 128 bytes at `map` (64-byte aligned): a
  /// CUtensorMap, passed to a kernel by value.
  virtual Status encodeTensorMap(const TensorMapRequest &r, void *map) {
    return Status::error(arch() + ": no tensor maps (TMA needs sm_90)");
  }
  virtual Status alloc(size_t bytes, void *&ptr) = 0;
  virtual Status free(void *ptr) = 0;
  virtual Status copyToDevice(void *dst, const void *src, size_t bytes) = 0;
  virtual Status copyToHost(void *dst, const void *src, size_t bytes) = 0;
  virtual Status synchronize() = 0;
  /// Runs `body` `iters` times between two events; mean milliseconds per run.
  virtual Status time(const std::function<Status()> &body, int iters,
                      float &ms) = 0;
};

} // namespace attn::rt

#endif // ATTN_RUNTIME_RUNTIME_H
