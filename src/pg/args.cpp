#include "pg/args.hpp"

#include "core/validate.hpp"

namespace awf::pg {

std::optional<std::string> text_arg(FunctionCallInfo fcinfo, int n) {
  if (PG_ARGISNULL(n)) return std::nullopt;
  text *t = pg_call([&] { return PG_GETARG_TEXT_PP(n); });
  return std::string(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
}

std::optional<std::vector<std::string>> text_array_arg(FunctionCallInfo fcinfo, int n,
                                                       const char *method, const char *key) {
  if (PG_ARGISNULL(n)) return std::nullopt;
  ArrayType *array = pg_call([&] { return PG_GETARG_ARRAYTYPE_P(n); });
  if (ARR_NDIM(array) > 1) throw_invalid_param(method, key, "must be a one-dimensional array");
  Datum *elems = nullptr;
  bool *nulls = nullptr;
  int count = 0;
  pg_call([&] { deconstruct_array(array, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &count); });
  std::vector<std::string> out;
  out.reserve(count);
  for (int i = 0; i < count; ++i) {
    if (nulls[i]) throw_invalid_param(method, key, "must not contain null elements");
    text *t = pg_call([&] { return DatumGetTextPP(elems[i]); });
    out.emplace_back(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
  }
  return out;
}

std::optional<int32> int_arg(FunctionCallInfo fcinfo, int n) {
  if (PG_ARGISNULL(n)) return std::nullopt;
  return PG_GETARG_INT32(n);
}

std::optional<int64> bigint_arg(FunctionCallInfo fcinfo, int n) {
  if (PG_ARGISNULL(n)) return std::nullopt;
  return PG_GETARG_INT64(n);
}

std::optional<bool> bool_arg(FunctionCallInfo fcinfo, int n) {
  if (PG_ARGISNULL(n)) return std::nullopt;
  return PG_GETARG_BOOL(n);
}

std::optional<pg_uuid_t> uuid_arg(FunctionCallInfo fcinfo, int n) {
  if (PG_ARGISNULL(n)) return std::nullopt;
  return *PG_GETARG_UUID_P(n);
}

std::optional<TimestampTz> timestamptz_arg(FunctionCallInfo fcinfo, int n) {
  if (PG_ARGISNULL(n)) return std::nullopt;
  return PG_GETARG_TIMESTAMPTZ(n);
}

Jsonb *jsonb_arg(FunctionCallInfo fcinfo, int n) {
  if (PG_ARGISNULL(n)) return nullptr;
  return pg_call([&] { return PG_GETARG_JSONB_P(n); });
}

}  // namespace awf::pg
