//===- attn_ext.cpp - Python bindings of the attn library API -------------===//
//
// A thin layer: each function is one call of attn/API/Compiler.h with the
// GIL released (compilations on several Python threads run in parallel).
// The Pythonic surface (variant constructors, exceptions) is attn/*.py.
//
//===----------------------------------------------------------------------===//
#include "attn/API/Compiler.h"
#include <nanobind/nanobind.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

namespace nb = nanobind;
using namespace nb::literals;

NB_MODULE(_attn, m) {
  m.doc() = "attn compiler library (attn/API/Compiler.h)";
  m.def("version", &attn::version);
  m.def("supported_targets", &attn::supportedTargets);

  nb::enum_<attn::Severity>(m, "Severity")
      .value("error", attn::Severity::Error)
      .value("warning", attn::Severity::Warning)
      .value("note", attn::Severity::Note)
      .value("remark", attn::Severity::Remark);

  nb::class_<attn::Diagnostic>(m, "Diagnostic")
      .def_ro("severity", &attn::Diagnostic::severity)
      .def_ro("location", &attn::Diagnostic::location)
      .def_ro("message", &attn::Diagnostic::message)
      .def("__repr__", [](const attn::Diagnostic &d) {
        return (d.location.empty() ? std::string() : d.location + ": ") +
               d.message;
      });

  nb::class_<attn::Artifact>(m, "Artifact")
      .def_ro("module", &attn::Artifact::module)
      .def_ro("format", &attn::Artifact::format)
      .def_ro("file_name", &attn::Artifact::fileName)
      .def_prop_ro("data", [](const attn::Artifact &a) {
        return nb::bytes(a.bytes.data(), a.bytes.size());
      });

  nb::class_<attn::CompileResult>(m, "CompileResult")
      .def_ro("ok", &attn::CompileResult::ok)
      .def_ro("diagnostics", &attn::CompileResult::diagnostics)
      .def_ro("artifacts", &attn::CompileResult::artifacts)
      .def_ro("manifest", &attn::CompileResult::manifest)
      .def_ro("report", &attn::CompileResult::report);

  nb::class_<attn::ModuleText>(m, "ModuleText")
      .def_ro("ok", &attn::ModuleText::ok)
      .def_ro("diagnostics", &attn::ModuleText::diagnostics)
      .def_ro("text", &attn::ModuleText::text);

  m.def(
      "compile",
      [](const std::string &source, const std::string &target,
         const std::vector<std::string> &formats, const std::string &outputDir,
         const std::string &toolkit) {
        attn::CompileOptions o;
        o.target = target;
        o.formats = formats;
        o.outputDir = outputDir;
        o.toolkitPath = toolkit;
        return attn::compile(source, o);
      },
      "source"_a, "target"_a = "sm_90a",
      "formats"_a = std::vector<std::string>(), "output_dir"_a = "",
      "toolkit"_a = "", nb::call_guard<nb::gil_scoped_release>());

  m.def(
      "build_attention",
      [](const std::string &variant, const std::string &dtype,
         int64_t queryTokens, bool absorbed, bool seqLens,
         const std::string &mask, const std::string &function) {
        attn::AttentionSpec s;
        s.variant = variant;
        s.dtype = dtype;
        s.queryTokens = queryTokens;
        s.absorbed = absorbed;
        s.seqLens = seqLens;
        s.mask = mask;
        s.function = function;
        return attn::buildAttention(s);
      },
      "variant"_a, "dtype"_a = "bf16", "query_tokens"_a = 1,
      "absorbed"_a = true, "seq_lens"_a = true, "mask"_a = "causal",
      "function"_a = "attention", nb::call_guard<nb::gil_scoped_release>());

  nb::class_<attn::FunctionSignature>(m, "FunctionSignature")
      .def_ro("name", &attn::FunctionSignature::name)
      .def_ro("arguments", &attn::FunctionSignature::arguments)
      .def_ro("results", &attn::FunctionSignature::results);

  nb::class_<attn::CPUProgram>(m, "CPUProgram")
      .def_ro("ok", &attn::CPUProgram::ok)
      .def_ro("diagnostics", &attn::CPUProgram::diagnostics)
      .def_ro("functions", &attn::CPUProgram::functions)
      .def("address", [](const attn::CPUProgram &p, const std::string &name) {
        return reinterpret_cast<uintptr_t>(p.function(name));
      });

  m.def(
      "compile_cpu",
      [](const std::string &source) { return attn::compileForCPU(source); },
      "source"_a, nb::call_guard<nb::gil_scoped_release>());

  m.def(
      "report",
      [](const std::string &source, bool tensorCores) {
        return attn::report(source, tensorCores);
      },
      "source"_a, "tensor_cores"_a = true,
      nb::call_guard<nb::gil_scoped_release>());
}
