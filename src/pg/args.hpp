// Reading the arguments of SQL-callable functions, guarded (detoasting can ereport).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "pg/guard.hpp"

namespace awf::pg {

std::optional<std::string> text_arg(FunctionCallInfo fcinfo, int n);
std::optional<std::vector<std::string>> text_array_arg(FunctionCallInfo fcinfo, int n,
                                                       const char *method, const char *key);
std::optional<int32> int_arg(FunctionCallInfo fcinfo, int n);
std::optional<int64> bigint_arg(FunctionCallInfo fcinfo, int n);
std::optional<bool> bool_arg(FunctionCallInfo fcinfo, int n);
std::optional<pg_uuid_t> uuid_arg(FunctionCallInfo fcinfo, int n);
std::optional<TimestampTz> timestamptz_arg(FunctionCallInfo fcinfo, int n);
Jsonb *jsonb_arg(FunctionCallInfo fcinfo, int n);  // nullptr for NULL

}  // namespace awf::pg
