// Which forms of cp.async with an L2 cache hint run on this device: each
// form copies 16-byte chunks into workgroup memory and back, and the
// output is checked. Run one form per process (an illegal instruction
// ends the context): cp_async_hint <form>.
//   0: cp.async.cg 16, no hint (the control)
//   1: .L2::cache_hint, 16, policy            (shared address 32-bit)
//   2: .L2::cache_hint, 16, src-size, policy  (shared address 32-bit)
//   3: as 2, shared address 64-bit (what attn's inline PTX passed)
//   4: as 2, policy evict_unchanged
//   5: as 2, src-size 0 for odd chunks (zero fill)
//   6: as 2, the policy selected by gridDim.x == 1 from evict_first and
//      evict_unchanged (uniform, as attn selects it)
//   7: as 2, the policy selected per thread (odd threads evict_unchanged)
#include <cstdio>
#include <cstdlib>
#include <cstdint>
#include <cuda_runtime.h>

__global__ void copy(const int4 *in, int4 *out, int form) {
  __shared__ int4 buf[256];
  int t = threadIdx.x;
  uint64_t policy;
  uint64_t first, unchanged;
  asm volatile("createpolicy.fractional.L2::evict_first.b64 %0, 1.0;" : "=l"(first));
  asm volatile("createpolicy.fractional.L2::evict_unchanged.b64 %0, 1.0;" : "=l"(unchanged));
  policy = form == 4 ? unchanged
           : form == 6 ? (gridDim.x == 1 ? first : unchanged)
           : form == 7 ? ((threadIdx.x & 1) ? unchanged : first)
                       : first;
  uint32_t s32 = (uint32_t)__cvta_generic_to_shared(&buf[t]);
  uint64_t s64 = s32;
  const int4 *g = in + blockIdx.x * 256 + t;
  int srcBytes = (form == 5 && (t & 1)) ? 0 : 16;
  switch (form) {
  case 0:
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16;" :: "r"(s32), "l"(g));
    break;
  case 1:
    asm volatile("cp.async.cg.shared.global.L2::cache_hint [%0], [%1], 16, %2;" :: "r"(s32), "l"(g), "l"(policy));
    break;
  case 2: case 4: case 5: case 6: case 7:
    asm volatile("cp.async.cg.shared.global.L2::cache_hint [%0], [%1], 16, %2, %3;" :: "r"(s32), "l"(g), "r"(srcBytes), "l"(policy));
    break;
  case 3:
    asm volatile("cp.async.cg.shared.global.L2::cache_hint [%0], [%1], 16, %2, %3;" :: "l"(s64), "l"(g), "r"(srcBytes), "l"(policy));
    break;
  }
  asm volatile("cp.async.commit_group;\ncp.async.wait_group 0;" ::: "memory");
  __syncthreads();
  out[blockIdx.x * 256 + t] = buf[t];
}

int main(int argc, char **argv) {
  int form = argc > 1 ? atoi(argv[1]) : 0, n = 132 * 256;
  int4 *in, *out;
  cudaMallocManaged(&in, n * sizeof(int4));
  cudaMallocManaged(&out, n * sizeof(int4));
  for (int i = 0; i < n; ++i) in[i] = make_int4(i, i + 1, i + 2, i + 3), out[i] = make_int4(-1, -1, -1, -1);
  copy<<<132, 256>>>(in, out, form);
  cudaError_t e = cudaDeviceSynchronize();
  if (e != cudaSuccess) { printf("form %d: %s\n", form, cudaGetErrorString(e)); return 1; }
  int bad = 0;
  for (int i = 0; i < n; ++i) {
    bool zero = form == 5 && (i % 256) % 2;
    int x = zero ? 0 : i;
    bad += out[i].x != x || out[i].w != (zero ? 0 : i + 3);
  }
  printf("form %d: %s (%d wrong)\n", form, bad ? "WRONG" : "ok", bad);
  return bad != 0;
}
