//===- Reference.cpp - float64 attention for attn-run checks --------------===//
#include "Reference.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <thread>

namespace attn::run {

std::vector<double> referenceAttention(const rt::Json &m, const Tensors &in,
                                       int64_t B, int64_t Tq, int64_t L) {
  const std::string form = m["kv_form"].str(), mask = m["mask"].str(),
                    epi = m["value_epilogue"].str();
  const int64_t hq = m["num_q_heads"].i64(), hkv = m["num_kv_heads"].i64(),
                hout = m["num_out_heads"].i64(), group = m["group"].i64(),
                dk = m["key_width"].i64(), dv = m["value_width"].i64(),
                row = m["row_width"].i64(), rope = m["rope_dim"].i64(),
                kb = m["key_begin"].i64(), nope = m["key_nope"].i64(),
                vb = m["value_begin"].i64(), dout = m["out_width"].i64(),
                stride = m["time_stride"].i64();
  const double scale = m["softmax_scale"].num();
  // The tensors a variant has, looked up once (not per element: MLA-128's
  // checks spent minutes in map lookups).
  auto get = [&](const char *n) {
    auto it = in.find(n);
    return it == in.end() ? nullptr : it->second.data();
  };
  const double *q = get("query"), *keys = get("keys"), *values = get("values"),
               *rows = get("rows"), *ropeKeys = get("rope_keys"),
               *lens = get("seq_lens"), *upV = get("up_v"),
               *decoder = get("decoder"), *gate = get("gate"),
               *transform = get("transform"), *alpha = get("alpha");
  const bool separate = form == "separate";

  auto key = [&](int64_t b, int64_t j, int64_t g, int64_t d) {
    if (separate)
      return keys[((b * L + j) * hkv + g) * dk + d];
    if (d < nope)
      return rows[((b * L + j) * hkv + g) * row + kb + d];
    return ropeKeys[(b * L + j) * rope + (d - nope)];
  };
  auto value = [&](int64_t b, int64_t j, int64_t g, int64_t e) {
    if (separate)
      return values[((b * L + j) * hkv + g) * dv + e];
    return rows[((b * L + j) * hkv + g) * row + vb + e];
  };

  std::vector<double> out(size_t(B * Tq * hout * dout), 0.0);
  // One output row (b, t, i): the same arithmetic in the same order on
  // whichever thread takes it.
  auto outputRow = [&](int64_t b, int64_t t, int64_t i) {
    int64_t len = lens ? int64_t(lens[b]) : L;
    int64_t pos = len - Tq + t; // bottom-right aligned
    int64_t mIdx = i / (hout / hq), g = mIdx / group;
    std::vector<int64_t> seen;
    for (int64_t j = 0; j < len; ++j) {
      bool vis = mask == "none" || (mask == "causal" && j <= pos) ||
                 (mask == "stride_aware_causal" &&
                  (j == pos || (j <= pos && (j + 1) % stride == 0)));
      if (vis)
        seen.push_back(j);
    }
    std::vector<double> agg(size_t(dv), 0.0);
    if (!seen.empty()) {
      std::vector<double> s;
      double mx = -std::numeric_limits<double>::infinity();
      const double *qRow = &q[((b * Tq + t) * hq + mIdx) * dk];
      for (int64_t j : seen) {
        double dot = 0;
        for (int64_t d = 0; d < dk; ++d)
          dot += qRow[d] * key(b, j, g, d);
        s.push_back(dot * scale);
        mx = std::max(mx, s.back());
      }
      double sum = 0;
      for (double &x : s)
        sum += (x = std::exp(x - mx));
      for (size_t r = 0; r < seen.size(); ++r)
        for (int64_t e = 0; e < dv; ++e)
          agg[e] += s[r] / sum * value(b, seen[r], g, e);
    }
    double *o = &out[size_t(((b * Tq + t) * hout + i) * dout)];
    for (int64_t e = 0; e < dout; ++e) {
      double v = 0;
      if (epi == "none") {
        v = agg[e];
      } else if (epi == "latent_up") {
        for (int64_t c = 0; c < dv; ++c)
          v += agg[c] * upV[(i * dv + c) * dout + e];
      } else if (epi == "gated_latent_decoder") {
        for (int64_t c = 0; c < dv; ++c)
          v += agg[c] * decoder[(i * dv + c) * dout + e];
        v *= gate[((b * Tq + t) * hout + i) * dout + e];
      } else { // key_reuse_post
        double mix = 0;
        for (int64_t c = 0; c < dv; ++c)
          mix += agg[c] * transform[c * dv + e];
        v = agg[e] + alpha[e] * mix;
      }
      o[e] = v;
    }
  };
  // The rows spread over the host's threads (each writes its own rows).
  const int64_t n = B * Tq * hout;
  std::atomic<int64_t> next{0};
  auto worker = [&] {
    for (int64_t r; (r = next.fetch_add(1)) < n;)
      outputRow(r / (Tq * hout), r / hout % Tq, r % hout);
  };
  unsigned threads =
      std::max(1u, std::min<unsigned>(std::thread::hardware_concurrency(), 64));
  std::vector<std::thread> pool;
  for (unsigned w = 1; w < threads; ++w)
    pool.emplace_back(worker);
  worker();
  for (std::thread &th : pool)
    th.join();
  return out;
}

std::vector<double> referenceCacheUpdate(const rt::Json &m, const Tensors &in,
                                         int64_t B, int64_t T, int64_t C) {
  const int64_t w = m["row_elements"].i64(), s = m["time_stride"].i64();
  const std::string merge = m["merge"].str();
  std::vector<double> cache = in.at("cache");
  const std::vector<double> &rows = in.at("rows");
  for (int64_t b = 0; b < B; ++b) {
    int64_t len = int64_t(in.at("lengths")[b]);
    for (int64_t i = 0; i < T; ++i) {
      int64_t t = len + i, slot = t / s;
      if (slot >= C)
        continue;
      double *dst = &cache[size_t((b * C + slot) * w)];
      const double *row = &rows[size_t((b * T + i) * w)];
      for (int64_t c = 0; c < w; ++c) {
        if (merge == "weighted_sum") {
          double x = in.at("weights")[b * T + i] * row[c];
          dst[c] = t % s == 0 ? x : dst[c] + x; // a new slot starts afresh
        } else {
          dst[c] = row[c];
        }
      }
    }
  }
  return cache;
}

} // namespace attn::run
