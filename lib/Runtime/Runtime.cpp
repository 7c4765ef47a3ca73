//===- Runtime.cpp - load attn artifacts and launch their kernels ---------===//
#include "attn/Runtime/Runtime.h"
#include "attn/Runtime/TraceRecords.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace attn::rt {

namespace {
Status readFile(const std::string &path, std::string &out) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return Status::error("cannot read '" + path + "'");
  std::ostringstream ss;
  ss << in.rdbuf();
  out = ss.str();
  return Status::success();
}

int64_t symbol(const std::string &s, const std::map<std::string, int64_t> &m) {
  auto it = m.find(s);
  return it != m.end() ? it->second : std::stoll(s);
}

/// Elements of `t` at `sizes`.
int64_t elementCount(const TensorSpec &t,
                     const std::map<std::string, int64_t> &sizes) {
  int64_t n = 1;
  for (const std::string &d : t.shape)
    n *= symbol(d, sizes);
  return n;
}

std::map<std::string, int64_t> sizeMap(int64_t B, int64_t Tq, int64_t L,
                                       int64_t S) {
  // Attention names the cache rows L and the query tokens Tq; a cache update
  // names its capacity C and its new tokens T.
  return {{"B", B}, {"Tq", Tq}, {"L", L}, {"S", S}, {"T", Tq}, {"C", L}};
}

KernelSpec kernelSpec(const Json &k) {
  KernelSpec spec;
  spec.name = k["name"].str();
  spec.threads = k["block"][0].i64();
  spec.sharedBytes = k["shared_bytes"].i64();
  if (k.has("dynamic_shared_bytes"))
    spec.dynamicSharedBytes = k["dynamic_shared_bytes"].i64();
  const Json &args = k["args"];
  for (size_t i = 0; i < args.size(); ++i) {
    const Json &a = args[i];
    if (a["kind"].str() == "size") {
      spec.sizes.push_back(a["name"].str());
      continue;
    }
    if (a["kind"].str() == "tensor_map") {
      TensorMapSpec m;
      m.tensor = a["tensor"].str();
      for (size_t d = 0; d < a["box"].size(); ++d)
        m.box.push_back(a["box"][d].i64());
      m.swizzle = a["swizzle"].i64();
      spec.tensorMaps.push_back(m);
      continue;
    }
    TensorSpec t;
    t.name = a["name"].str();
    t.dtype = a["dtype"].str();
    for (size_t d = 0; d < a["shape"].size(); ++d)
      t.shape.push_back(a["shape"][d].str());
    spec.tensors.push_back(t);
  }
  return spec;
}

/// The CUtensorMap of `m` over the kernel's tensor at `ptr`: the shape
/// reversed (innermost first), row-major byte strides, checked against
/// what TMA takes so that a bad tensor is named here rather than failing
/// inside the driver.
Status tensorMapRequest(const KernelSpec &k, const TensorMapSpec &m, void *ptr,
                        const std::map<std::string, int64_t> &sizes,
                        TensorMapRequest &r) {
  auto t =
      std::find_if(k.tensors.begin(), k.tensors.end(),
                   [&](const TensorSpec &t) { return t.name == m.tensor; });
  std::string where = k.name + ": tensor map of '" + m.tensor + "'";
  if (t == k.tensors.end() || t->shape.size() != m.box.size() ||
      m.box.empty() || m.box.size() > 5)
    return Status::error(where + ": the manifest's box does not match a "
                                 "tensor argument of rank 1 to 5");
  size_t eb = t->elementBytes();
  if (eb != 2)
    return Status::error(where + ": " + t->dtype + " is not a 16-bit type");
  if (reinterpret_cast<uintptr_t>(ptr) % 16)
    return Status::error(where + ": the buffer must be 16-byte aligned");
  r = TensorMapRequest();
  r.address = ptr;
  r.dtype = t->dtype;
  r.swizzle = m.swizzle;
  uint64_t stride = eb;
  for (size_t i = m.box.size(); i-- > 0;) {
    int64_t n = symbol(t->shape[i], sizes);
    if (i + 1 < m.box.size())
      r.strides.push_back(stride);
    r.dims.push_back(uint64_t(n));
    r.box.push_back(uint32_t(m.box[i]));
    if (m.box[i] < 1 || m.box[i] > 256)
      return Status::error(where + ": box of " + std::to_string(m.box[i]) +
                           " elements (TMA takes 1 to 256)");
    stride *= uint64_t(n);
  }
  if (r.box[0] * eb % 16 || (m.swizzle && r.box[0] * eb > uint64_t(m.swizzle)))
    return Status::error(where + ": inner box of " + std::to_string(r.box[0]) +
                         " elements is not 16-byte granular or exceeds the " +
                         std::to_string(m.swizzle) + "-byte swizzle");
  for (uint64_t s : r.strides)
    if (s % 16)
      return Status::error(where + ": row stride of " + std::to_string(s) +
                           " bytes (TMA needs multiples of 16)");
  return Status::success();
}

bool isWorkspace(const std::string &name) {
  return name == "o_part" || name == "ml_part" || name == "o_rows" ||
         name == "grid_sync" || name == "combine_part" ||
         name == "combine_sync";
}
} // namespace

int64_t TensorSpec::elements(int64_t B, int64_t Tq, int64_t L,
                             int64_t S) const {
  return elementCount(*this, sizeMap(B, Tq, L, S));
}

size_t TensorSpec::elementBytes() const {
  if (dtype == "f64" || dtype == "i64")
    return 8;
  if (dtype == "f32" || dtype == "i32")
    return 4;
  return 2; // bf16, f16
}

Status Artifact::open(const std::string &dir, std::unique_ptr<Artifact> &out,
                      Device *device) {
  std::string text, error;
  if (Status s = readFile(dir + "/manifest.json", text); !s)
    return s;
  Json manifest;
  if (!Json::parse(text, manifest, error))
    return Status::error(dir + "/manifest.json: " + error);
  if (manifest["version"].i64() != 1 || manifest["abi"].str() != "memref1d")
    return Status::error(dir + "/manifest.json: unsupported manifest version "
                               "or kernel ABI");
  auto art = std::make_unique<Artifact>();
  art->target_ = manifest["target"].str();
  const Json &mods = manifest["modules"];
  for (size_t i = 0; i < mods.size(); ++i) {
    const Json &m = mods[i];
    if (!art->device_) {
      if (device)
        art->device_ = device;
      else if (Status s = Device::get(m["vendor"].str(), art->device_); !s)
        return s;
      // sm_90a code runs only on sm_90; sm_80 code (PTX) on sm_80 and newer.
      std::string arch = art->device_->arch();
      const std::string &t = art->target_;
      bool nvidia = m["vendor"].str() == "nvidia";
      if (nvidia && t.back() == 'a' && arch + "a" != t)
        return Status::error("artifact built for " + t + ", device is " +
                             arch + ": recompile with target=" + arch +
                             (arch == "sm_90" ? "a" : ""));
      auto number = [](const std::string &sm) {
        return std::atoi(sm.c_str() + 3); // "sm_90a" -> 90
      };
      if (nvidia && t.back() != 'a' && number(arch) < number(t))
        return Status::error("artifact built for " + t + ", device is " +
                             arch + " (too old)");
    }
    auto mod = std::make_unique<KernelModule>();
    mod->info_ = m;
    mod->op_ = m["op"].str();
    mod->name_ = m["module"].str();
    mod->function_ = m["function"].str();
    mod->device_ = art->device_;
    const Json &ks = m["kernels"];
    for (size_t k = 0; k < ks.size(); ++k) {
      const std::string &kn = ks[k]["name"].str();
      (kn == "combine"          ? mod->combine_
       : kn == "combine_rows"   ? mod->combineRows_
       : kn == "combine_wide"   ? mod->combineWide_
       : kn == "combine_slices" ? mod->combineSlices_
       : kn == "project_rows"   ? mod->projectRows_
       : kn == "project_slices" ? mod->projectSlices_
                                : mod->fwd_) = kernelSpec(ks[k]);
    }
    for (const TensorSpec &t : mod->fwd_.tensors)
      if (!isWorkspace(t.name))
        mod->inputs_.push_back(t);
    // The forward kernel may write `out` too (direct_output): once.
    for (const TensorSpec &t : mod->combine_.tensors)
      if (!isWorkspace(t.name) &&
          std::none_of(mod->inputs_.begin(), mod->inputs_.end(),
                       [&](const TensorSpec &u) { return u.name == t.name; }))
        mod->inputs_.push_back(t);
    // Prefer the cubin / HSACO; fall back to PTX, which the driver JITs.
    const Json &files = m["files"];
    std::string file = files.has("cubin")   ? files["cubin"].str()
                       : files.has("hsaco") ? files["hsaco"].str()
                                            : files["ptx"].str();
    std::string image;
    if (Status s = readFile(dir + "/" + file, image); !s)
      return s;
    if (Status s = art->device_->loadModule(image, mod->module_); !s)
      return Status::error(file + ": " + s.message);
    // A kernel of the module, allowed the dynamic workgroup memory it needs,
    // and in a trace-blocks build its records' global.
    auto loadKernel = [&](const KernelSpec &k, void *&fn) -> Status {
      if (Status s = art->device_->getFunction(mod->module_, k.name, fn); !s)
        return s;
      if (Status s = art->device_->allowDynamicShared(fn, k.dynamicSharedBytes);
          !s)
        return Status::error(mod->name_ + ": " + s.message);
      KernelModule::TraceGlobal t{k.name, nullptr, 0};
      if (art->device_->getGlobal(mod->module_, trace::kPrefix + k.name, t.ptr,
                                  t.bytes))
        mod->traces_.push_back(t);
      return Status::success();
    };
    if (Status s = loadKernel(mod->fwd_, mod->fwdFn_); !s)
      return s;
    if (mod->op_ == "attention")
      if (Status s = loadKernel(mod->combine_, mod->combineFn_); !s)
        return s;
    if (!mod->combineRows_.name.empty())
      if (Status s = loadKernel(mod->combineRows_, mod->combineRowsFn_); !s)
        return s;
    if (!mod->projectRows_.name.empty())
      if (Status s = loadKernel(mod->projectRows_, mod->projectRowsFn_); !s)
        return s;
    if (!mod->projectSlices_.name.empty())
      if (Status s = loadKernel(mod->projectSlices_, mod->projectSlicesFn_); !s)
        return s;
    if (!mod->combineWide_.name.empty())
      if (Status s = loadKernel(mod->combineWide_, mod->combineWideFn_); !s)
        return s;
    if (!mod->combineSlices_.name.empty())
      if (Status s = loadKernel(mod->combineSlices_, mod->combineSlicesFn_); !s)
        return s;
    art->modules_.push_back(std::move(mod));
  }
  out = std::move(art);
  return Status::success();
}

Artifact::~Artifact() {
  for (auto &m : modules_) {
    if (m->workspace_)
      device_->free(m->workspace_);
    if (m->gridSync_)
      device_->free(m->gridSync_);
  }
}

KernelModule *Artifact::find(const std::string &name) {
  for (auto &m : modules_)
    if (m->name() == name || m->function() == name)
      return m.get();
  return nullptr;
}

int64_t KernelModule::chooseSplits(int64_t B, int64_t Tq, int64_t L) const {
  // Fill one wave of resident blocks exactly when the (batch, group, row
  // block) blocks alone are fewer: a partly filled last wave would leave
  // SMs idle for a whole block's time. Every split keeps 128 cache rows
  // (two 64-row tiles, four of 32): at B=1, L=2k, 16 splits of 128 rows
  // beat 8 of 256 in every variant with 64-row tiles (MLA-16 21.8 -> 17.5
  // us, GLA 18.8 -> 16.5, MQA 10.8 -> 10.4), where 64-row splits lost for
  // some (GQA 12.3 -> 14.4; docs/performance.md step 64). And it reads at
  // least the bytes of the partial outputs it writes (stored, then read
  // again): MLA-128's 128 heads x 512 values are 256 KB a split, 228 of its
  // rows (at B=1, L=8k, 64 splits of 128 rows took 33.9 us, 32 of 256
  // 27.5).
  constexpr int64_t kMinSplitRows = 128;
  double rowBytes = info_["cache_bytes_per_token"].num() *
                    double(info_["time_stride"].i64()) /
                    double(info_["num_kv_heads"].i64());
  double partialBytes =
      double(info_["group"].i64() * Tq * info_["value_width"].i64() * 4);
  int64_t minRows = std::max({kMinSplitRows, 2 * tileRows(),
                              int64_t(std::ceil(partialBytes / rowBytes))});
  int64_t blocks = forwardBlocks(B, Tq, 1);
  // Blocks per SM: the manifest's choice, else as many as are resident.
  int64_t perSM = info_.has("wave_blocks_per_sm")
                      ? info_["wave_blocks_per_sm"].i64()
                      : 0;
  int64_t wave = perSM > 0 ? int64_t(device_->multiprocessors()) * perSM
                           : this->wave(fwd_, fwdFn_);
  int64_t want = std::max<int64_t>(1, wave / blocks);
  int64_t maxSplits = std::max<int64_t>(1, L / minRows);
  int64_t S = std::clamp<int64_t>(
      want, 1, std::min<int64_t>(maxSplits, this->maxSplits()));
  // A split's ceil(L / S) rows run as whole tiles, so the fewest splits
  // with as many tiles each finish as soon and leave fewer partial outputs
  // to merge (MLA-128 B=1, L=32k: 66 splits of 7.8 tiles -> 64 of 8, 50.9
  // -> 48.7 us; docs/performance.md step 62).
  int64_t tiles = (L + tileRows() - 1) / tileRows();
  int64_t each = (tiles + S - 1) / S;
  return std::max<int64_t>(1, (tiles + each - 1) / each);
}

Status KernelModule::setCombine(Combine c) {
  if (c == Combine::Rows && !combineRowsFn_)
    return Status::error(name_ + ": no combine_rows kernel (the artifact "
                                 "has none for this module)");
  if (c == Combine::Wide && !combineWideFn_)
    return Status::error(name_ + ": no combine_wide kernel (the one-row "
                                 "combine has as many threads already)");
  if (c == Combine::Slices && !combineSlicesFn_)
    return Status::error(name_ + ": no combine_slices kernel (only a latent "
                                 "up-projection behind a tensor-core forward "
                                 "kernel has one)");
  if (c == Combine::LatentSlices && !projectSlicesFn_)
    return Status::error(name_ + ": no project_slices kernel (only a latent "
                                 "up-projection of few heads behind a "
                                 "warpgroup forward kernel has one)");
  if (c == Combine::Grid && !flag("grid_merge"))
    return Status::error(name_ + ": its forward kernel cannot merge the "
                                 "splits (no grid_merge in the manifest)");
  if (c == Combine::Grid && !device_->cooperativeLaunch())
    return Status::error(name_ +
                         ": merging in the grid needs cooperative "
                         "launches, which " +
                         device_->arch() + " here does not offer");
  combineChoice_ = c;
  return Status::success();
}

bool KernelModule::flag(const char *key) const {
  return info_.has(key) && info_[key].boolean();
}

int64_t KernelModule::rowBlocks(int64_t Tq) const {
  int64_t rows = info_["group"].i64() * Tq;
  int64_t rpb = info_["rows_per_block"].i64();
  return (rows + rpb - 1) / rpb;
}

int64_t KernelModule::forwardBlocks(int64_t B, int64_t Tq, int64_t S) const {
  return rowBlocks(Tq) * B * info_["num_kv_heads"].i64() * S;
}

Status KernelModule::reserve(void *&buffer, size_t &bytes, size_t need,
                             bool zeroed) {
  if (need <= bytes)
    return Status::success();
  if (buffer)
    device_->free(buffer);
  buffer = nullptr;
  bytes = 0;
  if (Status s = device_->alloc(need, buffer); !s)
    return s;
  if (zeroed) {
    std::vector<char> zeros(need, 0);
    if (Status s = device_->copyToDevice(buffer, zeros.data(), need); !s)
      return s;
  }
  bytes = need;
  return Status::success();
}

bool KernelModule::mergesInGrid(int64_t B, int64_t Tq, int64_t S) const {
  if (S < 2 || !flag("grid_merge") || !device_->cooperativeLaunch())
    return false;
  if (combineChoice_ != Combine::Auto && combineChoice_ != Combine::Grid)
    return false;
  // Auto merges in the grid wherever it can: against the combine kernels
  // it measured faster or equal at every shape tried (docs/performance.md,
  // step 47; MFA-KR B=32 73.2 -> 70.5 us, B=64 119.1 -> 116.7, MQA B=16
  // 34.8 -> 33.0, GQA B=4 52.4 -> 51.4, MFA B=16 and 64 ties).
  // The blocks of a group wait for one another: all must be resident. The
  // split count the runtime picks fills one wave, so this holds unless the
  // caller asked for more splits; then the combine kernels merge.
  if (!forwardFitsOneWave(B, Tq, S))
    return false;
  // Auto also leaves grids of half a wave or less to the combine kernels:
  // at B=1 with 16 and 64 blocks a combine kernel (combine_wide, step 66
  // chose the one-row kernel at some of them since) measured faster (MQA L=2k
  // 10.5 -> 9.7 us, L=8k 14.1 -> 12.9; MFA-KR 17.8 -> 15.9, 21.5 -> 20.3;
  // MFA 15.4 -> 13.8, 19.3 -> 18.0), at 128 blocks the grid merge
  // (MQA L=32k 21.4 against 22.9; docs/performance.md step 65).
  return combineChoice_ == Combine::Grid ||
         2 * forwardBlocks(B, Tq, S) > wave(fwd_, fwdFn_);
}

bool KernelModule::overlapsCombineRows(int64_t B, int64_t Tq, int64_t S) const {
  // With a second wave of forward blocks still to start, the combine's
  // early blocks could take their SMs.
  return flag("combine_rows_overlaps") && forwardFitsOneWave(B, Tq, S);
}

bool KernelModule::forwardFitsOneWave(int64_t B, int64_t Tq, int64_t S) const {
  return forwardBlocks(B, Tq, S) <= wave(fwd_, fwdFn_);
}

int64_t KernelModule::combineRowsMaxSplits() const {
  return info_.has("combine_rows_max_splits")
             ? info_["combine_rows_max_splits"].i64()
             : maxSplits();
}

bool KernelModule::combinesRows(int64_t B, int64_t Tq, int64_t S) const {
  if (!combineRowsFn_ || combineChoice_ == Combine::PerRow ||
      combineChoice_ == Combine::Wide || combineChoice_ == Combine::Slices)
    return false;
  if (combineChoice_ == Combine::Rows)
    return true;
  if (S > combineRowsMaxSplits())
    return false;
  int64_t rows = info_["combine_rows"].i64();
  // The tensor-core kernel reads each head's weights once per 64 rows and
  // multiplies on tensor cores. It wins where its blocks' rows are filled
  // (B >= 64: MTLA B=64, 154 -> 132 us; MFA-KR B=64 152 -> 140; MLA-16
  // B=128 445 -> 424) or where the one-row kernel, one block per (row,
  // head), would read the weights from L2 for 64 MB or more (~10 us, about
  // what a combine_rows launch takes): MLA-128 B=16 (268 MB) 109 -> 95,
  // GLA B=32 (268 MB) 108 -> 83, MTLA B=32 (134 MB) 88 -> 79; MTLA B=16
  // (67 MB) a tie; not MLA-16 B=16 (34 MB): 70 -> 76.
  if (flag("combine_rows_mma")) {
    constexpr double kOneRowWeightBytes = 64e6;
    return B >= rows ||
           double(oneRowBlocks(B, Tq)) * double(headWeightBytes()) >=
               kOneRowWeightBytes;
  }
  // A plain merge (no epilogue mat-vec left to the combine): the one-row
  // kernel's blocks are short and latency-bound, so once they take more
  // than a wave of resident blocks, 8 rows a block take fewer waves
  // (MFA-KR B=64, 4096 one-row blocks: 12.2 us).
  if (info_.has("epilogue_in") && info_["epilogue_in"].str() != "combine")
    return oneRowBlocks(B, Tq) > wave(combine_, combineFn_);
  // Several rows per block divide the weight traffic by the rows but also
  // the blocks: worth it while the fewer blocks still fill a wave.
  int64_t blocks = combineRowsHeadBlocks() * Tq * ((B + rows - 1) / rows);
  return blocks >= wave(combineRows_, combineRowsFn_);
}

int64_t KernelModule::combineRowsHeadBlocks() const {
  // Older artifacts have no slices: one block per head.
  int64_t slices =
      info_.has("combine_rows_slices") ? info_["combine_rows_slices"].i64() : 1;
  return info_["num_out_heads"].i64() * slices;
}

int64_t KernelModule::headWeightBytes() const {
  TensorSpec weight;
  weight.dtype = info_["dtype"].str();
  return info_["value_width"].i64() * info_["out_width"].i64() *
         int64_t(weight.elementBytes());
}

int64_t KernelModule::oneRowBlocks(int64_t B, int64_t Tq) const {
  return info_["num_out_heads"].i64() * Tq * B;
}

int64_t KernelModule::wave(const KernelSpec &k, void *fn) const {
  return int64_t(device_->multiprocessors()) *
         device_->occupancy(fn, int(k.threads), k.dynamicSharedBytes);
}

bool KernelModule::combinesWide(int64_t B, int64_t Tq, int64_t S) const {
  if (!combineWideFn_ || combineChoice_ == Combine::PerRow)
    return false;
  if (combineChoice_ == Combine::Wide || combineChoice_ == Combine::Slices)
    return true;
  // Fewer one-row blocks than SMs: each runs alone on its SM, so more
  // threads are free parallelism for its merge (MLA-16 B=1, 16 blocks: 27.5
  // -> 11.4 us). With more blocks the narrow kernel issues less redundant
  // work per row (MFA-KR B=64, 4096 blocks: 43 vs 84 us).
  if (oneRowBlocks(B, Tq) >= int64_t(device_->multiprocessors()))
    return false;
  // And a row must read enough for those threads: its S partial outputs
  // and the head's epilogue weights, 64 KB or more. Below that the narrow
  // kernel measured faster (MQA B=1 L=2k, 8 KB: 9.5 -> 8.8 us; GTA, GQA,
  // MFA at 2k likewise), at 64 KB and over the wide one (MFA B=1 L=8k 18.6
  // -> 18.4, MFA-KR 20.7 -> 20.2; docs/performance.md step 66).
  bool matVec = info_["epilogue_in"].str() == "combine";
  int64_t rowBytes =
      S * info_["value_width"].i64() * 4 + (matVec ? headWeightBytes() : 0);
  return rowBytes >= kWideRowBytes;
}

bool KernelModule::combinesInSlices(int64_t B, int64_t Tq, int64_t S) const {
  if (!combineSlicesFn_ || !combinesWide(B, Tq, S))
    return false;
  if (combineChoice_ == Combine::Slices)
    return true;
  if (combineChoice_ != Combine::Auto)
    return false;
  // Where every slice has an SM of its own: MLA-16 B=1, L=32k (16 rows, 128
  // blocks) 35.6 -> 33.5 us; at B=2 (256 blocks, two an SM) 45.3 -> 45.9,
  // at B=4 L=8k (512) 30.6 -> 36.3 (docs/performance.md step 63).
  return oneRowBlocks(B, Tq) * info_["combine_slices"].i64() <=
         int64_t(device_->multiprocessors());
}

bool KernelModule::projectsInSlices(int64_t B, int64_t Tq, int64_t S) const {
  if (!projectSlicesFn_ || S > info_["project_rows_max_splits"].i64())
    return false;
  if (combineChoice_ == Combine::LatentSlices)
    return true;
  if (combineChoice_ != Combine::Auto)
    return false;
  // Batches of up to 32 rows (one or two row blocks; combine_slices keeps
  // one row, where its 128 blocks are as many) whose blocks are resident at
  // once (MLA-128 at B=32, 256 blocks of 152 KB, takes project_rows).
  int64_t grid[3];
  projectSlicesGrid(B, Tq, grid);
  return B * Tq > 1 && B * Tq <= 32 &&
         grid[0] * grid[1] * grid[2] <= wave(projectSlices_, projectSlicesFn_);
}

void KernelModule::projectSlicesGrid(int64_t B, int64_t Tq,
                                     int64_t grid[3]) const {
  grid[0] = info_["num_out_heads"].i64() * info_["project_slices"].i64();
  grid[1] = Tq;
  grid[2] = (B + kProjectSliceRows - 1) / kProjectSliceRows;
}

Status KernelModule::launch(const KernelSpec &k, void *fn,
                            const int64_t grid[3],
                            std::map<std::string, void *> &named,
                            const std::map<std::string, int64_t> &sizes,
                            void *stream, LaunchKind kind,
                            const std::string &streamed) {
  // memref1d ABI: each tensor is (allocated, aligned, offset, size, stride).
  std::vector<int64_t> values;
  values.reserve(k.tensors.size() * kTensorArgWords + k.sizes.size());
  for (const TensorSpec &t : k.tensors) {
    auto ptr = reinterpret_cast<int64_t>(named[t.name]);
    std::initializer_list<int64_t> words = {ptr, ptr, 0, elementCount(t, sizes),
                                            1};
    assert(words.size() == kTensorArgWords);
    values.insert(values.end(), words);
  }
  for (const std::string &s : k.sizes)
    values.push_back(symbol(s, sizes));
  std::vector<void *> params;
  for (int64_t &v : values)
    params.push_back(&v);
  // Tensor maps last, 128 bytes each by value.
  struct alignas(64) TensorMap {
    unsigned char bytes[128];
  };
  std::vector<TensorMap> maps(k.tensorMaps.size());
  for (size_t i = 0; i < maps.size(); ++i) {
    const TensorMapSpec &m = k.tensorMaps[i];
    TensorMapRequest r;
    if (Status s = tensorMapRequest(k, m, named[m.tensor], sizes, r); !s)
      return s;
    if (Status s = device_->encodeTensorMap(r, maps[i].bytes); !s)
      return Status::error(k.name + ": tensor map of '" + m.tensor +
                           "': " + s.message);
    params.push_back(maps[i].bytes);
  }
  int64_t block[3] = {k.threads, 1, 1};
  auto spec =
      std::find_if(k.tensors.begin(), k.tensors.end(),
                   [&](const TensorSpec &t) { return t.name == streamed; });
  if (kind != LaunchKind::Early && spec != k.tensors.end())
    return device_->launchStreaming(
        fn, grid, block, k.dynamicSharedBytes, stream, params.data(),
        kind == LaunchKind::Cooperative, named[streamed],
        size_t(elementCount(*spec, sizes)) * spec->elementBytes());
  if (kind == LaunchKind::Cooperative)
    return device_->launchCooperative(fn, grid, block, k.dynamicSharedBytes,
                                      stream, params.data());
  if (kind == LaunchKind::Early)
    return device_->launchEarly(fn, grid, block, k.dynamicSharedBytes, stream,
                                params.data());
  return device_->launch(fn, grid, block, k.dynamicSharedBytes, stream,
                         params.data());
}

Status KernelModule::run(const std::vector<void *> &buffers, int64_t B,
                         int64_t Tq, int64_t L, int64_t splits, void *stream) {
  if (buffers.size() != inputs_.size())
    return Status::error(name_ + ": expected " +
                         std::to_string(inputs_.size()) + " buffers, got " +
                         std::to_string(buffers.size()));
  if (B < 1 || Tq < 1 || L < 1)
    return Status::error(name_ + ": sizes must be positive (B=" +
                         std::to_string(B) + ", Tq=" + std::to_string(Tq) +
                         ", L=" + std::to_string(L) + ")");
  if (info_["mask"].str() == "stride_aware_causal" && Tq != L)
    return Status::error(name_ + ": stride-aware prefill needs Tq == L (" +
                         std::to_string(Tq) + " vs " + std::to_string(L) +
                         ")");
  for (size_t i = 0; i < buffers.size(); ++i)
    if (!buffers[i])
      return Status::error(name_ + ": buffer '" + inputs_[i].name +
                           "' is null");
  // The kernels move up to 16 bytes at a time (cp.async and vector loads of
  // the query and cache rows, 8 bf16 outputs a store in the narrow
  // kernel): a buffer less aligned would fault on the device, not here.
  for (size_t i = 0; i < buffers.size(); ++i)
    if (reinterpret_cast<uintptr_t>(buffers[i]) % 16)
      return Status::error(name_ + ": buffer '" + inputs_[i].name +
                           "' must be 16-byte aligned");
  if (op_ == "cache_update")
    return runCacheUpdate(buffers, B, Tq, L, stream);
  Status s = runAttention(buffers, B, Tq, L, splits, stream);
  if (s && !traces_.empty())
    return printTraces();
  return s;
}

Status KernelModule::printTraces() {
  // One line per traced block, as bench/trace_blocks.py reads them: the
  // kernel, the block's x, y, z and SM, then its stamps. The step must
  // have ended first (trace builds are timing studies, never timed).
  if (Status s = device_->synchronize(); !s)
    return s;
  for (const TraceGlobal &t : traces_) {
    std::vector<int64_t> words(t.bytes / sizeof(int64_t));
    if (Status s = device_->copyToHost(words.data(), t.ptr, t.bytes); !s)
      return s;
    bool any = false;
    for (size_t r = 0; r + trace::kRecordWords <= words.size();
         r += trace::kRecordWords) {
      int64_t n = words[r];
      if (n <= 0 || n > trace::kMaxStamps)
        continue;
      any = true;
      std::printf("%s", t.kernel.c_str());
      for (int64_t i = 1; i < trace::kHeaderWords + n; ++i)
        std::printf(" %lld", static_cast<long long>(words[r + i]));
      std::printf("\n");
    }
    if (any) {
      std::fill(words.begin(), words.end(), 0);
      if (Status s = device_->copyToDevice(t.ptr, words.data(), t.bytes); !s)
        return s;
    }
  }
  std::fflush(stdout);
  return Status::success();
}

Status KernelModule::runCacheUpdate(const std::vector<void *> &buffers,
                                    int64_t B, int64_t T, int64_t C,
                                    void *stream) {
  std::map<std::string, void *> named;
  for (size_t i = 0; i < buffers.size(); ++i)
    named[inputs_[i].name] = buffers[i];
  int64_t w = info_["row_elements"].i64(), s = info_["time_stride"].i64();
  int64_t grid[3] = {(w + 127) / 128, s == 1 ? T : (T + s - 1) / s + 1, B};
  return launch(fwd_, fwdFn_, grid, named, sizeMap(B, T, C, 1), stream);
}

Status KernelModule::runAttention(const std::vector<void *> &buffers,
                                  int64_t B, int64_t Tq, int64_t L,
                                  int64_t splits, void *stream) {
  int64_t S = splits > 0 ? splits : chooseSplits(B, Tq, L);
  if (S > maxSplits())
    return Status::error(name_ + ": " + std::to_string(S) +
                         " splits requested; the combine kernel merges at "
                         "most " + std::to_string(maxSplits()));
  std::map<std::string, void *> named;
  for (size_t i = 0; i < buffers.size(); ++i)
    named[inputs_[i].name] = buffers[i];

  // Workspace: partial outputs and (max, sum) per split, grown on demand.
  int64_t hq = info_["num_q_heads"].i64(), dv = info_["value_width"].i64();
  size_t oBytes = size_t(S * B * Tq * hq * dv) * 4;
  size_t mlBytes = size_t(S * B * Tq * hq * 2) * 4;
  // combine_slices adds its slices' sums after them.
  auto bytesOf = [&](const KernelSpec &k, const char *name) {
    for (const TensorSpec &t : k.tensors)
      if (t.name == name)
        return size_t(t.elements(B, Tq, L, S)) * t.elementBytes();
    return size_t(0);
  };
  size_t need = oBytes + mlBytes + bytesOf(combineSlices_, "combine_part");
  if (Status s = reserve(workspace_, workspaceBytes_, need, false); !s)
    return s;
  named["o_part"] = workspace_;
  named["ml_part"] = static_cast<char *>(workspace_) + oBytes;
  named["combine_part"] = static_cast<char *>(workspace_) + oBytes + mlBytes;
  // Each split's normalised rows (2 bytes an element) fit o_part's bytes.
  named["o_rows"] = workspace_;

  int64_t fwdGrid[3] = {rowBlocks(Tq), B * info_["num_kv_heads"].i64(), S};
  auto sizes = sizeMap(B, Tq, L, S);
  bool merging = mergesInGrid(B, Tq, S);
  if (combineChoice_ == Combine::Grid && S > 1 && !merging)
    return Status::error(
        name_ + ": cannot merge in the grid: " +
        std::to_string(forwardBlocks(B, Tq, S)) + " forward blocks, " +
        std::to_string(wave(fwd_, fwdFn_)) + " resident at once");
  sizes["merge"] = merging ? 1 : 0;
  // Where combine_rows would follow few enough splits, the forward stores
  // its rows normalised and project_rows merges and multiplies them
  // (manifest normalised_rows; artifacts without project_rows_max_splits
  // came before it merged: one split).
  int64_t projectMax = info_.has("project_rows_max_splits")
                           ? info_["project_rows_max_splits"].i64()
                           : 1;
  bool inSlices = projectsInSlices(B, Tq, S);
  if (combineChoice_ == Combine::LatentSlices && !inSlices)
    return Status::error(name_ + ": project_slices merges at most " +
                         std::to_string(projectMax) + " splits, " +
                         std::to_string(S) + " requested");
  bool projecting =
      inSlices || (projectRowsFn_ && S <= projectMax && combinesRows(B, Tq, S));
  sizes["normalise"] = projecting ? 1 : 0;
  // The counters (the forward's grid merge, combine_slices' rows), zeroed
  // when (re)allocated; every launch that counts leaves them at zero, so
  // the two kernels may share them.
  size_t bytes = std::max(bytesOf(fwd_, "grid_sync"),
                          bytesOf(combineSlices_, "combine_sync"));
  if (bytes) {
    if (Status s = reserve(gridSync_, gridSyncBytes_, bytes, true); !s)
      return s;
    named["grid_sync"] = named["combine_sync"] = gridSync_;
  }
  // With one block of query rows per (batch row, group) each block reads
  // its cache rows once (decode): streaming in L2, so they do not evict
  // what is read again (the partial outputs the combine reads, the query
  // rows). Measured neutral where TMA copies already evict them first.
  std::string streamed = fwdGrid[0] == 1 && info_.has("l2_streaming")
                             ? info_["l2_streaming"].str()
                             : "";
  if (Status s = launch(
          fwd_, fwdFn_, fwdGrid, named, sizes, stream,
          merging ? LaunchKind::Cooperative : LaunchKind::Ordinary, streamed);
      !s)
    return s;
  if (merging)
    return Status::success();
  // With one split such a forward kernel has stored the result itself.
  if (S == 1 && flag("direct_output"))
    return Status::success();
  if (inSlices) {
    int64_t grid[3];
    projectSlicesGrid(B, Tq, grid);
    return launch(projectSlices_, projectSlicesFn_, grid, named, sizes, stream,
                  overlapsCombineRows(B, Tq, S) ? LaunchKind::Early
                                                : LaunchKind::Ordinary);
  }
  if (combinesRows(B, Tq, S)) {
    if (S > combineRowsMaxSplits())
      return Status::error(name_ + ": combine_rows merges at most " +
                           std::to_string(combineRowsMaxSplits()) +
                           " splits, " + std::to_string(S) + " requested");
    int64_t rows = info_["combine_rows"].i64();
    int64_t grid[3] = {combineRowsHeadBlocks(), Tq, (B + rows - 1) / rows};
    LaunchKind kind = overlapsCombineRows(B, Tq, S) ? LaunchKind::Early
                                                    : LaunchKind::Ordinary;
    if (projecting)
      return launch(projectRows_, projectRowsFn_, grid, named, sizes, stream,
                    kind);
    return launch(combineRows_, combineRowsFn_, grid, named, sizes, stream,
                  kind);
  }
  int64_t combineGrid[3] = {info_["num_out_heads"].i64(), Tq, B};
  if (combinesInSlices(B, Tq, S)) {
    combineGrid[0] *= info_["combine_slices"].i64();
    return launch(combineSlices_, combineSlicesFn_, combineGrid, named, sizes,
                  stream);
  }
  if (combinesWide(B, Tq, S))
    return launch(combineWide_, combineWideFn_, combineGrid, named, sizes,
                  stream);
  return launch(combine_, combineFn_, combineGrid, named, sizes, stream);
}

} // namespace attn::rt
