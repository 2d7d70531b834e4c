// Guarded access to SPI: statements are prepared once per backend (SPI_keepplan) and reused;
// every SPI call goes through pg_call.
#pragma once

#include <initializer_list>
#include <string_view>
#include <vector>

#include "pg/guard.hpp"

namespace awf::pg {

// One SPI connection for the duration of an entry point. finish() must be called on success;
// after an error, PostgreSQL's transaction abort releases the connection (AtEOXact_SPI).
class SpiSession {
 public:
  SpiSession();
  void finish();
  // The memory context of the caller, for results that must outlive the session.
  MemoryContext caller_context() const { return caller_context_; }

 private:
  MemoryContext caller_context_;
  bool finished_ = false;
};

struct SpiRows {
  SPITupleTable *table = nullptr;
  uint64 count = 0;
  HeapTuple row(uint64 i) const { return table->vals[i]; }
  TupleDesc desc() const { return table->tupdesc; }
};

// A parameterised SQL statement, prepared on first use and kept for the life of the backend.
class PreparedStatement {
 public:
  PreparedStatement(const char *sql, std::vector<Oid> arg_types);
  // Runs the statement with the given arguments (nulls[i] == 'n' marks NULL, as SPI wants).
  SpiRows execute(const Datum *values, const char *nulls, bool read_only = false);

 private:
  const char *sql_;
  std::vector<Oid> arg_types_;
  SPIPlanPtr plan_ = nullptr;
};

// Builds the argument arrays of one execution.
class SpiArgs {
 public:
  explicit SpiArgs(size_t n) : values_(n, (Datum)0), nulls_(n, 'n') {}
  void set(size_t i, Datum value) {
    values_[i] = value;
    nulls_[i] = ' ';
  }
  const Datum *values() const { return values_.data(); }
  const char *nulls() const { return nulls_.data(); }

 private:
  std::vector<Datum> values_;
  std::vector<char> nulls_;
};

// Column readers for SPI result rows. They never ereport except for detoasting, which is guarded.
bool column_is_null(const SpiRows &rows, uint64 row, int column);
Datum column_datum(const SpiRows &rows, uint64 row, int column);  // caller checked not null
std::string_view column_text(const SpiRows &rows, uint64 row, int column);  // "" for NULL
int64 column_int(const SpiRows &rows, uint64 row, int column);             // 0 for NULL

// Datums for arguments.
Datum text_datum(std::string_view s);
Datum text_array_datum(const std::vector<std::string> &items);
// A one-dimensional array of a pass-by-value type (int4, timestamptz); element i is NULL where
// nulls[i] is true.
Datum nullable_array_datum(const std::vector<Datum> &items, const std::vector<bool> &nulls, Oid element_type);

}  // namespace awf::pg
