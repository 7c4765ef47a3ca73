//===- Reference.cpp - float64 attention for attn-run checks --------------===//
#include "Reference.h"

#include <algorithm>
#include <cmath>
#include <limits>

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
  const std::vector<double> &q = in.at("query");
  auto has = [&](const char *n) { return in.count(n) != 0; };

  auto key = [&](int64_t b, int64_t j, int64_t g, int64_t d) {
    if (form == "separate")
      return in.at("keys")[((b * L + j) * hkv + g) * dk + d];
    if (d < nope)
      return in.at("rows")[((b * L + j) * hkv + g) * row + kb + d];
    return in.at("rope_keys")[(b * L + j) * rope + (d - nope)];
  };
  auto value = [&](int64_t b, int64_t j, int64_t g, int64_t e) {
    if (form == "separate")
      return in.at("values")[((b * L + j) * hkv + g) * dv + e];
    return in.at("rows")[((b * L + j) * hkv + g) * row + vb + e];
  };

  std::vector<double> out(size_t(B * Tq * hout * dout), 0.0);
  for (int64_t b = 0; b < B; ++b) {
    int64_t len = has("seq_lens") ? int64_t(in.at("seq_lens")[b]) : L;
    for (int64_t t = 0; t < Tq; ++t) {
      int64_t pos = len - Tq + t; // bottom-right aligned
      for (int64_t i = 0; i < hout; ++i) {
        int64_t mIdx = i / (hout / hq), g = mIdx / group;
        std::vector<int64_t> rows;
        for (int64_t j = 0; j < len; ++j) {
          bool vis = mask == "none" || (mask == "causal" && j <= pos) ||
                     (mask == "stride_aware_causal" &&
                      (j == pos || (j <= pos && (j + 1) % stride == 0)));
          if (vis)
            rows.push_back(j);
        }
        std::vector<double> agg(size_t(dv), 0.0);
        if (!rows.empty()) {
          std::vector<double> s;
          double mx = -std::numeric_limits<double>::infinity();
          for (int64_t j : rows) {
            double dot = 0;
            for (int64_t d = 0; d < dk; ++d)
              dot += q[((b * Tq + t) * hq + mIdx) * dk + d] * key(b, j, g, d);
            s.push_back(dot * scale);
            mx = std::max(mx, s.back());
          }
          double sum = 0;
          for (double &x : s)
            sum += (x = std::exp(x - mx));
          for (size_t r = 0; r < rows.size(); ++r)
            for (int64_t e = 0; e < dv; ++e)
              agg[e] += s[r] / sum * value(b, rows[r], g, e);
        }
        double *o = &out[size_t(((b * Tq + t) * hout + i) * dout)];
        for (int64_t e = 0; e < dout; ++e) {
          double v = 0;
          if (epi == "none") {
            v = agg[e];
          } else if (epi == "latent_up") {
            for (int64_t c = 0; c < dv; ++c)
              v += agg[c] * in.at("up_v")[(i * dv + c) * dout + e];
          } else if (epi == "gated_latent_decoder") {
            for (int64_t c = 0; c < dv; ++c)
              v += agg[c] * in.at("decoder")[(i * dv + c) * dout + e];
            v *= in.at("gate")[((b * Tq + t) * hout + i) * dout + e];
          } else { // key_reuse_post
            double mix = 0;
            for (int64_t c = 0; c < dv; ++c)
              mix += agg[c] * in.at("transform")[c * dv + e];
            v = agg[e] + in.at("alpha")[e] * mix;
          }
          o[e] = v;
        }
      }
    }
  }
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
