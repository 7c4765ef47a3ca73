//===- Json.h - a small JSON reader for the runtime -------------*- C++ -*-===//
//
// The runtime must build without LLVM or MLIR (the GPU machines have
// neither), so it reads manifest.json with this reader instead of
// llvm::json. It accepts standard JSON and nothing more.
//
//===----------------------------------------------------------------------===//
#ifndef ATTN_RUNTIME_JSON_H
#define ATTN_RUNTIME_JSON_H

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace attn::rt {

class Json {
public:
  enum class Kind { Null, Bool, Number, String, Array, Object };

  /// Parses `text`; on error returns false and describes it in `error`.
  static bool parse(const std::string &text, Json &out, std::string &error);

  Kind kind() const { return kind_; }
  bool isObject() const { return kind_ == Kind::Object; }
  /// Member lookup; a missing member (or a non-object) yields Null.
  const Json &operator[](const std::string &key) const;
  const Json &operator[](size_t i) const;
  size_t size() const;
  const std::string &str() const { return string_; }
  double num() const { return number_; }
  int64_t i64() const { return static_cast<int64_t>(number_); }
  bool boolean() const { return bool_; }
  bool has(const std::string &key) const;

private:
  friend class JsonParser;
  Kind kind_ = Kind::Null;
  bool bool_ = false;
  double number_ = 0;
  std::string string_;
  std::vector<Json> array_;
  std::map<std::string, Json> object_;
};

} // namespace attn::rt

#endif // ATTN_RUNTIME_JSON_H
