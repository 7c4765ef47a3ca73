// wgmma m64n16k16 (bf16, f32 accumulators) throughput by operand layout,
// beside wgmma_rate.py (by N and operand source): chains of 36 (32) as the
// narrow decode loop's scores (A: the 64-row key tile, K-major) and value
// product (A: the value tile read M-major) issue them, in the 128-byte
// swizzle the TMA tiles land in, or A from registers; B (16 rows: the
// query rows or P^T) in each swizzle, over 2 KB or the query's 18 KB.
// One block per SM on every SM with 1 or 2 warpgroups, each with its own
// 72 KB of A and 18 KB of B; optionally idle gaps between chains, and the
// kernel's order (query rows first, a proxy fence and a barrier before each
// chain, the chain's first product not accumulating). Prints cycles and
// nanoseconds per wgmma (docs/runs/2026-11-25-h100-session20.log: 22-24
// cycles from shared memory in every layout, 18-20 from registers; a
// second warpgroup adds almost nothing from shared memory).
//
// Usage (GPU machine):
//   nvcc -O3 -gencode=arch=compute_90a,code=sm_90a -o /tmp/wl bench/diagnostics/wgmma_layouts.cu && /tmp/wl
#include <cstdint>
#include <cstdio>
#include <cuda_runtime.h>
// Per warpgroup: 72 KB of A, then 18 KB of B (16 rows x 576 columns).
#define REGION (73728 + 18432)
#define CK(x)                                                                  \
  do {                                                                         \
    cudaError_t e = (x);                                                       \
    if (e != cudaSuccess) {                                                    \
      printf("%s: %s\n", #x, cudaGetErrorString(e));                           \
      return 1;                                                                \
    }                                                                          \
  } while (0)

struct Layout {
  const char *name;
  int swz;      // descriptor layout type: 0 none, 1 128 B, 2 64 B, 3 32 B
  int lbo, sbo; // bytes
  int perBlock; // k steps inside one block of the tile
  int step;     // bytes between k steps inside a block
  int block;    // bytes between blocks
  bool transA;  // A read M-major
};

// K-major A of 64 rows: 128-byte swizzle (the kernel's scores: 4 k steps of
// 32 bytes in a block of 64 rows x 128 bytes), 64-byte, 32-byte (one k
// step a block of 64 x 32 bytes), none (core matrices of 8 rows x 16
// bytes, 8-row groups 128 bytes apart, k halves 1 KB apart).
// M-major A (the value product): 128-byte swizzle, 64 value columns a
// block of 64 cache rows (8 KB), a k step 16 cache rows (2 KB).
constexpr Layout ls[] = {
    {"K-major sw128 (scores)", 1, 16, 1024, 4, 32, 8192, false},
    {"K-major none", 0, 1024, 128, 1, 0, 2048, false},
    {"M-major sw128 (values)", 1, 8192, 1024, 4, 2048, 8192, true},
    {"registers (RS)", 0, 0, 0, 1, 0, 0, false},
};
// B (16 rows): 128-byte swizzle (the kernel's Q and P^T: 4 k steps in a
// block of 16 rows x 128 bytes), 64-byte, 32-byte, none (core matrices
// of 8 rows x 16 bytes, 8-row groups 128 bytes apart, k halves 256).
constexpr Layout bs[] = {
    {"sw128", 1, 16, 1024, 4, 32, 2048, false},
    {"sw64", 2, 16, 512, 2, 32, 1024, false},
    {"sw32", 3, 16, 256, 1, 0, 512, false},
    {"none", 0, 256, 128, 1, 0, 512, false},
};

// Two bf16 of random sign, exponent (2^-8 .. 2^2) and mantissa.
__device__ __forceinline__ uint32_t bf16Pair(uint32_t i) {
  uint32_t h = i * 2654435761u;
  h ^= h >> 15;
  h *= 2246822519u;
  h ^= h >> 13;
  auto one = [](uint32_t r) {
    return (r & 0x807fu) | ((119u + (r >> 7) % 11u) << 7);
  };
  return one(h & 0xffffu) | (one(h >> 16) << 16);
}

__device__ __forceinline__ uint64_t desc(uint32_t addr, int swz, int lbo,
                                         int sbo) {
  return uint64_t((addr & 0x3FFFF) >> 4) | (uint64_t(lbo >> 4) << 16) |
         (uint64_t(sbo >> 4) << 32) | (uint64_t(swz) << 62);
}

template <int TA>
__device__ __forceinline__ void mma(float *d, uint64_t a, uint64_t b,
                                    int accumulate = 1) {
  asm volatile("{\n.reg .pred p;\nsetp.ne.b32 p, %10, 0;\n"
               "wgmma.mma_async.sync.aligned.m64n16k16.f32.bf16.bf16 "
               "{%0, %1, %2, %3, %4, %5, %6, %7}, %8, %9, p, 1, 1, %11, 0;\n}\n"
               : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]),
                 "+f"(d[5]), "+f"(d[6]), "+f"(d[7])
               : "l"(a), "l"(b), "r"(accumulate), "n"(TA));
}

__device__ __forceinline__ void mmaRS(float *d, const uint32_t *a, uint64_t b) {
  asm volatile("{\n.reg .pred p;\nsetp.ne.b32 p, 1, 0;\n"
               "wgmma.mma_async.sync.aligned.m64n16k16.f32.bf16.bf16 "
               "{%0, %1, %2, %3, %4, %5, %6, %7}, {%8, %9, %10, %11}, %12, p, 1, 1, 0;\n}\n"
               : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]),
                 "+f"(d[5]), "+f"(d[6]), "+f"(d[7])
               : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(b));
}

// TA: 0 A K-major from workgroup memory, 1 M-major, 2 A from registers.
template <int TA, int CHAIN, int LA, int LB, int BSPAN, int KERNELLIKE>
__global__ void __launch_bounds__(256, 1)
    run(int iters, int wgs, bool zero, int gapNs, float *sink,
        long long *cycles) {
  extern __shared__ __align__(1024) unsigned char smem[];
  int wg = threadIdx.x / 128;
  // Data that is not zero (the rate of a product may depend on it).
  for (int i = threadIdx.x; i < wgs * REGION / 4; i += blockDim.x)
    reinterpret_cast<uint32_t *>(smem)[i] = zero ? 0u : bf16Pair(i);
  __syncthreads();
  if (wg >= wgs)
    return;
  constexpr Layout l = ls[LA], bl = bs[LB];
  uint32_t base = (uint32_t)__cvta_generic_to_shared(smem) + wg * REGION;
  // KERNELLIKE: the narrow kernel's order (the query rows first, then the
  // tile), a proxy fence and barrier before each chain, the chain's first
  // product not accumulating.
  uint32_t aBase = KERNELLIKE ? base + 18432 : base,
           bBase = KERNELLIKE ? base : base + 73728;
  float d[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  uint32_t ra[4];
  for (int i = 0; i < 4; ++i)
    ra[i] = zero ? 0u : bf16Pair(threadIdx.x * 4 + i + 977);
  unsigned long long g0, g1;
  asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(g0));
  long long t0 = clock64();
  unsigned long long busy = 0;
  for (int it = 0; it < iters; ++it) {
    unsigned long long c0, c1;
    if (KERNELLIKE) {
      asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory");
      asm volatile("bar.sync 1, 128;\n" ::: "memory");
    }
    asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(c0)::"memory");
    asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory");
#pragma unroll
    for (int c = 0; c < CHAIN; ++c) {
      uint32_t a = aBase + (c / l.perBlock) * l.block + (c % l.perBlock) * l.step;
      // B: 16 rows (query rows, or P^T's), K-major, in layout bl.
      uint32_t b = bBase + (c / bl.perBlock) * bl.block % BSPAN + (c % bl.perBlock) * bl.step;
      uint64_t bd = desc(b, bl.swz, bl.lbo, bl.sbo);
      if (TA == 2)
        mmaRS(d, ra, bd);
      else
        mma<TA == 1>(d, desc(a, l.swz, l.lbo, l.sbo), bd,
                     KERNELLIKE && c == 0 ? 0 : 1);
    }
    asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory");
    asm volatile("wgmma.wait_group.sync.aligned 0;\n" ::: "memory");
    asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(c1)::"memory");
    busy += c1 - c0;
    // Idle time between chains, as the decode loop's softmax and waits
    // leave the tensor cores.
    if (gapNs) {
      unsigned long long g;
      do
        asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(g)::"memory");
      while (g - c1 < (unsigned long long)gapNs);
    }
  }
  long long t1 = clock64();
  asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(g1));
  float s = 0;
  for (float x : d)
    s += x;
  if (s == 12345.f)
    sink[threadIdx.x] = s;
  if (threadIdx.x % 128 == 0)
    cycles[blockIdx.x * 2 + wg] = t1 - t0;
  if (threadIdx.x == 0)
    cycles[2 * gridDim.x + blockIdx.x] = (long long)busy;
}

static int sms = 0;
static float *sink;
static long long *cyc;

// Cycles per wgmma of warpgroup 0 with `wgs` warpgroups a block.
template <int LA, int LB, int BSPAN = 2048, int KL = 0>
int measure(int wgs, int gapNs = 0, int threads = 256, int smemBytes = 2 * REGION) {
  constexpr Layout l = ls[LA], bl = bs[LB];
  constexpr bool rs = l.lbo == 0;
  constexpr int TA = rs ? 2 : l.transA ? 1 : 0, chain = l.transA ? 32 : 36;
  const int iters = 1000;
  auto kernel = run<TA, chain, LA, LB, BSPAN, KL>;
  CK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, smemBytes));
  kernel<<<sms, threads, smemBytes>>>(10, wgs, false, gapNs, sink, cyc);
  CK(cudaGetLastError());
  CK(cudaDeviceSynchronize());
  kernel<<<sms, threads, smemBytes>>>(iters, wgs, false, gapNs, sink, cyc);
  CK(cudaGetLastError());
  CK(cudaDeviceSynchronize());
  long long host[3 * 1024];
  CK(cudaMemcpy(host, cyc, sms * 3 * 8, cudaMemcpyDeviceToHost));
  double per = double(host[0]) / (double(iters) * chain);
  double ns = double(host[2 * sms]) / (double(iters) * chain);
  printf("%-24s %5s %3d %5d %6d %12.1f %12.1f %8.1f  (B over %d KB%s)\n",
         l.name, bl.name, wgs, chain, gapNs, per, per / wgs, ns, BSPAN / 1024,
         KL ? ", kernel-like" : "");
  return 0;
}

template <int LA, int LB, int BSPAN = 2048> int measureBoth() {
  return measure<LA, LB, BSPAN>(1) || measure<LA, LB, BSPAN>(2);
}

int main() {
  CK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, 0));
  CK(cudaMalloc(&sink, 4096));
  CK(cudaMalloc(&cyc, sms * 3 * 8));
  printf("%-24s %5s %3s %5s %6s %12s %12s %8s\n", "A layout", "B", "wgs",
         "chain", "gap ns", "cyc/wgmma/wg", "cyc/wgmma/SM", "ns/wgmma");
  // ns/wgmma counts a chain from its fence to its wait's end (with a gap:
  // the cycles include the gaps).
  // B over 2 KB (4 k steps, then again) or 18 KB (the query's 576
  // columns, as the scores' B walks them).
  return measureBoth<0, 0>() || measureBoth<0, 0, 18432>() ||
         measureBoth<3, 0>() || measureBoth<2, 0>() ||
         measure<0, 0, 18432, 1>(1, 0, 128) ||
         measure<0, 0, 18432, 1>(1, 2000, 128) ||
         measure<2, 0, 2048, 1>(1, 0, 128);
}
