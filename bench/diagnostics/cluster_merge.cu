// Whether a forward kernel's splits can meet in a thread-block cluster, and
// what merging through distributed workgroup memory costs (session 15).
//
// 1. cudaOccupancyMaxActiveClusters for one ~200 KB block per SM, cluster
//    sizes 1..16 along z (the forward's split axis).
// 2. A grid of (1, G, S) blocks in clusters of (1, 1, S), one per SM: every
//    block's start and end (%globaltimer), so whether all clusters are
//    resident at once (their starts within a few us) shows directly.
// 3. The merge itself: each block holds `rows` x 128 f32 partial values and
//    (max, sum) per row in workgroup memory; after a cluster barrier block s
//    merges rows s, s + S, ... from every block's memory (ld.shared::cluster)
//    and stores bf16 to global; a second barrier keeps the memory alive.
//    Timed from the first barrier to the block's end, median over blocks.
//
// nvcc -arch=sm_90a -O3 -o cluster_merge cluster_merge.cu && ./cluster_merge
#include <algorithm>
#include <cooperative_groups.h>
#include <cstdio>
#include <cuda_bf16.h>
#include <vector>
namespace cg = cooperative_groups;

__device__ inline unsigned long long now() {
  unsigned long long t;
  asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t));
  return t;
}

constexpr int kWidth = 128;

__global__ void merge(int rows, int spin, unsigned long long *stamps,
                      __nv_bfloat16 *out) {
  extern __shared__ float sm[];
  float *part = sm, *ml = sm + rows * kWidth;
  cg::cluster_group cl = cg::this_cluster();
  unsigned S = cl.num_blocks(), s = cl.block_rank();
  int blk = blockIdx.y * gridDim.z + blockIdx.z;
  unsigned long long t0 = now();
  for (int i = threadIdx.x; i < rows * kWidth; i += blockDim.x)
    part[i] = float((i * 7 + s * 13) % 17) * 0.25f;
  for (int r = threadIdx.x; r < rows; r += blockDim.x) {
    ml[2 * r] = float((r + s) % 5);
    ml[2 * r + 1] = 1.0f + s;
  }
  // Stand-in for the loop: spin `spin` ns.
  while (now() - t0 < (unsigned long long)spin)
    ;
  unsigned long long t1 = now();
  cl.sync();
  // Block s merges rows s, s + S, ...: each thread one 4-value vector.
  int vecs = kWidth / 4;
  for (int item = threadIdx.x; item < ((rows + S - 1) / S) * vecs;
       item += blockDim.x) {
    int r = (item / vecs) * S + s, c = (item % vecs) * 4;
    if (r >= rows)
      continue;
    float m[8], l[8], M = -INFINITY;
    for (unsigned j = 0; j < S; ++j) {
      float *o = cl.map_shared_rank(ml, j);
      m[j] = o[2 * r];
      l[j] = o[2 * r + 1];
      M = fmaxf(M, m[j]);
    }
    float4 acc = {0, 0, 0, 0};
    float L = 0;
    for (unsigned j = 0; j < S; ++j) {
      float w = __expf(m[j] - M);
      L += w * l[j];
      float4 v = *reinterpret_cast<float4 *>(
          cl.map_shared_rank(part, j) + r * kWidth + c);
      acc.x += w * v.x, acc.y += w * v.y, acc.z += w * v.z, acc.w += w * v.w;
    }
    __nv_bfloat16 *o = out + (size_t(blockIdx.y) * rows + r) * kWidth + c;
    o[0] = __float2bfloat16(acc.x / L), o[1] = __float2bfloat16(acc.y / L);
    o[2] = __float2bfloat16(acc.z / L), o[3] = __float2bfloat16(acc.w / L);
  }
  cl.sync();
  unsigned long long t2 = now();
  if (threadIdx.x == 0) {
    unsigned smid;
    asm("mov.u32 %0, %%smid;" : "=r"(smid));
    stamps[4 * blk] = t0, stamps[4 * blk + 1] = t1, stamps[4 * blk + 2] = t2,
                 stamps[4 * blk + 3] = smid;
  }
}

int main() {
  const int shared = 200 * 1024;
  cudaFuncSetAttribute(merge, cudaFuncAttributeMaxDynamicSharedMemorySize,
                       shared);
  cudaFuncSetAttribute(merge, cudaFuncAttributeNonPortableClusterSizeAllowed,
                       1);
  int sms;
  cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, 0);
  printf("SMs %d\n", sms);
  // (1, G, S) blocks of 128 threads in clusters of (1, 1, S).
  cudaLaunchAttribute at[1];
  auto config = [&](int G, int S) {
    cudaLaunchConfig_t cfg = {};
    cfg.gridDim = dim3(1, G, S);
    cfg.blockDim = dim3(128);
    cfg.dynamicSmemBytes = shared;
    at[0].id = cudaLaunchAttributeClusterDimension;
    at[0].val.clusterDim.x = 1, at[0].val.clusterDim.y = 1,
    at[0].val.clusterDim.z = S;
    cfg.attrs = at, cfg.numAttrs = 1;
    return cfg;
  };
  for (int S : {1, 2, 4, 8, 16}) {
    cudaLaunchConfig_t cfg = config(128 / S, S);
    int n = -1;
    cudaError_t e = cudaOccupancyMaxActiveClusters(&n, merge, &cfg);
    printf("cluster %2d: max active clusters %d (%d blocks)%s%s\n", S, n,
           n * S, e ? " error " : "", e ? cudaGetErrorString(e) : "");
  }
  // Residency and merge cost: G groups of S splits, rows per group.
  for (int rows : {16, 32, 64})
    for (int S : {2, 4, 8}) {
      int G = 128 / S;
      unsigned long long *st;
      __nv_bfloat16 *out;
      cudaMalloc(&st, 4 * 128 * 8);
      cudaMalloc(&out, size_t(G) * rows * kWidth * 2);
      cudaLaunchConfig_t cfg = config(G, S);
      std::vector<double> merges, starts;
      for (int rep = 0; rep < 5; ++rep) {
        cudaError_t e =
            cudaLaunchKernelEx(&cfg, merge, rows, 20000, st, out);
        if (e || cudaDeviceSynchronize()) {
          printf("launch failed: %s\n", cudaGetErrorString(e));
          return 1;
        }
        std::vector<unsigned long long> h(4 * 128);
        cudaMemcpy(h.data(), st, h.size() * 8, cudaMemcpyDeviceToHost);
        unsigned long long t0 = ~0ull, t0max = 0;
        for (int b = 0; b < 128; ++b)
          t0 = std::min(t0, h[4 * b]), t0max = std::max(t0max, h[4 * b]);
        starts.push_back((t0max - t0) / 1e3);
        for (int b = 0; b < 128; ++b)
          merges.push_back((h[4 * b + 2] - h[4 * b + 1]) / 1e3);
      }
      std::sort(merges.begin(), merges.end());
      std::sort(starts.begin(), starts.end());
      printf("rows %2d S %d: starts spread (max over 5 launches) %.2f us; "
             "barrier..end median %.2f us, p90 %.2f\n",
             rows, S, starts.back(), merges[merges.size() / 2],
             merges[merges.size() * 9 / 10]);
      cudaFree(st), cudaFree(out);
    }
  return 0;
}
