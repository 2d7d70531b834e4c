#include "pg/spi.hpp"

#include <memory>

extern "C" {
#include "utils/lsyscache.h"
}

namespace awf::pg {

SpiSession::SpiSession() : caller_context_(CurrentMemoryContext) {
  int rc = pg_call([] { return SPI_connect(); });
  if (rc != SPI_OK_CONNECT) throw Error(ErrorCode::Internal, "SPI_connect failed");
}

void SpiSession::finish() {
  if (finished_) return;
  finished_ = true;
  pg_call([] { return SPI_finish(); });
}

PreparedStatement::PreparedStatement(const char *sql, std::vector<Oid> arg_types)
    : sql_(sql), arg_types_(std::move(arg_types)) {}

SpiRows PreparedStatement::execute(const Datum *values, const char *nulls, bool read_only) {
  if (plan_ == nullptr) {
    Oid *types = arg_types_.data();
    int nargs = static_cast<int>(arg_types_.size());
    const char *sql = sql_;
    // A generic plan, always: the plan cache would otherwise re-plan some statements on every
    // call (it keeps custom plans when the generic one's estimate is higher, as with CTEs and
    // LIMIT $n), which cost a quarter of a lifecycle's CPU. Each statement is written so that its
    // generic plan is the right one (the claim's is an ordered scan of the partial ready index).
    SPIPlanPtr plan = pg_call([&] { return SPI_prepare_cursor(sql, nargs, types, CURSOR_OPT_GENERIC_PLAN); });
    if (plan == nullptr)
      throw Error(ErrorCode::Internal, std::string("could not prepare statement: ") +
                                           SPI_result_code_string(SPI_result));
    pg_call([&] { return SPI_keepplan(plan); });
    plan_ = plan;
  }
  SPIPlanPtr plan = plan_;
  int rc = pg_call([&] {
    return SPI_execute_plan(plan, const_cast<Datum *>(values), nulls, read_only, 0);
  });
  if (rc < 0)
    throw Error(ErrorCode::Internal,
                std::string("statement failed: ") + SPI_result_code_string(rc));
  return SpiRows{SPI_tuptable, SPI_processed};
}

bool column_is_null(const SpiRows &rows, uint64 row, int column) {
  bool isnull = true;
  SPI_getbinval(rows.row(row), rows.desc(), column + 1, &isnull);
  return isnull;
}

Datum column_datum(const SpiRows &rows, uint64 row, int column) {
  bool isnull = true;
  return SPI_getbinval(rows.row(row), rows.desc(), column + 1, &isnull);
}

std::string_view column_text(const SpiRows &rows, uint64 row, int column) {
  bool isnull = true;
  Datum d = SPI_getbinval(rows.row(row), rows.desc(), column + 1, &isnull);
  if (isnull) return {};
  text *t = pg_call([&] { return pg_detoast_datum_packed(reinterpret_cast<struct varlena *>(DatumGetPointer(d))); });
  return {VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t)};
}

int64 column_int(const SpiRows &rows, uint64 row, int column) {
  bool isnull = true;
  Datum d = SPI_getbinval(rows.row(row), rows.desc(), column + 1, &isnull);
  if (isnull) return 0;
  switch (TupleDescAttr(rows.desc(), column)->atttypid) {
    case INT2OID: return DatumGetInt16(d);
    case INT4OID: return DatumGetInt32(d);
    default: return DatumGetInt64(d);
  }
}

Datum text_datum(std::string_view s) {
  return pg_call([&] { return PointerGetDatum(cstring_to_text_with_len(s.data(), (int)s.size())); });
}

Datum text_array_datum(const std::vector<std::string> &items) {
  std::vector<Datum> elems;
  elems.reserve(items.size());
  for (const auto &item : items) elems.push_back(text_datum(item));
  Datum *data = elems.data();
  int n = static_cast<int>(elems.size());
  return pg_call([&] {
    return PointerGetDatum(construct_array(data, n, TEXTOID, -1, false, TYPALIGN_INT));
  });
}

Datum nullable_array_datum(const std::vector<Datum> &items, const std::vector<bool> &nulls, Oid element_type) {
  Datum *elems = const_cast<Datum *>(items.data());  // construct_md_array only reads them
  std::unique_ptr<bool[]> is_null(new bool[items.size() + 1]);
  for (size_t i = 0; i < items.size(); ++i) is_null[i] = nulls[i];
  int dims[1] = {static_cast<int>(items.size())};
  int lower_bounds[1] = {1};
  return pg_call([&] {
    int16 length;
    bool by_value;
    char align;
    get_typlenbyvalalign(element_type, &length, &by_value, &align);
    return PointerGetDatum(construct_md_array(elems, is_null.get(), 1, dims, lower_bounds,
                                              element_type, length, by_value, align));
  });
}

}  // namespace awf::pg
