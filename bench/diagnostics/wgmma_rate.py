"""The time one warpgroup's wgmma takes, by N and operand source, as the
narrow decode kernel issues them: a chain of 36 m64nNk16 bf16 products into
one f32 accumulator (MLA's 576-wide scores), A from workgroup memory (SS,
the 128-byte swizzle, K-major or transposed) or from registers (RS), then
commit and wait. One block of 128 threads per SM on every SM, as the decode
kernels run. Prints cycles per wgmma and ns per chain of 36.

Usage (GPU machine): python3 bench/diagnostics/wgmma_rate.py [REPS]
Writes and compiles /tmp/wgmma_rate.cu with nvcc for sm_90a."""
import os, subprocess, sys

CHAIN = 36
# (name, N, mode, accumulators): mode ss = A descriptor K-major, sst = A
# descriptor transposed (the values' V^T), rs = A from registers.
CONFIGS = [("ss", 16, "ss", 1), ("ss2acc", 16, "ss", 2), ("sst", 16, "sst", 1),
           ("rs", 16, "rs", 1), ("rs2acc", 16, "rs", 2), ("ss", 32, "ss", 1),
           ("rs", 32, "rs", 1), ("ss", 64, "ss", 1), ("rs", 64, "rs", 1),
           ("ss", 128, "ss", 1), ("ss", 256, "ss", 1)]


def wgmma(n, mode, acc):
    regs = n // 2
    d = ",".join(f"%{i}" for i in range(regs))
    cons = ", ".join(f'"+f"({acc}[{i}])' for i in range(regs))
    if mode == "rs":
        a = "{" + ",".join(f"%{regs + i}" for i in range(4)) + "}"
        b = f"%{regs + 4}"
        ins = 'ra[0]), "r"(ra[1]), "r"(ra[2]), "r"(ra[3]'
        tail = "p, 1, 1, 0"
        return (f'asm volatile("{{\\n.reg .pred p;\\nsetp.ne.b32 p, 1, 0;\\n'
                f'wgmma.mma_async.sync.aligned.m64n{n}k16.f32.bf16.bf16 {{{d}}}, {a}, {b}, {tail};\\n}}\\n"'
                f' : {cons} : "r"({ins}), "l"(db));')
    ta = 1 if mode == "sst" else 0
    return (f'asm volatile("{{\\n.reg .pred p;\\nsetp.ne.b32 p, 1, 0;\\n'
            f'wgmma.mma_async.sync.aligned.m64n{n}k16.f32.bf16.bf16 {{{d}}}, %{regs}, %{regs + 1}, p, 1, 1, {ta}, 0;\\n}}\\n"'
            f' : {cons} : "l"(da), "l"(db));')


def kernel(idx, name, n, mode, accs):
    regs = n // 2
    lines = [f"__global__ void __launch_bounds__(128) k{idx}(long long *out, int reps) {{",
             "  extern __shared__ __align__(1024) unsigned char smem[];",
             "  unsigned base = (unsigned)__cvta_generic_to_shared(smem);",
             "  for (int i = threadIdx.x; i < 110592 / 4; i += 128) ((float *)smem)[i] = 0.001f * (i % 7);",
             "  __syncthreads();"]
    for a in range(accs):
        lines.append(f"  float acc{a}[{regs}]; for (int i = 0; i < {regs}; ++i) acc{a}[i] = 0.f;")
    lines.append("  unsigned ra[4] = {0x3c003c00u, 0x3c003c00u, 0x3c003c00u, 0x3c003c00u};")
    lines += ["  long long t0 = clock64();", "  unsigned long long g0; asm volatile(\"mov.u64 %0, %%globaltimer;\" : \"=l\"(g0));",
              "  for (int r = 0; r < reps; ++r) {",
              '    asm volatile("wgmma.fence.sync.aligned;\\n" ::: "memory");']
    for c in range(CHAIN):
        blk, w = divmod(c, 4)
        if mode == "sst":  # V^T: 16 keys x 64 dims per step, MN-major
            aoff = (c % 8) * 64 * 128 // 8 + (c // 8) * 16 * 128
        else:  # K tile: 64 keys x 16 dims per step, 64-column blocks
            aoff = blk * 64 * 128 + w * 32
        boff = 73728 + w * 32  # one 64-column block of N rows (32 KB at N=256)
        lines.append(f"    {{ unsigned long long da = desc(base + {aoff}), db = desc(base + {boff});")
        lines.append("      " + wgmma(n, mode, f"acc{c % accs}") + " }")
    lines += ['    asm volatile("wgmma.commit_group.sync.aligned;\\n" ::: "memory");',
              '    asm volatile("wgmma.wait_group.sync.aligned 0;\\n" ::: "memory");', "  }",
              "  long long t1 = clock64();", "  unsigned long long g1; asm volatile(\"mov.u64 %0, %%globaltimer;\" : \"=l\"(g1));",
              "  float s = 0.f;"]
    for a in range(accs):
        lines.append(f"  for (int i = 0; i < {regs}; ++i) s += acc{a}[i];")
    lines += ["  if (threadIdx.x == 0) { out[3 * blockIdx.x] = t1 - t0; out[3 * blockIdx.x + 1] = (long long)(g1 - g0);",
              "    out[3 * blockIdx.x + 2] = (long long)s; }", "}"]
    return "\n".join(lines)


HEAD = r"""
#include <cstdio>
#include <cstdlib>
#include <cuda_runtime.h>
// 128-byte swizzle, K-major: leading byte offset 16 (unused), stride 1024.
__device__ __forceinline__ unsigned long long desc(unsigned addr) {
  unsigned long long d = 0;
  d |= (unsigned long long)((addr & 0x3FFFF) >> 4);
  d |= (unsigned long long)(16 >> 4) << 16;
  d |= (unsigned long long)(1024 >> 4) << 32;
  d |= 1ull << 62;
  return d;
}
"""


def main():
    reps = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    src = [HEAD]
    for i, (name, n, mode, accs) in enumerate(CONFIGS):
        src.append(kernel(i, name, n, mode, accs))
    src.append("int main(int argc, char **argv) {\n  int reps = atoi(argv[1]), sms = 0;\n"
               "  cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, 0);\n"
               "  long long *d; cudaMalloc(&d, 3 * 8 * sms); long long *h = (long long *)malloc(3 * 8 * sms);")
    for i, (name, n, mode, accs) in enumerate(CONFIGS):
        src.append(f"  cudaFuncSetAttribute(k{i}, cudaFuncAttributeMaxDynamicSharedMemorySize, 110592);\n"
                   f"  for (int w = 0; w < 2; ++w) k{i}<<<sms, 128, 110592>>>(d, w ? reps : 10);\n"
                   f"  if (cudaDeviceSynchronize() != cudaSuccess) {{ printf(\"k{i} failed: %s\\n\", cudaGetErrorString(cudaGetLastError())); return 1; }}\n"
                   f"  cudaMemcpy(h, d, 3 * 8 * sms, cudaMemcpyDeviceToHost);\n"
                   f"  {{ double c = 0, g = 0; for (int s = 0; s < sms; ++s) {{ c += h[3 * s]; g += h[3 * s + 1]; }}\n"
                   f"    c /= sms; g /= sms; printf(\"%-8s N=%-4d %3d acc  %7.1f cycles/wgmma  %7.1f ns/chain of {CHAIN}  %6.1f TFLOP/s\\n\", \"{name}\", {n}, {accs},"
                   f" c / reps / {CHAIN}, g / reps, 2.0 * 64 * {n} * 16 * {CHAIN} * sms / (g / reps) * 1e-3); }}")
    src.append("  return 0;\n}\n")
    open("/tmp/wgmma_rate.cu", "w").write("\n".join(src))
    subprocess.run(["/usr/local/cuda/bin/nvcc", "-O3", "-gencode", "arch=compute_90a,code=sm_90a", "-o", "/tmp/wgmma_rate",
                    "/tmp/wgmma_rate.cu"], check=True)
    subprocess.run(["/tmp/wgmma_rate", str(reps)], check=True)


if __name__ == "__main__":
    main()
