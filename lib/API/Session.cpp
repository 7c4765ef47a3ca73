//===- Session.cpp - one API call's MLIR context and diagnostics ----------===//
#include "Session.h"
#include "attn/InitAll.h"
#include "mlir/Parser/Parser.h"
#include "llvm/Support/raw_ostream.h"

namespace attn::detail {

static mlir::DialectRegistry registry() {
  mlir::DialectRegistry r;
  mlir::attn::registerAllDialects(r);
  return r;
}

Session::Session(std::vector<Diagnostic> &diagnostics)
    : context(registry()), diagnostics(diagnostics),
      handler(&context, [this](mlir::Diagnostic &d) {
        record(d);
        return mlir::success();
      }) {}

void Session::record(mlir::Diagnostic &d) {
  Diagnostic out;
  switch (d.getSeverity()) {
  case mlir::DiagnosticSeverity::Error:
    out.severity = Severity::Error;
    break;
  case mlir::DiagnosticSeverity::Warning:
    out.severity = Severity::Warning;
    break;
  case mlir::DiagnosticSeverity::Note:
    out.severity = Severity::Note;
    break;
  case mlir::DiagnosticSeverity::Remark:
    out.severity = Severity::Remark;
    break;
  }
  mlir::Location where = d.getLocation();
  if (auto file = mlir::dyn_cast<mlir::FileLineColLoc>(where)) {
    out.location = file.getFilename().str() + ":" +
                   std::to_string(file.getLine()) + ":" +
                   std::to_string(file.getColumn());
  } else if (!mlir::isa<mlir::UnknownLoc>(where)) {
    llvm::raw_string_ostream loc(out.location);
    where.print(loc);
  }
  out.message = d.str();
  diagnostics.push_back(std::move(out));
  for (mlir::Diagnostic &note : d.getNotes())
    record(note);
}

void Session::error(std::string message) {
  diagnostics.push_back({Severity::Error, "", std::move(message)});
}

bool Session::failed() const {
  for (const Diagnostic &d : diagnostics)
    if (d.severity == Severity::Error)
      return true;
  return false;
}

mlir::OwningOpRef<mlir::ModuleOp> Session::parse(std::string_view source,
                                                 llvm::StringRef name) {
  return mlir::parseSourceString<mlir::ModuleOp>(
      llvm::StringRef(source.data(), source.size()), &context, name);
}

} // namespace attn::detail
