// Reading request documents and writing result documents as jsonb, without a text round trip.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pg/guard.hpp"

namespace awf::pg {

enum class JsonKind { Null, String, Number, Boolean, Array, Object };
const char *json_kind_name(JsonKind kind);

// One value found in a jsonb document. Strings and containers point into the document, which
// must outlive the value.
struct JsonbField {
  JsonbValue value;
  JsonKind kind() const;
  std::string_view string() const;             // kind() == String
  std::string number_text() const;             // kind() == Number, e.g. "10" or "1.5"
  bool boolean() const { return value.val.boolean; }
  JsonbContainer *container() const { return value.val.binary.data; }  // Array or Object
  int array_size() const;                      // kind() == Array
  JsonbField element(int i) const;             // kind() == Array
  std::optional<JsonbField> member(std::string_view key) const;  // kind() == Object
  Datum as_jsonb_datum() const;                // a standalone jsonb copy of this value
};

// The top-level object of a jsonb datum.
class JsonbObject {
 public:
  explicit JsonbObject(Jsonb *doc) : doc_(doc) {}
  bool is_object() const;
  std::optional<JsonbField> get(std::string_view key) const;  // nullopt when absent

 private:
  Jsonb *doc_;
};

// Builds a jsonb document by pushing tokens (pushJsonbValue). Strings are copied into palloc
// memory at once; embedded jsonb values must stay alive until finish().
class JsonbBuilder {
 public:
  void begin_object();
  void end_object();
  void begin_array();
  void end_array();
  void key(std::string_view k);
  void string(std::string_view v);
  void number(int64 v);
  void boolean(bool v);
  void null();
  void jsonb(Jsonb *value);
  void field(std::string_view k, std::string_view v) { key(k); string(v); }
  // The finished document, allocated in `context`.
  Jsonb *finish(MemoryContext context);

 private:
  void push_scalar(JsonbValue &v);
  JsonbParseState *state_ = nullptr;
  JsonbValue *root_ = nullptr;
  std::vector<bool> in_object_;  // one entry per open container: object (true) or array
};

// A jsonb datum, detoasted (guarded).
Jsonb *jsonb_from_datum(Datum d);

// A new empty jsonb object, {} (for params that were not given).
Jsonb *empty_jsonb_object();

}  // namespace awf::pg
