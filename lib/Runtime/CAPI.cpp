//===- CAPI.cpp - C API of the attn runtime -------------------------------===//
#include "attn/Runtime/Runtime.h"
#include "attn/Runtime/attn_runtime.h"

#include <cstring>

using namespace attn::rt;

struct attn_artifact {
  std::unique_ptr<Artifact> artifact;
  std::vector<std::string> manifests;
};

static int report(const Status &s, char *err, size_t len) {
  if (s.ok)
    return 0;
  if (err && len) {
    std::strncpy(err, s.message.c_str(), len - 1);
    err[len - 1] = '\0';
  }
  return 1;
}

static KernelModule *moduleAt(attn_artifact *a, int i) {
  if (!a || i < 0 || i >= int(a->artifact->modules().size()))
    return nullptr;
  return a->artifact->modules()[i].get();
}

int attn_artifact_open(const char *dir, attn_artifact **out, char *err,
                       size_t len) {
  auto a = std::make_unique<attn_artifact>();
  if (int rc = report(Artifact::open(dir ? dir : "", a->artifact), err, len))
    return rc;
  *out = a.release();
  return 0;
}

void attn_artifact_close(attn_artifact *a) { delete a; }

int attn_artifact_num_modules(attn_artifact *a) {
  return a ? int(a->artifact->modules().size()) : 0;
}

int attn_artifact_find(attn_artifact *a, const char *name) {
  for (int i = 0; i < attn_artifact_num_modules(a); ++i) {
    KernelModule *m = moduleAt(a, i);
    if (m->name() == name || m->function() == name)
      return i;
  }
  return -1;
}

const char *attn_module_name(attn_artifact *a, int i) {
  KernelModule *m = moduleAt(a, i);
  return m ? m->name().c_str() : nullptr;
}

const char *attn_module_manifest(attn_artifact *a, int i) {
  KernelModule *m = moduleAt(a, i);
  if (!m)
    return nullptr;
  // Scalar facts the bindings need, as "key=value;" pairs.
  if (a->manifests.size() <= size_t(i))
    a->manifests.resize(i + 1);
  std::string &s = a->manifests[i];
  s.clear();
  for (const char *k : {"num_q_heads", "num_kv_heads", "num_out_heads", "group",
                        "key_width", "value_width", "row_width", "rope_dim",
                        "out_width", "time_stride", "rows_per_block",
                        "tile_rows", "key_begin", "key_nope", "value_begin",
                        "combine_rows"})
    s += std::string(k) + "=" + std::to_string(m->info()[k].i64()) + ";";
  for (const char *k : {"kv_form", "dtype", "mask", "value_epilogue",
                        "function", "schedule"})
    s += std::string(k) + "=" + m->info()[k].str() + ";";
  for (const char *k : {"softmax_scale", "cache_bytes_per_token",
                        "flops_per_token"})
    s += std::string(k) + "=" + std::to_string(m->info()[k].num()) + ";";
  return s.c_str();
}

int attn_module_num_inputs(attn_artifact *a, int i) {
  KernelModule *m = moduleAt(a, i);
  return m ? int(m->inputs().size()) : 0;
}

const char *attn_module_input_name(attn_artifact *a, int i, int k) {
  KernelModule *m = moduleAt(a, i);
  if (!m || k < 0 || k >= int(m->inputs().size()))
    return nullptr;
  return m->inputs()[k].name.c_str();
}

int attn_module_run(attn_artifact *a, int i, void *const *buffers, int64_t B,
                    int64_t Tq, int64_t L, int64_t splits, void *stream,
                    char *err, size_t len) {
  KernelModule *m = moduleAt(a, i);
  if (!m)
    return report(Status::error("no module #" + std::to_string(i)), err, len);
  std::vector<void *> bufs(buffers, buffers + m->inputs().size());
  return report(m->run(bufs, B, Tq, L, splits, stream), err, len);
}

int attn_module_set_combine(attn_artifact *a, int i, int mode, char *err,
                            size_t len) {
  KernelModule *m = moduleAt(a, i);
  if (!m)
    return report(Status::error("no module #" + std::to_string(i)), err, len);
  if (mode < 0 || mode > 6)
    return report(Status::error("combine mode must be 0 (auto), 1 (per row), "
                                "2 (rows), 3 (wide), 4 (grid), 5 (slices) "
                                "or 6 (latent slices), got " +
                                std::to_string(mode)),
                  err, len);
  return report(m->setCombine(KernelModule::Combine(mode)), err, len);
}
