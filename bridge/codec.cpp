#include "codec.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <vector>

#include <yaml-cpp/yaml.h>

namespace awf::bridge {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// "text/yaml; charset=utf-8" -> "text/yaml"
std::string bare_media_type(std::string_view value) {
  return lower(trim(value.substr(0, value.find(';'))));
}

std::optional<Format> format_of_media_type(const std::string &type) {
  if (type == "application/json") return Format::Json;
  if (type == "text/yaml" || type == "application/yaml" || type == "application/x-yaml" ||
      type == "text/x-yaml")
    return Format::Yaml;
  return std::nullopt;
}

// --- YAML scalars (1.2 core schema) -------------------------------------------------------

bool is_yaml_null(const std::string &s) { return s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL"; }

std::optional<bool> yaml_bool(const std::string &s) {
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  return std::nullopt;
}

std::optional<nlohmann::json> yaml_number(const std::string &s) {
  if (s.empty()) return std::nullopt;
  size_t i = (s[0] == '-' || s[0] == '+') ? 1 : 0;
  if (i >= s.size()) return std::nullopt;
  bool all_digits = std::all_of(s.begin() + static_cast<long>(i), s.end(),
                                [](unsigned char c) { return std::isdigit(c) != 0; });
  if (all_digits) {
    try {
      size_t used = 0;
      if (s[0] == '-') {
        long long v = std::stoll(s, &used, 10);
        if (used == s.size()) return nlohmann::json(v);
      } else {
        unsigned long long v = std::stoull(s.substr(i), &used, 10);
        if (used == s.size() - i) return nlohmann::json(v);
      }
    } catch (const std::exception &) {
      // out of range: a float below
    }
  }
  // [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?
  size_t j = i, digits = 0;
  while (j < s.size() && std::isdigit(static_cast<unsigned char>(s[j]))) ++j, ++digits;
  if (j < s.size() && s[j] == '.') {
    ++j;
    while (j < s.size() && std::isdigit(static_cast<unsigned char>(s[j]))) ++j, ++digits;
  }
  if (digits == 0) {
    const std::string rest = lower(s.substr(i));
    if (rest == ".inf" || rest == ".nan") return std::nullopt;  // not representable in JSON
    return std::nullopt;
  }
  if (j < s.size() && (s[j] == 'e' || s[j] == 'E')) {
    ++j;
    if (j < s.size() && (s[j] == '-' || s[j] == '+')) ++j;
    size_t exp_digits = 0;
    while (j < s.size() && std::isdigit(static_cast<unsigned char>(s[j]))) ++j, ++exp_digits;
    if (exp_digits == 0) return std::nullopt;
  }
  if (j != s.size()) return std::nullopt;
  // strtod, not stod: stod throws on underflow (5e-324, 1e-400), which is a number all the same.
  const double v = std::strtod(s.c_str(), nullptr);
  if (!std::isfinite(v)) return std::nullopt;
  return nlohmann::json(v);
}

nlohmann::json plain_scalar(const std::string &s) {
  if (is_yaml_null(s)) return nullptr;
  if (auto b = yaml_bool(s)) return *b;
  if (auto n = yaml_number(s)) return *n;
  return s;
}

class YamlConverter {
 public:
  explicit YamlConverter(const DecodeLimits &limits) : limits_(limits) {}

  // Walks the document as convert() does, building nothing: a body whose aliases expand past the
  // limits is refused before any of the expansion is built (building first cost 85-140 MB per
  // alias bomb, which the thread's malloc arena then kept).
  void measure(const YAML::Node &node, size_t depth) {
    count(depth);
    if (node.IsSequence()) {
      for (const auto &item : node) measure(item, depth + 1);
    } else if (node.IsMap()) {
      for (const auto &kv : node) measure(kv.second, depth + 1);
    }
  }

  nlohmann::json convert(const YAML::Node &node, size_t depth) {
    count(depth);
    switch (node.Type()) {
      case YAML::NodeType::Null:
      case YAML::NodeType::Undefined:
        return nullptr;
      case YAML::NodeType::Scalar:
        // A quoted or block scalar is tagged "!" by yaml-cpp; a plain one "?"; !!str is explicit.
        if (node.Tag() == "!" || node.Tag() == "tag:yaml.org,2002:str") return node.Scalar();
        return plain_scalar(node.Scalar());
      case YAML::NodeType::Sequence: {
        nlohmann::json out = nlohmann::json::array();
        for (const auto &item : node) out.push_back(convert(item, depth + 1));
        return out;
      }
      case YAML::NodeType::Map: {
        nlohmann::json out = nlohmann::json::object();
        for (const auto &kv : node) {
          if (!kv.first.IsScalar()) throw DecodeError("YAML mapping keys must be scalars");
          out[kv.first.Scalar()] = convert(kv.second, depth + 1);
        }
        return out;
      }
    }
    return nullptr;
  }

 private:
  void count(size_t depth) {
    if (depth > limits_.max_depth)
      throw DecodeError("YAML nests deeper than " + std::to_string(limits_.max_depth) + " levels");
    if (++values_ > limits_.max_values)
      throw DecodeError("YAML expands to more than " + std::to_string(limits_.max_values) +
                        " values (aliases?)");
  }

  const DecodeLimits &limits_;
  size_t values_ = 0;
};

// --- YAML output ------------------------------------------------------------------------

// Characters a YAML reader must not be given literally: C0 controls, DEL and C1 controls are not
// printable; NEL, LS and PS (U+0085, U+2028, U+2029) are line breaks to a 1.1 reader, which would
// fold them. Strings with any of them are written double-quoted with these escaped.
bool has_unsafe_chars(const std::string &s) {
  for (size_t i = 0; i < s.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7f) return true;
    if (c == 0xc2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) <= 0x9f) return true;  // C1
  }
  return s.find("\xe2\x80\xa8") != std::string::npos || s.find("\xe2\x80\xa9") != std::string::npos;
}

// Whether a plain YAML scalar with this text would be read as something other than this string
// by a 1.2 or a 1.1 reader (yes/no/on/off, dates, sexagesimals...), or is not a valid plain scalar.
bool needs_quotes(const std::string &s) {
  if (s.empty()) return true;
  const std::string l = lower(s);
  // ... and "<<" (a 1.1 merge key) and "=" (the 1.1 value key).
  static const char *kSpecial[] = {"true", "false", "yes", "no", "on", "off", "y", "n", "null", "~", "<<", "="};
  for (const char *word : kSpecial)
    if (l == word) return true;
  const unsigned char first = static_cast<unsigned char>(s[0]);
  if (std::isdigit(first) || first == '-' || first == '+' || first == '.') return true;
  if (std::string_view("!&*[]{},#|>@`\"'%?:").find(static_cast<char>(first)) != std::string_view::npos)
    return true;
  if (std::isspace(first) || std::isspace(static_cast<unsigned char>(s.back()))) return true;
  if (s.find(": ") != std::string::npos || s.find(" #") != std::string::npos) return true;
  if (s.back() == ':') return true;
  if (s.rfind("\xef\xbb\xbf", 0) == 0) return true;  // a byte order mark opening the document is dropped
  return has_unsafe_chars(s);
}

// Whether `s` is well-formed UTF-8 (no overlongs, surrogates or code points past U+10FFFF).
bool is_utf8(const std::string &s) {
  size_t i = 0;
  const size_t n = s.size();
  while (i < n) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    unsigned char lo = 0x80, hi = 0xbf;  // bounds of the second byte
    if (c >= 0xc2 && c <= 0xdf) {
      len = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
      len = 3;
      if (c == 0xe0) lo = 0xa0;
      if (c == 0xed) hi = 0x9f;  // no surrogates
    } else if (c >= 0xf0 && c <= 0xf4) {
      len = 4;
      if (c == 0xf0) lo = 0x90;
      if (c == 0xf4) hi = 0x8f;
    } else {
      return false;
    }
    if (i + len > n) return false;
    const auto second = static_cast<unsigned char>(s[i + 1]);
    if (second < lo || second > hi) return false;
    for (size_t k = 2; k < len; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xc0) != 0x80) return false;
    i += len;
  }
  return true;
}

// Invalid UTF-8 replaced with U+FFFD (as the JSON output does), so that neither format ever emits
// it. Only called for text that is not well-formed; the usual case is written as it is.
std::string repaired_utf8(const std::string &s) {
  return nlohmann::json::parse(nlohmann::json(s).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace))
      .get<std::string>();
}

// Block-style YAML, written directly: the bridge answers every YAML request with it, and a
// general emitter re-checks each scalar with regular expressions (a quarter of the bridge's CPU
// in a YAML lifecycle). The quoting decisions are ours anyway (needs_quotes, has_unsafe_chars).
// Layout is yaml-cpp's with indent 2: "key:\n  - item", "- k: v\n  k2: v2", "- - 1".
class YamlWriter {
 public:
  std::string document(const nlohmann::json &doc) {
    node(doc, 0);
    out_.push_back('\n');
    return std::move(out_);
  }

 private:
  static bool is_block(const nlohmann::json &v) { return (v.is_object() || v.is_array()) && !v.empty(); }

  void newline(size_t indent) {
    out_.push_back('\n');
    out_.append(indent, ' ');
  }

  // Writes `v` with the cursor at column `indent` (on a fresh line, or after "- ").
  void node(const nlohmann::json &v, size_t indent) {
    switch (v.type()) {
      case nlohmann::json::value_t::object: {
        if (v.empty()) {
          out_ += "{}";
          return;
        }
        bool first = true;
        for (const auto &[key, value] : v.items()) {
          if (!first) newline(indent);
          first = false;
          const size_t mark = out_.size();
          string(key);
          if (out_.size() - mark > 1000) {
            // YAML limits an implicit key to 1024 characters: write "? key\n: value".
            out_.insert(mark, "? ");
            newline(indent);
          }
          out_.push_back(':');
          if (is_block(value)) {
            newline(indent + 2);
            node(value, indent + 2);
          } else {
            out_.push_back(' ');
            node(value, indent);
          }
        }
        return;
      }
      case nlohmann::json::value_t::array: {
        if (v.empty()) {
          out_ += "[]";
          return;
        }
        bool first = true;
        for (const auto &item : v) {
          if (!first) newline(indent);
          first = false;
          out_ += "- ";
          node(item, indent + 2);
        }
        return;
      }
      case nlohmann::json::value_t::string:
        string(v.get_ref<const std::string &>());
        return;
      case nlohmann::json::value_t::boolean:
        out_ += v.get<bool>() ? "true" : "false";
        return;
      case nlohmann::json::value_t::number_integer:
      case nlohmann::json::value_t::number_unsigned:
        out_ += v.dump();
        return;
      case nlohmann::json::value_t::number_float: {
        // "1e+300" -> "1.0e+300": a 1.1 reader wants a dot before the exponent, else it sees a string.
        std::string text = v.dump();
        const size_t e = text.find_first_of("eE");
        if (e != std::string::npos && text.find('.') == std::string::npos) text.insert(e, ".0");
        out_ += text;
        return;
      }
      default:  // null, and the binary and discarded values JSON never holds
        out_ += "null";
        return;
    }
  }

  // A string, as a value or a key: plain when no reader could take it for anything else,
  // single-quoted when it only looks like something else, double-quoted with escapes when it
  // holds characters a reader must not be given literally.
  void string(const std::string &raw) {
    if (!is_utf8(raw)) return string(repaired_utf8(raw));
    const std::string &text = raw;
    if (has_unsafe_chars(text)) {
      double_quoted(text);
    } else if (needs_quotes(text)) {
      out_.push_back('\'');
      for (char c : text) {
        if (c == '\'') out_.push_back('\'');
        out_.push_back(c);
      }
      out_.push_back('\'');
    } else {
      out_ += text;
    }
  }

  void double_quoted(const std::string &text) {
    static const char kHex[] = "0123456789abcdef";
    out_.push_back('"');
    for (size_t i = 0; i < text.size(); ++i) {
      const auto c = static_cast<unsigned char>(text[i]);
      const auto next = i + 1 < text.size() ? static_cast<unsigned char>(text[i + 1]) : 0;
      if (c == '"' || c == '\\') {
        out_.push_back('\\');
        out_.push_back(static_cast<char>(c));
      } else if (c == '\n') {
        out_ += "\\n";
      } else if (c == '\t') {
        out_ += "\\t";
      } else if (c == '\r') {
        out_ += "\\r";
      } else if (c < 0x20 || c == 0x7f) {
        out_ += "\\x";
        out_.push_back(kHex[c >> 4]);
        out_.push_back(kHex[c & 0xf]);
      } else if (c == 0xc2 && next >= 0x80 && next <= 0x9f) {  // C1 controls and NEL: U+0080..U+009F
        out_ += "\\x";
        out_.push_back(kHex[next >> 4]);
        out_.push_back(kHex[next & 0xf]);
        ++i;
      } else if (c == 0xe2 && next == 0x80 && i + 2 < text.size() &&
                 (text[i + 2] == '\xa8' || text[i + 2] == '\xa9')) {  // LS, PS
        out_ += text[i + 2] == '\xa8' ? "\\u2028" : "\\u2029";
        i += 2;
      } else {
        out_.push_back(static_cast<char>(c));
      }
    }
    out_.push_back('"');
  }

  std::string out_;
};

}  // namespace

std::optional<Format> format_of_content_type(std::string_view content_type) {
  if (trim(content_type).empty()) return Format::Json;
  return format_of_media_type(bare_media_type(content_type));
}

std::optional<Format> format_for_accept(std::string_view accept, Format fallback) {
  if (trim(accept).empty()) return fallback;
  // Pick the acceptable type with the highest q (ties: the first listed).
  std::optional<Format> best;
  double best_q = 0.0;
  size_t start = 0;
  while (start <= accept.size()) {
    size_t end = accept.find(',', start);
    if (end == std::string_view::npos) end = accept.size();
    std::string_view item = accept.substr(start, end - start);
    start = end + 1;
    const std::string type = bare_media_type(item);
    double q = 1.0;
    for (size_t p = item.find(';'); p != std::string_view::npos; p = item.find(';', p + 1)) {
      std::string_view param = trim(item.substr(p + 1, item.find(';', p + 1) - p - 1));
      if (param.size() > 2 && (param[0] == 'q' || param[0] == 'Q') && param[1] == '=') {
        try {
          q = std::stod(std::string(param.substr(2)));
        } catch (const std::exception &) {
          q = 0.0;
        }
      }
    }
    std::optional<Format> format;
    if (type == "*/*")
      format = fallback;
    else if (type == "application/*")
      format = Format::Json;
    else if (type == "text/*")
      format = Format::Yaml;
    else
      format = format_of_media_type(type);
    if (format && q > best_q) {
      best = format;
      best_q = q;
    }
    if (end == accept.size()) break;
  }
  return best;
}

bool is_utf8_charset(std::string_view content_type) {
  for (size_t p = content_type.find(';'); p != std::string_view::npos; p = content_type.find(';', p + 1)) {
    std::string_view param = trim(content_type.substr(p + 1, content_type.find(';', p + 1) - p - 1));
    if (lower(param.substr(0, 8)) != "charset=") continue;
    std::string_view value = trim(param.substr(8));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
    const std::string charset = lower(value);
    return charset == "utf-8" || charset == "utf8";
  }
  return true;
}

std::string_view media_type(Format format) {
  return format == Format::Json ? "application/json" : "text/yaml";
}

nlohmann::json decode(std::string_view body, Format format, const DecodeLimits &limits) {
  if (format == Format::Json) {
    size_t values = 0;
    nlohmann::json::parser_callback_t guard = [&](int depth, nlohmann::json::parse_event_t event,
                                                  nlohmann::json &) {
      if (static_cast<size_t>(depth) > limits.max_depth)
        throw DecodeError("JSON nests deeper than " + std::to_string(limits.max_depth) + " levels");
      if (event == nlohmann::json::parse_event_t::value && ++values > limits.max_values)
        throw DecodeError("JSON has more than " + std::to_string(limits.max_values) + " values");
      return true;
    };
    try {
      return nlohmann::json::parse(body.begin(), body.end(), guard);
    } catch (const nlohmann::json::exception &e) {
      // parse_error, and out_of_range for a number beyond double ("1e400").
      std::string what = e.what();
      // "[json.exception.parse_error.101] parse error at line 1, column 2: ..." -> after "] "
      const size_t cut = what.find("] ");
      throw DecodeError("malformed JSON: " + (cut == std::string::npos ? what : what.substr(cut + 2)));
    }
  }
  YAML::Node root;
  try {
    root = YAML::Load(std::string(body));
  } catch (const YAML::Exception &e) {
    throw DecodeError(std::string("malformed YAML: ") + e.what());
  }
  // Only aliases (*name) can make a document expand past what its text holds: measure those first.
  if (body.find('*') != std::string_view::npos) YamlConverter(limits).measure(root, 0);
  nlohmann::json doc = YamlConverter(limits).convert(root, 0);
  // YAML accepts bytes that are not UTF-8; JSON output must not carry them.
  try {
    (void)doc.dump();
  } catch (const nlohmann::json::type_error &) {
    throw DecodeError("YAML body is not valid UTF-8");
  }
  return doc;
}

std::string encode(const nlohmann::json &doc, Format format) {
  if (format == Format::Json)
    return doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return YamlWriter().document(doc);
}

}  // namespace awf::bridge
