# find_package(AttnRuntime): the attn runtime alone (no MLIR needed).
# Target: Attn::Runtime (libattn_runtime.so, headers attn/Runtime/*.h).
include("${CMAKE_CURRENT_LIST_DIR}/AttnRuntimeTargets.cmake")
