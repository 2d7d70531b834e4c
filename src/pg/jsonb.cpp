#include "pg/jsonb.hpp"

namespace awf::pg {

const char *json_kind_name(JsonKind kind) {
  switch (kind) {
    case JsonKind::Null: return "null";
    case JsonKind::String: return "a string";
    case JsonKind::Number: return "a number";
    case JsonKind::Boolean: return "a boolean";
    case JsonKind::Array: return "an array";
    case JsonKind::Object: return "an object";
  }
  return "unknown";
}

JsonKind JsonbField::kind() const {
  switch (value.type) {
    case jbvNull: return JsonKind::Null;
    case jbvString: return JsonKind::String;
    case jbvNumeric: return JsonKind::Number;
    case jbvBool: return JsonKind::Boolean;
    case jbvArray: return JsonKind::Array;
    case jbvObject: return JsonKind::Object;
    case jbvBinary:
      return JsonContainerIsArray(value.val.binary.data) ? JsonKind::Array : JsonKind::Object;
    default: return JsonKind::Null;
  }
}

std::string_view JsonbField::string() const {
  return {value.val.string.val, static_cast<size_t>(value.val.string.len)};
}

std::string JsonbField::number_text() const {
  Numeric num = value.val.numeric;
  char *text = pg_call([&] { return DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(num))); });
  std::string out(text);
  pg_call([&] { pfree(text); });
  return out;
}

int JsonbField::array_size() const { return static_cast<int>(JsonContainerSize(container())); }

JsonbField JsonbField::element(int i) const {
  JsonbContainer *c = container();
  JsonbValue *v = pg_call([&] { return getIthJsonbValueFromContainer(c, static_cast<uint32>(i)); });
  return JsonbField{*v};
}

std::optional<JsonbField> JsonbField::member(std::string_view key) const {
  JsonbContainer *c = container();
  JsonbValue result;
  JsonbValue *found = pg_call([&] {
    return getKeyJsonValueFromContainer(c, key.data(), static_cast<int>(key.size()), &result);
  });
  if (found == nullptr) return std::nullopt;
  return JsonbField{*found};
}

Datum JsonbField::as_jsonb_datum() const {
  JsonbValue copy = value;
  return pg_call([&] { return JsonbPGetDatum(JsonbValueToJsonb(&copy)); });
}

bool JsonbObject::is_object() const { return JB_ROOT_IS_OBJECT(doc_) && !JB_ROOT_IS_SCALAR(doc_); }

std::optional<JsonbField> JsonbObject::get(std::string_view key) const {
  JsonbContainer *c = &doc_->root;
  JsonbValue result;
  JsonbValue *found = pg_call([&] {
    return getKeyJsonValueFromContainer(c, key.data(), static_cast<int>(key.size()), &result);
  });
  if (found == nullptr) return std::nullopt;
  return JsonbField{*found};
}

void JsonbBuilder::begin_object() {
  JsonbParseState **state = &state_;
  pg_call([&] { return pushJsonbValue(state, WJB_BEGIN_OBJECT, nullptr); });
  in_object_.push_back(true);
}

void JsonbBuilder::end_object() {
  JsonbParseState **state = &state_;
  root_ = pg_call([&] { return pushJsonbValue(state, WJB_END_OBJECT, nullptr); });
  in_object_.pop_back();
}

void JsonbBuilder::begin_array() {
  JsonbParseState **state = &state_;
  pg_call([&] { return pushJsonbValue(state, WJB_BEGIN_ARRAY, nullptr); });
  in_object_.push_back(false);
}

void JsonbBuilder::end_array() {
  JsonbParseState **state = &state_;
  root_ = pg_call([&] { return pushJsonbValue(state, WJB_END_ARRAY, nullptr); });
  in_object_.pop_back();
}

void JsonbBuilder::key(std::string_view k) {
  JsonbValue v;
  v.type = jbvString;
  v.val.string.len = static_cast<int>(k.size());
  v.val.string.val = pg_call([&] { return pnstrdup(k.data(), k.size()); });
  JsonbParseState **state = &state_;
  pg_call([&] { return pushJsonbValue(state, WJB_KEY, &v); });
}

void JsonbBuilder::push_scalar(JsonbValue &v) {
  JsonbParseState **state = &state_;
  JsonbIteratorToken token = in_object_.back() ? WJB_VALUE : WJB_ELEM;
  JsonbValue *value = &v;
  pg_call([&] { return pushJsonbValue(state, token, value); });
}

void JsonbBuilder::string(std::string_view s) {
  JsonbValue v;
  v.type = jbvString;
  v.val.string.len = static_cast<int>(s.size());
  v.val.string.val = pg_call([&] { return pnstrdup(s.data(), s.size()); });
  push_scalar(v);
}

void JsonbBuilder::number(int64 n) {
  JsonbValue v;
  v.type = jbvNumeric;
  v.val.numeric = pg_call([&] { return int64_to_numeric(n); });
  push_scalar(v);
}

void JsonbBuilder::boolean(bool b) {
  JsonbValue v;
  v.type = jbvBool;
  v.val.boolean = b;
  push_scalar(v);
}

void JsonbBuilder::null() {
  JsonbValue v;
  v.type = jbvNull;
  push_scalar(v);
}

void JsonbBuilder::jsonb(Jsonb *doc) {
  JsonbValue v;
  v.type = jbvBinary;
  v.val.binary.data = &doc->root;
  v.val.binary.len = static_cast<int>(VARSIZE(doc) - VARHDRSZ);
  push_scalar(v);
}

Jsonb *JsonbBuilder::finish(MemoryContext context) {
  JsonbValue *root = root_;
  return pg_call([&] {
    MemoryContext old = MemoryContextSwitchTo(context);
    Jsonb *out = JsonbValueToJsonb(root);
    MemoryContextSwitchTo(old);
    return out;
  });
}

Jsonb *jsonb_from_datum(Datum d) {
  return pg_call([&] { return DatumGetJsonbP(d); });
}

Jsonb *empty_jsonb_object() {
  return pg_call([] { return DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum("{}"))); });
}

}  // namespace awf::pg
