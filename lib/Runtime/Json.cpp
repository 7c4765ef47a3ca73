//===- Json.cpp - a small JSON reader for the runtime ---------------------===//
#include "attn/Runtime/Json.h"

#include <cctype>
#include <cstdlib>

namespace attn::rt {

class JsonParser {
public:
  explicit JsonParser(const std::string &t) : text(t) {}

  bool value(Json &out) {
    skip();
    if (pos >= text.size())
      return fail("unexpected end of input");
    char c = text[pos];
    if (c == '{')
      return object(out);
    if (c == '[')
      return array(out);
    if (c == '"') {
      out.kind_ = Json::Kind::String;
      return string(out.string_);
    }
    if (literal("true")) {
      out.kind_ = Json::Kind::Bool;
      out.bool_ = true;
      return true;
    }
    if (literal("false")) {
      out.kind_ = Json::Kind::Bool;
      return true;
    }
    if (literal("null"))
      return true;
    return number(out);
  }

  bool done() {
    skip();
    return pos == text.size() || fail("trailing characters");
  }

  std::string error;

private:
  const std::string &text;
  size_t pos = 0;

  bool fail(const std::string &what) {
    if (error.empty())
      error = what + " at offset " + std::to_string(pos);
    return false;
  }
  void skip() {
    while (pos < text.size() && std::isspace(static_cast<unsigned char>(text[pos])))
      ++pos;
  }
  bool literal(const char *word) {
    size_t n = std::char_traits<char>::length(word);
    if (text.compare(pos, n, word) != 0)
      return false;
    pos += n;
    return true;
  }
  bool expect(char c) {
    skip();
    if (pos < text.size() && text[pos] == c) {
      ++pos;
      return true;
    }
    return fail(std::string("expected '") + c + "'");
  }
  bool string(std::string &out) {
    if (!expect('"'))
      return false;
    while (pos < text.size() && text[pos] != '"') {
      char c = text[pos++];
      if (c != '\\') {
        out.push_back(c);
        continue;
      }
      if (pos >= text.size())
        return fail("unterminated escape");
      char e = text[pos++];
      switch (e) {
      case 'n': out.push_back('\n'); break;
      case 't': out.push_back('\t'); break;
      case 'r': out.push_back('\r'); break;
      case 'b': out.push_back('\b'); break;
      case 'f': out.push_back('\f'); break;
      case 'u': {
        if (pos + 4 > text.size())
          return fail("short \\u escape");
        unsigned code = std::strtoul(text.substr(pos, 4).c_str(), nullptr, 16);
        pos += 4;
        // Manifests are ASCII; keep other code points as UTF-8.
        if (code < 0x80) {
          out.push_back(static_cast<char>(code));
        } else if (code < 0x800) {
          out.push_back(static_cast<char>(0xC0 | (code >> 6)));
          out.push_back(static_cast<char>(0x80 | (code & 0x3F)));
        } else {
          out.push_back(static_cast<char>(0xE0 | (code >> 12)));
          out.push_back(static_cast<char>(0x80 | ((code >> 6) & 0x3F)));
          out.push_back(static_cast<char>(0x80 | (code & 0x3F)));
        }
        break;
      }
      default: out.push_back(e);
      }
    }
    return expect('"');
  }
  bool number(Json &out) {
    const char *begin = text.c_str() + pos;
    char *end = nullptr;
    double v = std::strtod(begin, &end);
    if (end == begin)
      return fail("expected a value");
    pos += static_cast<size_t>(end - begin);
    out.kind_ = Json::Kind::Number;
    out.number_ = v;
    return true;
  }
  bool array(Json &out) {
    out.kind_ = Json::Kind::Array;
    if (!expect('['))
      return false;
    skip();
    if (pos < text.size() && text[pos] == ']') {
      ++pos;
      return true;
    }
    do {
      out.array_.emplace_back();
      if (!value(out.array_.back()))
        return false;
      skip();
    } while (pos < text.size() && text[pos] == ',' && ++pos);
    return expect(']');
  }
  bool object(Json &out) {
    out.kind_ = Json::Kind::Object;
    if (!expect('{'))
      return false;
    skip();
    if (pos < text.size() && text[pos] == '}') {
      ++pos;
      return true;
    }
    do {
      skip();
      std::string key;
      if (!string(key) || !expect(':'))
        return false;
      if (!value(out.object_[key]))
        return false;
      skip();
    } while (pos < text.size() && text[pos] == ',' && ++pos);
    return expect('}');
  }
};

bool Json::parse(const std::string &text, Json &out, std::string &error) {
  JsonParser p(text);
  out = Json();
  if (p.value(out) && p.done())
    return true;
  error = p.error;
  return false;
}

const Json &Json::operator[](const std::string &key) const {
  static const Json null;
  auto it = object_.find(key);
  return it == object_.end() ? null : it->second;
}

const Json &Json::operator[](size_t i) const {
  static const Json null;
  return i < array_.size() ? array_[i] : null;
}

size_t Json::size() const {
  return kind_ == Kind::Array ? array_.size() : object_.size();
}

bool Json::has(const std::string &key) const { return object_.count(key); }

} // namespace attn::rt
