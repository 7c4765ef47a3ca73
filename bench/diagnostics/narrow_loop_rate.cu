// The narrow decode kernel's tile iteration (MLA-16: 64 cache rows of 576,
// 16 query rows, 512 value columns) without its copies: the tile stays in
// workgroup memory, so this times the compute alone, by part. Each part can
// be left out, to find where an iteration's time goes:
//   S  scores: handOff (fence.proxy.async, bar.sync), 36 wgmma m64n16k16
//      (A: the tile, B: the query rows, both K-major, 128-byte swizzle),
//      commit, wait
//   X  softmax: scale, each column's max over 8 lanes (shuffles) and the 4
//      warps (workgroup memory, bar.sync), exp2, the rescale of 64
//      accumulators, P^T stored as bf16
//   V  values: handOff, 32 wgmma m64n16k16 (A: the tile read M-major, B:
//      P^T), commit, wait
//   T  tiles streamed: each iteration waits for its tile (mbarrier) and
//      thread 0 issues the next one into the other slot (9 bulk copies of
//      8 KB from a 2 GB buffer, so from DRAM); with T = 2 as the kernel's
//      TMA does: 9 tensor copies of 64 rows x 64 columns of a [rows x 576]
//      bf16 map in the 128-byte swizzle. The products then read the slot
//      the tile landed in
// One block of 128 threads per SM on every SM. Also prints the
// %globaltimer's step, which bounds what trace-blocks can resolve.
//
// Usage (GPU machine):
//   nvcc -O3 -gencode arch=compute_90a,code=sm_90a -o /tmp/nl bench/diagnostics/narrow_loop_rate.cu -lcuda && /tmp/nl
#include <cstdio>
#include <cuda.h>
#include <cuda_bf16.h>
#include <cuda_runtime.h>

// Two tile slots (the second only where T streams tiles), the query rows,
// P^T, the exchange buffer and the slots' barriers.
constexpr int kTile = 0, kSlot = 73728, kQuery = 147456, kP = 165888,
              kMl = 167936, kBar = 168448, kSmem = 169 * 1024;
constexpr long long kStream = 1ll << 31; // bytes streamed from, past L2

__device__ __forceinline__ unsigned long long desc(unsigned addr,
                                                   unsigned lead) {
  return (unsigned long long)((addr & 0x3FFFF) >> 4) |
         (unsigned long long)(lead >> 4) << 16 |
         (unsigned long long)(1024 >> 4) << 32 | 1ull << 62;
}

#define MMA16(ACC, DA, DB, SCALE, TA)                                          \
  asm volatile("{\n.reg .pred p;\nsetp.ne.b32 p, %10, 0;\n"                    \
               "wgmma.mma_async.sync.aligned.m64n16k16.f32.bf16.bf16 "         \
               "{%0,%1,%2,%3,%4,%5,%6,%7}, %8, %9, p, 1, 1, " #TA ", 0;\n}\n"  \
               : "+f"(ACC[0]), "+f"(ACC[1]), "+f"(ACC[2]), "+f"(ACC[3]),       \
                 "+f"(ACC[4]), "+f"(ACC[5]), "+f"(ACC[6]), "+f"(ACC[7])        \
               : "l"(DA), "l"(DB), "r"(SCALE))

// Two bf16 in about [-2, 2): the tensor cores' power, and so the clock,
// depends on the operands' bits.
__host__ __device__ inline unsigned randomPair(unsigned i) {
  unsigned x = i * 2654435761u;
  x ^= x >> 15, x *= 2246822519u, x ^= x >> 13;
  auto half = [](unsigned r) { return 0x3f80u | (r & 0x807fu); };
  return half(x) | half(x >> 16) << 16;
}
__global__ void fillRandom(unsigned *p, long long n) {
  for (long long i = blockIdx.x * 256ll + threadIdx.x; i < n; i += 256ll * gridDim.x)
    p[i] = randomPair(unsigned(i));
}

__device__ __forceinline__ void handOff() {
  asm volatile("fence.proxy.async.shared::cta;\nbar.sync 0;\n" ::: "memory");
}
__device__ __forceinline__ void fence() {
  asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory");
}
__device__ __forceinline__ void commitWait() {
  asm volatile("wgmma.commit_group.sync.aligned;\n"
               "wgmma.wait_group.sync.aligned 0;\n" ::: "memory");
}

template <bool S, bool X, bool V, int T>
__global__ void __launch_bounds__(128)
    loop(long long *out, int reps, const char *src,
         const __grid_constant__ CUtensorMap map) {
  extern __shared__ __align__(1024) unsigned char smem[];
  unsigned base = (unsigned)__cvta_generic_to_shared(smem);
  for (int i = threadIdx.x; i < kBar / 4; i += 128)
    ((unsigned *)smem)[i] = randomPair(i + 7919u * blockIdx.x);
  unsigned bar0 = base + kBar;
  auto issue = [&](long long t) {
    unsigned slot = base + kTile + unsigned(t & 1) * kSlot, bar = bar0 + 8 * unsigned(t & 1);
    asm volatile("mbarrier.arrive.expect_tx.shared.b64 _, [%0], %1;" ::"r"(bar), "r"(kSlot) : "memory");
    long long at = ((long long)blockIdx.x * reps + t) * kSlot % (kStream - kSlot);
    if (T == 2) {
      int row = int(at / 1152);
      for (int c = 0; c < 9; ++c)
        asm volatile("cp.async.bulk.tensor.2d.shared::cluster.global.tile.mbarrier::complete_tx::bytes [%0], [%1, {%2, %3}], [%4];"
                     ::"r"(slot + 8192 * c), "l"(&map), "r"(64 * c), "r"(row), "r"(bar) : "memory");
      return;
    }
    for (int c = 0; c < 9; ++c)
      asm volatile("cp.async.bulk.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1], 8192, [%2];"
                   ::"r"(slot + 8192 * c), "l"(src + at + 8192 * c), "r"(bar) : "memory");
  };
  if (T && threadIdx.x == 0) {
    asm volatile("mbarrier.init.shared.b64 [%0], 1;\nmbarrier.init.shared.b64 [%1], 1;\n"
                 "fence.mbarrier_init.release.cluster;" ::"r"(bar0), "r"(bar0 + 8) : "memory");
  }
  __syncthreads();
  if (T && threadIdx.x == 0)
    issue(0);
  int warp = threadIdx.x / 32, lane = threadIdx.x % 32, g = lane / 4,
      t4 = lane % 4;
  float *ml = (float *)(smem + kMl);
  float o[8][8], m[4], l[4];
  for (int a = 0; a < 8; ++a)
    for (int i = 0; i < 8; ++i)
      o[a][i] = 0.f;
  for (int c = 0; c < 4; ++c)
    m[c] = -1e30f, l[c] = 0.f;
  float s[8] = {};
  long long phase[4] = {0, 0, 0, 0};
  long long t0 = clock64();
  unsigned long long g0;
  asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(g0));
  for (int r = 0; r < reps; ++r) {
    long long w = clock64();
    unsigned tile = base + kTile + (T ? unsigned(r & 1) * kSlot : 0);
    if (T) {
      unsigned bar = bar0 + 8 * unsigned(r & 1), parity = unsigned(r >> 1) & 1;
      asm volatile("{\n.reg .pred P;\nW: mbarrier.try_wait.parity.shared.b64 P, [%0], %1, 1000000;\n"
                   "@!P bra.uni W;\n}" ::"r"(bar), "r"(parity) : "memory");
    }
    long long a = clock64();
    if (T) {
      handOff();
      if (threadIdx.x == 0 && r + 1 < reps)
        issue(r + 1);
    }
    if (S) {
      if (!T)
        handOff();
      fence();
#pragma unroll
      for (int ks = 0; ks < 36; ++ks) {
        unsigned long long da = desc(tile + ks / 4 * 8192 + ks % 4 * 32, 16),
                           db = desc(base + kQuery + ks / 4 * 2048 + ks % 4 * 32, 16);
        MMA16(s, da, db, (int)(ks > 0), 0);
      }
      commitWait();
    }
    long long bT = clock64();
    if (X) {
      float mx[4];
      for (int c = 0; c < 4; ++c) {
        s[2 * (c / 2) * 2 + c % 2] *= 0.0625f;
        mx[c] = fmaxf(s[c / 2 * 4 + c % 2], s[c / 2 * 4 + 2 + c % 2]);
        for (int off = 4; off < 32; off *= 2)
          mx[c] = fmaxf(mx[c], __shfl_xor_sync(~0u, mx[c], off));
      }
      if (g == 0)
        for (int c = 0; c < 4; ++c)
          ml[warp * 16 + 8 * (c / 2) + 2 * t4 + c % 2] = mx[c];
      __syncthreads();
      bool grew = false;
      float alpha[4];
      for (int c = 0; c < 4; ++c) {
        int col = 8 * (c / 2) + 2 * t4 + c % 2;
        float x = fmaxf(fmaxf(ml[col], ml[16 + col]), fmaxf(ml[32 + col], ml[48 + col]));
        float mn = fmaxf(m[c], x);
        alpha[c] = exp2f(m[c] - mn);
        grew |= mn > m[c];
        float e0 = exp2f(s[c / 2 * 4 + c % 2] - mn), e1 = exp2f(s[c / 2 * 4 + 2 + c % 2] - mn);
        s[c / 2 * 4 + c % 2] = e0, s[c / 2 * 4 + 2 + c % 2] = e1;
        l[c] = l[c] * alpha[c] + e0 + e1;
        m[c] = mn;
      }
      if (__any_sync(~0u, grew))
        for (int b = 0; b < 8; ++b)
          for (int i = 0; i < 8; ++i)
            o[b][i] *= alpha[i / 4 * 2 + i % 2];
      __nv_bfloat16 *pt = (__nv_bfloat16 *)(smem + kP);
      for (int c = 0; c < 4; ++c)
        for (int h = 0; h < 2; ++h) {
          int row = 8 * (c / 2) + 2 * t4 + c % 2, key = 16 * warp + 8 * h + g;
          int byte = row * 128 + ((key * 2 / 16) ^ (row % 8)) * 16 + key * 2 % 16;
          pt[byte / 2] = __float2bfloat16(s[c / 2 * 4 + 2 * h + c % 2]);
        }
    }
    long long cT = clock64();
    if (V) {
      handOff();
      fence();
#pragma unroll
      for (int mb = 0; mb < 8; ++mb)
#pragma unroll
        for (int c = 0; c < 4; ++c) {
          unsigned long long da = desc(tile + mb * 8192 + c * 2048, 8192),
                             db = desc(base + kP + 32 * c, 16);
          MMA16(o[mb], da, db, 1, 1);
        }
      commitWait();
    }
    long long d = clock64();
    phase[0] += bT - a, phase[1] += cT - bT, phase[2] += d - cT, phase[3] += a - w;
  }
  long long t1 = clock64();
  unsigned long long g1;
  asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(g1));
  float sum = 0.f;
  for (int a = 0; a < 8; ++a)
    for (int i = 0; i < 8; ++i)
      sum += o[a][i];
  for (int c = 0; c < 4; ++c)
    sum += l[c];
  if (threadIdx.x == 0) {
    long long *w = out + 7 * blockIdx.x;
    w[0] = t1 - t0, w[1] = (long long)(g1 - g0), w[2] = phase[0],
    w[3] = phase[1], w[4] = phase[2], w[5] = phase[3], w[6] = (long long)sum;
  }
}

// The smallest nonzero step of %globaltimer seen by one thread.
__global__ void timerStep(long long *out) {
  unsigned long long prev, now, best = ~0ull;
  asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(prev));
  for (int i = 0; i < 20000; ++i) {
    asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(now));
    if (now != prev) {
      if (now - prev < best)
        best = now - prev;
      prev = now;
    }
  }
  out[0] = (long long)best;
}

CUtensorMap theMap;

template <bool S, bool X, bool V, int T = 0>
void run(const char *name, long long *d, long long *h, int sms, int reps,
         const char *src = nullptr) {
  cudaFuncSetAttribute(loop<S, X, V, T>, cudaFuncAttributeMaxDynamicSharedMemorySize, kSmem);
  for (int w = 0; w < 2; ++w)
    loop<S, X, V, T><<<sms, 128, kSmem>>>(d, w ? reps : 10, src, theMap);
  if (cudaDeviceSynchronize() != cudaSuccess) {
    printf("%s failed: %s\n", name, cudaGetErrorString(cudaGetLastError()));
    return;
  }
  cudaMemcpy(h, d, 7 * 8 * sms, cudaMemcpyDeviceToHost);
  double c = 0, g = 0, p[4] = {0, 0, 0, 0};
  for (int s = 0; s < sms; ++s) {
    c += h[7 * s], g += h[7 * s + 1];
    for (int i = 0; i < 4; ++i)
      p[i] += h[7 * s + 2 + i];
  }
  double per = g / sms / reps, ghz = c / g;
  printf("%-10s %7.1f ns/tile  %5.0f cycles/tile (%.2f GHz)  wait %5.0f  scores %5.0f  softmax %5.0f  values %5.0f cycles\n",
         name, per, c / sms / reps, ghz, p[3] / sms / reps, p[0] / sms / reps, p[1] / sms / reps, p[2] / sms / reps);
}

int main() {
  int sms = 0, reps = 2000;
  cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, 0);
  long long *d, h[7 * 256];
  char *src;
  cudaMalloc(&d, 7 * 8 * 256);
  cudaMalloc(&src, kStream);
  fillRandom<<<1024, 256>>>((unsigned *)src, kStream / 4);
  cuuint64_t dims[2] = {576, cuuint64_t(kStream / 1152)}, strides[1] = {1152};
  cuuint32_t box[2] = {64, 64}, ones[2] = {1, 1};
  if (cuTensorMapEncodeTiled(&theMap, CU_TENSOR_MAP_DATA_TYPE_BFLOAT16, 2, src, dims, strides, box, ones,
                             CU_TENSOR_MAP_INTERLEAVE_NONE, CU_TENSOR_MAP_SWIZZLE_128B,
                             CU_TENSOR_MAP_L2_PROMOTION_L2_256B, CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE) != CUDA_SUCCESS)
    printf("cuTensorMapEncodeTiled failed\n");
  timerStep<<<1, 1>>>(d);
  cudaMemcpy(h, d, 8, cudaMemcpyDeviceToHost);
  printf("%%globaltimer step: %lld ns\n", h[0]);
  run<true, true, true>("S+X+V", d, h, sms, reps);
  run<false, true, false>("X", d, h, sms, reps);
  run<true, true, true, 1>("S+X+V+T1", d, h, sms, reps, src);
  run<true, true, true, 2>("S+X+V+T2", d, h, sms, reps, src);
  run<false, false, false, 2>("T2", d, h, sms, reps, src);
  return 0;
}
