/*===- attn_runtime.h - C API of the attn runtime ---------------*- C -*-===*\
|*                                                                          *|
|* For FFI (Python ctypes, other languages). Every call returns 0 on        *|
|* success and writes a message into `err` (when given) on failure.         *|
\*===----------------------------------------------------------------------===*/
#ifndef ATTN_RUNTIME_C_H
#define ATTN_RUNTIME_C_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct attn_artifact attn_artifact;

/* Opens an artifact directory written by attn-compile and loads its kernels. */
int attn_artifact_open(const char *dir, attn_artifact **out, char *err,
                       size_t err_len);
void attn_artifact_close(attn_artifact *a);
int attn_artifact_num_modules(attn_artifact *a);
/* Index of the module named `name` (module or function name), or -1. */
int attn_artifact_find(attn_artifact *a, const char *name);
const char *attn_module_name(attn_artifact *a, int module);
const char *attn_module_manifest(attn_artifact *a, int module);
/* The tensors `attn_module_run` takes, in order. */
int attn_module_num_inputs(attn_artifact *a, int module);
const char *attn_module_input_name(attn_artifact *a, int module, int i);
/* Runs one attention: `buffers` are device pointers in input order, each
   16-byte aligned (an error names one that is not). */
int attn_module_run(attn_artifact *a, int module, void *const *buffers,
                    int64_t batch, int64_t query_tokens, int64_t cache_rows,
                    int64_t splits, void *stream, char *err, size_t err_len);
/* Which combine kernel attn_module_run launches: 0 chosen by size, 1 one
   batch row per block, 2 several (combine_rows; an error where the module
   has none), 3 one batch row per block on more threads (combine_wide; an
   error where the module has none), 4 none: the forward kernel, launched
   cooperatively, merges the splits (grid_merge; an error where the module
   or the driver cannot, or the grid is larger than what is resident), 5 one
   batch row per block in column slices on combine_wide's threads
   (combine_slices; an error where the module has none), 6 project_slices
   (16 batch rows and one latent slice of one head a block; an error where
   the module has none). */
int attn_module_set_combine(attn_artifact *a, int module, int mode, char *err,
                            size_t err_len);

#ifdef __cplusplus
}
#endif

#endif /* ATTN_RUNTIME_C_H */
