//===- DryRunModule.h - a module of an artifact on the stand-in GPU -------===//
//
// The runtime test programs' common start: `prog ARTIFACT_DIR MODULE`, the
// artifact opened on attn-run --dry-run's stand-in GPU and the module (or
// function) named.
//
//===----------------------------------------------------------------------===//
#ifndef ATTN_TEST_RUNTIME_DRYRUNMODULE_H
#define ATTN_TEST_RUNTIME_DRYRUNMODULE_H

#include "DryRunDevice.h"
#include <cstdio>

namespace attn::run {

struct DryRunModule {
  DryRunDevice dev{"sm_90a", 132};
  std::unique_ptr<rt::Artifact> art;
  rt::KernelModule *module = nullptr;

  /// False, after printing why, where the arguments, the artifact or the
  /// module are not there.
  bool open(int argc, char **argv) {
    if (argc != 3) {
      std::printf("usage: %s ARTIFACT_DIR MODULE\n", argv[0]);
      return false;
    }
    if (rt::Status s = rt::Artifact::open(argv[1], art, &dev); !s) {
      std::printf("open: %s\n", s.message.c_str());
      return false;
    }
    module = art->find(argv[2]);
    if (!module)
      std::printf("no module %s in %s\n", argv[2], argv[1]);
    return module != nullptr;
  }
};

} // namespace attn::run

#endif // ATTN_TEST_RUNTIME_DRYRUNMODULE_H
