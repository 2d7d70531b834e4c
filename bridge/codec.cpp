#include "codec.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <yaml.h>

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
  if (digits == 0) return std::nullopt;  // a string: .inf and .nan too, which JSON cannot hold
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

// A YAML document read straight into nlohmann::json from libyaml's parser events (YamlReader
// below pulls them). Building a YAML library's own node graph first cost as much as the parse
// itself for a request's few dozen values.
//
// Aliases are expanded by copying the anchored value. A body with aliases is first read in
// Measure mode, which counts what the expansion would hold and builds nothing, so that one whose
// aliases expand past the limits ("billion laughs") is refused before any of it is built
// (building up to the limit cost hundreds of MB that the thread's malloc arena then kept).
//
// Anchors are numbered from 1 in the order of the text (0: none), so that the same anchor has the
// same number in both passes even when its name is used again for another node.
using AnchorId = size_t;
constexpr AnchorId kNoAnchor = 0;

class YamlDocumentBuilder {
 public:
  // Measure counts what the document holds, aliases expanded, and notes which anchors an alias
  // names; Build builds it, keeping a copy of only those anchored values.
  enum class Mode { Measure, Build };
  using AnchorSet = std::unordered_set<AnchorId>;

  YamlDocumentBuilder(const DecodeLimits &limits, Mode mode, const AnchorSet &aliased)
      : limits_(limits), build_(mode == Mode::Build), aliased_(aliased) {}

  // The document, once the parser has read it all. What the document may not hold is refused
  // (DecodeError) by the event that brings it, and reading stops there: libyaml's scanner slows
  // down with every open flow level (a body of 256 KiB of "[" took over a minute), so a body
  // nesting past the limit must not be read to its end.
  nlohmann::json take() { return std::move(root_); }
  // After Measure: the anchors that aliases name.
  AnchorSet take_aliased() { return std::move(named_); }

  void on_null(AnchorId anchor) {
    if (expecting_key()) throw DecodeError("YAML mapping keys must be scalars");
    add(nullptr, anchor, std::nullopt);
  }

  void on_alias(AnchorId anchor) {
    const auto found = anchors_.find(anchor);
    if (found == anchors_.end())  // its node is still open: the alias is inside what it names
      throw DecodeError("YAML alias refers to a node that contains it");
    named_.insert(anchor);
    const Anchored &a = found->second;
    if (expecting_key()) {
      if (!a.scalar) throw DecodeError("YAML mapping keys must be scalars");
      count(depth(), 0, a.bytes);
      return set_key(build_ ? *a.scalar : std::string());
    }
    count(depth() + a.height, a.values, a.bytes);
    place(build_ ? nlohmann::json(a.value) : nlohmann::json(), a.height);
  }

  // A scalar that is not null; is_string: quoted, block or tagged !!str (else it reads as a
  // plain scalar: a boolean, a number or a string).
  void on_scalar(std::string value, bool is_string, AnchorId anchor) {
    auto read = [&] { return is_string ? nlohmann::json(value) : plain_scalar(value); };
    if (expecting_key()) {  // a key is its text; what it reads as only matters to an alias of it
      count(depth(), 0, value.size());
      if (anchor != kNoAnchor) {
        const nlohmann::json key_value = read();
        remember(anchor, &key_value, 0, 0, value.size(), value);
      }
      return set_key(std::move(value));
    }
    nlohmann::json read_value = read();
    add(std::move(read_value), anchor, std::move(value));
  }

  void on_start(bool map, AnchorId anchor) { open(map, anchor); }
  void on_end() { close(); }

 private:
  // What an alias of an anchor adds: how many values, levels and bytes of text (keys and
  // scalars) it holds; for a scalar, its text (an alias used as a key is that text, whatever the
  // scalar reads as). The value and the text are kept only when building and an alias names it.
  struct Anchored {
    nlohmann::json value;
    size_t values;
    size_t height;
    size_t bytes;
    std::optional<std::string> scalar;
  };
  // An open sequence or mapping.
  struct Open {
    bool map;
    nlohmann::json *node;  // nullptr when measuring
    AnchorId anchor;
    size_t values_before;  // values_ when it opened
    size_t bytes_before;   // bytes_ when it opened
    size_t height = 0;     // levels below it so far
    bool has_key = false;  // a mapping: the key of its next value has been read
    std::string key;
  };

  size_t depth() const { return open_.size(); }
  bool expecting_key() const { return !open_.empty() && open_.back().map && !open_.back().has_key; }

  void set_key(std::string key) {
    open_.back().key = std::move(key);
    open_.back().has_key = true;
  }

  void count(size_t deepest, size_t values, size_t bytes) {
    if (deepest > limits_.max_depth)
      throw DecodeError("YAML nests deeper than " + std::to_string(limits_.max_depth) + " levels");
    values_ += values;
    if (values_ > limits_.max_values)
      throw DecodeError("YAML expands to more than " + std::to_string(limits_.max_values) +
                        " values (aliases?)");
    bytes_ += bytes;
    if (bytes_ > limits_.max_bytes)
      throw DecodeError("YAML expands to more than " + std::to_string(limits_.max_bytes) +
                        " bytes of text (aliases?)");
  }

  // Notes an anchored value (value: where it was placed; nullptr when measuring). Only a value an
  // alias names is copied: the rest are only counted.
  void remember(AnchorId anchor, const nlohmann::json *value, size_t values, size_t height, size_t bytes,
                std::optional<std::string> scalar) {
    if (anchor == kNoAnchor) return;
    const bool keep = build_ && value && aliased_.count(anchor) > 0;
    std::optional<std::string> text;
    if (scalar) text = keep ? std::move(*scalar) : std::string();
    anchors_[anchor] = Anchored{keep ? *value : nlohmann::json(), values, height, bytes, std::move(text)};
  }

  // Puts a finished value where the document is: the root, the open sequence's next item or the
  // open mapping's value for the key just read (a repeated key: the last value wins). Returns it
  // (nullptr when measuring).
  nlohmann::json *place(nlohmann::json &&value, size_t height = 0) {
    if (open_.empty()) {
      if (!build_) return nullptr;
      root_ = std::move(value);
      return &root_;
    }
    Open &parent = open_.back();
    parent.height = std::max(parent.height, height + 1);
    if (!build_) {
      parent.has_key = false;
      return nullptr;
    }
    if (!parent.map) {
      parent.node->push_back(std::move(value));
      return &parent.node->back();
    }
    parent.has_key = false;
    nlohmann::json &slot = (*parent.node)[parent.key];
    slot = std::move(value);
    return &slot;
  }

  void add(nlohmann::json &&value, AnchorId anchor, std::optional<std::string> text) {
    const size_t bytes = text ? text->size() : 0;
    count(depth(), 1, bytes);
    const nlohmann::json *placed = place(std::move(value));
    remember(anchor, placed, 1, 0, bytes, std::move(text));
  }

  void open(bool map, AnchorId anchor) {
    if (expecting_key()) throw DecodeError("YAML mapping keys must be scalars");
    count(depth(), 1, 0);
    const size_t values_before = values_, bytes_before = bytes_;
    // A child is only ever added to the innermost open node, so this pointer stays valid until
    // the node closes: its parent gets no other child meanwhile.
    nlohmann::json *node = place(map ? nlohmann::json::object() : nlohmann::json::array());
    open_.push_back(Open{map, node, anchor, values_before, bytes_before, 0, false, {}});
  }

  void close() {
    Open done = std::move(open_.back());
    open_.pop_back();
    if (!open_.empty()) open_.back().height = std::max(open_.back().height, done.height + 1);
    remember(done.anchor, done.node, values_ - done.values_before + 1, done.height, bytes_ - done.bytes_before,
             std::nullopt);
  }

  const DecodeLimits &limits_;
  const bool build_;
  const AnchorSet &aliased_;  // Build: the anchors to keep a copy of
  AnchorSet named_;           // the anchors aliases have named so far
  nlohmann::json root_;
  std::vector<Open> open_;
  std::unordered_map<AnchorId, Anchored> anchors_;
  size_t values_ = 0;
  size_t bytes_ = 0;
};

// Pulls libyaml's parser events over a body (read in place, not copied) into a builder: the first
// document of the body, which must be the only one. libyaml's reader refuses input that is not
// UTF-8 (or UTF-16 with a byte order mark, which it converts) and the control characters YAML
// does not allow, and its escapes cannot make a surrogate, so every string it hands over is UTF-8.
class YamlReader {
 public:
  // Directives (%YAML, %TAG) a body may have. libyaml compares each %TAG with every one before it,
  // all before the document's first event: 20,000 of them (256 KiB) took 0.6 s.
  static constexpr size_t kMaxDirectives = 16;

  explicit YamlReader(std::string_view body) {
    refuse_many_directives(body);
    if (!yaml_parser_initialize(&parser_)) throw std::bad_alloc();
    // An empty view may have no data; libyaml asserts that it has.
    yaml_parser_set_input_string(&parser_, reinterpret_cast<const unsigned char *>(body.empty() ? "" : body.data()),
                                 body.size());
  }
  ~YamlReader() { yaml_parser_delete(&parser_); }
  YamlReader(const YamlReader &) = delete;
  YamlReader &operator=(const YamlReader &) = delete;

  // Feeds the document to the builder; an empty body is the null document. Throws DecodeError
  // for a syntax error.
  void read(YamlDocumentBuilder &builder) {
    for (;;) {
      Event event(*this);
      switch (event->type) {
        case YAML_STREAM_START_EVENT:
          break;
        case YAML_STREAM_END_EVENT:
        case YAML_NO_EVENT:  // only after the end of the stream
          return;
        case YAML_DOCUMENT_START_EVENT:
          if (documents_++ > 0)
            throw DecodeError("malformed YAML at line " + std::to_string(event->start_mark.line + 1) +
                              ": the body holds more than one document (---); send one, or a list of calls (a batch)");
          break;
        case YAML_DOCUMENT_END_EVENT:
          break;  // read on: what follows must be the end of the body
        case YAML_ALIAS_EVENT:
          builder.on_alias(alias(event->data.alias.anchor, event->start_mark));
          break;
        case YAML_SCALAR_EVENT: {
          const auto &scalar = event->data.scalar;
          const AnchorId anchor = define(scalar.anchor);
          std::string text(reinterpret_cast<const char *>(scalar.value), scalar.length);
          const bool plain = scalar.style == YAML_PLAIN_SCALAR_STYLE;
          const char *tag = reinterpret_cast<const char *>(scalar.tag);
          if (!tag && plain && is_yaml_null(text)) {
            builder.on_null(anchor);
            break;
          }
          // Untagged: plain reads as what it looks like, quoted and block are strings. An explicit
          // "!" (the non-specific tag) and !!str make a string; other tags are not kept.
          const bool is_string =
              tag ? std::string_view(tag) == "!" || std::string_view(tag) == YAML_STR_TAG : !plain;
          builder.on_scalar(std::move(text), is_string, anchor);
          break;
        }
        case YAML_SEQUENCE_START_EVENT:
          builder.on_start(false, define(event->data.sequence_start.anchor));
          break;
        case YAML_MAPPING_START_EVENT:
          builder.on_start(true, define(event->data.mapping_start.anchor));
          break;
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT:
          builder.on_end();
          break;
      }
    }
  }

 private:
  // One event, freed however the step that reads it ends.
  class Event {
   public:
    explicit Event(YamlReader &reader) {
      if (!yaml_parser_parse(&reader.parser_, &event_)) throw DecodeError(reader.syntax_error());
    }
    ~Event() { yaml_event_delete(&event_); }
    Event(const Event &) = delete;
    Event &operator=(const Event &) = delete;
    const yaml_event_t *operator->() const { return &event_; }

   private:
    yaml_event_t event_;
  };

  // "malformed YAML at line 2, column 1: did not find expected ',' or ']' (while parsing a flow
  // sequence from line 1, column 4)"; the reader's errors (not UTF-8, control characters) by byte.
  std::string syntax_error() const {
    const char *problem = parser_.problem ? parser_.problem : "unreadable";
    if (parser_.error == YAML_MEMORY_ERROR) throw std::bad_alloc();
    if (parser_.error == YAML_READER_ERROR) {
      std::string message = "malformed YAML at byte " + std::to_string(parser_.problem_offset) + ": " + problem;
      if (parser_.problem_value >= 0) message += " (" + hex(parser_.problem_value) + ")";
      // NUL bytes are what UTF-16 without a byte order mark, or UTF-32, looks like to libyaml.
      if (parser_.problem_value == 0) message += "; send UTF-8 (UTF-16 needs a byte order mark; UTF-32 is not read)";
      return message;
    }
    std::string message = "malformed YAML at " + position(parser_.problem_mark) + ": " + problem;
    if (parser_.context)
      message += std::string(" (") + parser_.context + " from " + position(parser_.context_mark) + ")";
    return message;
  }
  static std::string hex(int value) {
    char out[16];
    std::snprintf(out, sizeof out, "0x%02X", static_cast<unsigned>(value));
    return out;
  }
  static std::string position(const yaml_mark_t &mark) {
    return "line " + std::to_string(mark.line + 1) + ", column " + std::to_string(mark.column + 1);
  }

  AnchorId define(const yaml_char_t *name) {
    if (!name) return kNoAnchor;
    const AnchorId id = ++anchors_defined_;
    ids_[reinterpret_cast<const char *>(name)] = id;  // a name used again names the new node
    return id;
  }
  AnchorId alias(const yaml_char_t *name, const yaml_mark_t &at) const {
    const std::string_view text = reinterpret_cast<const char *>(name);
    const auto found = ids_.find(std::string(text));
    if (found == ids_.end()) {
      const std::string shown = text.size() > 64 ? std::string(text.substr(0, 64)) + "..." : std::string(text);
      throw DecodeError("malformed YAML at " + position(at) + ": the alias *" + shown + " names no anchor before it");
    }
    return found->second;
  }

  // Counts the lines that begin with "%" (where a directive is) and refuses a body with more than
  // kMaxDirectives before libyaml reads any of them.
  static void refuse_many_directives(std::string_view body) {
    size_t lines = !body.empty() && body.front() == '%';
    for (size_t at = body.find("\n%"); at != std::string_view::npos; at = body.find("\n%", at + 2))
      if (++lines > kMaxDirectives)
        throw DecodeError("YAML body has more than " + std::to_string(kMaxDirectives) +
                          " directive lines (%YAML, %TAG); a request needs none");
  }

  yaml_parser_t parser_{};
  int documents_ = 0;
  AnchorId anchors_defined_ = 0;
  std::unordered_map<std::string, AnchorId> ids_;
};

// --- YAML output ------------------------------------------------------------------------

// Characters a YAML reader must not be given literally: C0 controls, DEL, C1 controls and the
// noncharacters U+FFFE and U+FFFF are not printable (libyaml refuses them); NEL, LS and PS
// (U+0085, U+2028, U+2029) are line breaks to a 1.1 reader, which would fold them. Strings with
// any of them are written double-quoted with these escaped.
//
// The byte length of the unsafe multi-byte character that starts at s[i] (2 or 3), else 0: C1
// controls and NEL (U+0080..U+009F), LS and PS, U+FFFE and U+FFFF.
inline size_t unsafe_wide_char_at(std::string_view s, size_t i) {
  const auto c = static_cast<unsigned char>(s[i]);
  if (c < 0xc2) return 0;  // ASCII, the common case, first
  const size_t n = s.size();
  if (c == 0xc2 && i + 1 < n && static_cast<unsigned char>(s[i + 1]) <= 0x9f) return 2;
  if (i + 2 >= n) return 0;
  if (c == 0xe2 && s[i + 1] == '\x80' && (s[i + 2] == '\xa8' || s[i + 2] == '\xa9')) return 3;
  if (c == 0xef && s[i + 1] == '\xbf' && (s[i + 2] == '\xbe' || s[i + 2] == '\xbf')) return 3;
  return 0;
}

bool has_unsafe_chars(const std::string &s) {
  for (size_t i = 0; i < s.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7f || unsafe_wide_char_at(s, i) != 0) return true;
  }
  return false;
}

// Whether a plain YAML scalar with this text would be read as something other than this string
// by a 1.2 or a 1.1 reader (yes/no/on/off, dates, sexagesimals...), or is not a valid plain scalar.
// For text without unsafe characters (see has_unsafe_chars), which go double-quoted anyway. One
// pass over the text: every string of every YAML answer comes through here.
bool needs_quotes(std::string_view s) {
  if (s.empty()) return true;
  if (s.size() <= 5) {  // the longest word below
    char folded[5];
    for (size_t i = 0; i < s.size(); ++i) folded[i] = static_cast<char>(std::tolower(static_cast<unsigned char>(s[i])));
    const std::string_view l(folded, s.size());
    // ... and "<<" (a 1.1 merge key) and "=" (the 1.1 value key).
    static constexpr std::string_view kSpecial[] = {"true", "false", "yes", "no", "on", "off",
                                                    "y",    "n",     "null", "~", "<<", "="};
    for (const std::string_view word : kSpecial)
      if (l == word) return true;
  }
  const unsigned char first = static_cast<unsigned char>(s[0]);
  if (std::isdigit(first) || first == '-' || first == '+' || first == '.') return true;
  if (std::string_view("!&*[]{},#|>@`\"'%?:").find(static_cast<char>(first)) != std::string_view::npos)
    return true;
  if (std::isspace(first) || std::isspace(static_cast<unsigned char>(s.back()))) return true;
  if (s.back() == ':') return true;
  for (size_t i = 0; i + 1 < s.size(); ++i)
    if ((s[i] == ':' && s[i + 1] == ' ') || (s[i] == ' ' && s[i + 1] == '#')) return true;
  return s.substr(0, 3) == "\xef\xbb\xbf";  // a byte order mark opening the document is dropped
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
// Block layout with indent 2: "key:\n  - item", "- k: v\n  k2: v2", "- - 1".
//
// It takes a document as events (begin/end of mappings and sequences, keys, scalars), so that a
// document (write_document) and the database's JSON text read by nlohmann's SAX parser
// (YamlFromJsonText) are written by the same code, the latter without building a document.
class YamlWriter {
 public:
  void begin_map() { begin_block(true); }
  void begin_seq() { begin_block(false); }
  void end_map() { end_block("{}"); }
  void end_seq() { end_block("[]"); }

  void key(const std::string &text) {
    Block &block = open_.back();
    entry(block);
    const size_t mark = out_.size();
    string(text);
    if (out_.size() - mark > 1000) {
      // YAML limits an implicit key to 1024 characters: write "? key\n: value".
      out_.insert(mark, "? ");
      newline(block.indent);
    }
    out_.push_back(':');
    place_ = Place::AfterKey;
    child_indent_ = block.indent + 2;
  }

  // A scalar in YAML's words already (a number, true, false, null).
  void literal(std::string_view text) {
    begin_scalar();
    out_ += text;
  }
  void string_value(const std::string &text) {
    begin_scalar();
    string(text);
  }
  // A float as JSON writes it, with what a 1.1 reader needs to see a float rather than a string:
  // a dot before the exponent and a sign after it ("1e300" -> "1.0e+300").
  void float_value(std::string text) {
    size_t e = text.find_first_of("eE");
    if (e != std::string::npos) {
      if (text.find('.') == std::string::npos) text.insert(e, ".0"), e += 2;
      if (e + 1 < text.size() && text[e + 1] != '+' && text[e + 1] != '-') text.insert(e + 1, "+");
    }
    literal(text);
  }

  std::string finish() {
    out_.push_back('\n');
    return std::move(out_);
  }

 private:
  // Where the next value goes: the document's start, after "key:" or after "- ".
  enum class Place { Top, AfterKey, AfterDash };
  struct Block {
    bool map;
    size_t indent;   // the column of its entries
    size_t entries;  // written so far
    Place place;     // where it began
  };

  void newline(size_t indent) {
    out_.push_back('\n');
    out_.append(indent, ' ');
  }

  // A value begins: in a sequence, that is its next entry's "- ".
  void begin_value() {
    if (open_.empty() || open_.back().map) return;
    Block &block = open_.back();
    entry(block);
    out_ += "- ";
    place_ = Place::AfterDash;
    child_indent_ = block.indent + 2;
  }

  // A scalar goes on the line of its "key:" or "- ", after a space following the key.
  void begin_scalar() {
    begin_value();
    if (place_ == Place::AfterKey) out_.push_back(' ');
  }

  // The line break before an entry: none for the first entry of a block that began at the
  // document's start or after "- " (it goes on that line).
  void entry(Block &block) {
    if (block.entries > 0 || block.place == Place::AfterKey) newline(block.indent);
    ++block.entries;
  }

  void begin_block(bool map) {
    begin_value();
    open_.push_back(Block{map, place_ == Place::Top ? 0 : child_indent_, 0, place_});
  }

  void end_block(const char *empty) {
    const Block block = open_.back();
    open_.pop_back();
    if (block.entries == 0) {
      if (block.place == Place::AfterKey) out_.push_back(' ');
      out_ += empty;
    }
  }

  // A string, as a value or a key: plain when no reader could take it for anything else,
  // single-quoted when it only looks like something else, double-quoted with escapes when it
  // holds characters a reader must not be given literally.
  void string(const std::string &raw) {
    if (!is_utf8(raw)) return string(repaired_utf8(raw));
    const std::string &text = raw;
    if (has_unsafe_chars(text)) {  // needs_quotes expects text without them
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
      } else if (const size_t len = unsafe_wide_char_at(text, i); len == 2) {  // U+0080..U+009F: \xNN
        out_ += "\\x";
        out_.push_back(kHex[next >> 4]);
        out_.push_back(kHex[next & 0xf]);
        ++i;
      } else if (len == 3) {  // LS, PS, U+FFFE, U+FFFF: \uXXXX
        const unsigned code = ((c & 0x0fu) << 12) | ((next & 0x3fu) << 6) |
                              (static_cast<unsigned char>(text[i + 2]) & 0x3fu);
        out_ += "\\u";
        for (int shift = 12; shift >= 0; shift -= 4) out_.push_back(kHex[(code >> shift) & 0xf]);
        i += 2;
      } else {
        out_.push_back(static_cast<char>(c));
      }
    }
    out_.push_back('"');
  }

  std::vector<Block> open_;
  Place place_ = Place::Top;
  size_t child_indent_ = 0;  // the column of a block that begins after the last "key:" or "- "
  std::string out_;
};

void write_document(YamlWriter &out, const nlohmann::json &v) {
  switch (v.type()) {
    case nlohmann::json::value_t::object:
      out.begin_map();
      for (const auto &[key, value] : v.items()) {
        out.key(key);
        write_document(out, value);
      }
      return out.end_map();
    case nlohmann::json::value_t::array:
      out.begin_seq();
      for (const auto &item : v) write_document(out, item);
      return out.end_seq();
    case nlohmann::json::value_t::string:
      return out.string_value(v.get_ref<const std::string &>());
    case nlohmann::json::value_t::boolean:
      return out.literal(v.get<bool>() ? "true" : "false");
    case nlohmann::json::value_t::number_integer:
    case nlohmann::json::value_t::number_unsigned:
      return out.literal(v.dump());
    case nlohmann::json::value_t::number_float:
      return out.float_value(v.dump());
    default:  // null, and the binary and discarded values JSON never holds
      return out.literal("null");
  }
}

// nlohmann's SAX events written to a YamlWriter as they are read. Numbers keep the JSON text
// (the database's digits, which a document would have rounded through a double).
class YamlFromJsonText : public nlohmann::json_sax<nlohmann::json> {
 public:
  explicit YamlFromJsonText(YamlWriter &out) : out_(out) {}

  bool null() override { return out_.literal("null"), true; }
  bool boolean(bool value) override { return out_.literal(value ? "true" : "false"), true; }
  bool number_integer(number_integer_t value) override { return out_.literal(std::to_string(value)), true; }
  bool number_unsigned(number_unsigned_t value) override { return out_.literal(std::to_string(value)), true; }
  bool number_float(number_float_t, const string_t &text) override { return out_.float_value(text), true; }
  bool string(string_t &value) override { return out_.string_value(value), true; }
  bool binary(binary_t &) override { return false; }  // JSON text has none
  bool start_object(std::size_t) override { return out_.begin_map(), true; }
  bool key(string_t &value) override { return out_.key(value), true; }
  bool end_object() override { return out_.end_map(), true; }
  bool start_array(std::size_t) override { return out_.begin_seq(), true; }
  bool end_array() override { return out_.end_seq(), true; }
  bool parse_error(std::size_t, const std::string &, const nlohmann::detail::exception &) override {
    return false;
  }

 private:
  YamlWriter &out_;
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
  // Only aliases (*name) can make a document expand past what its text holds: a body that may
  // have them is measured first, and built only within the limits.
  YamlDocumentBuilder::AnchorSet aliased;
  auto read = [&](YamlDocumentBuilder::Mode mode) {
    YamlDocumentBuilder builder(limits, mode, aliased);
    YamlReader(body).read(builder);
    nlohmann::json doc = builder.take();
    if (mode == YamlDocumentBuilder::Mode::Measure) aliased = builder.take_aliased();
    return doc;
  };
  if (body.find('*') != std::string_view::npos) read(YamlDocumentBuilder::Mode::Measure);
  return read(YamlDocumentBuilder::Mode::Build);
}

std::string encode(const nlohmann::json &doc, Format format) {
  if (format == Format::Json)
    return doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  YamlWriter out;
  write_document(out, doc);
  return out.finish();
}

std::string encode_result(std::string_view result_json, Format format) {
  if (format == Format::Json) {
    std::string out;
    out.reserve(result_json.size() + 11);
    return out.append("{\"result\":").append(result_json).append("}");
  }
  YamlWriter out;
  out.begin_map();
  out.key("result");
  YamlFromJsonText events(out);
  if (!nlohmann::json::sax_parse(result_json, &events)) throw std::invalid_argument("the result is not JSON");
  out.end_map();
  return out.finish();
}

}  // namespace awf::bridge
