// The task lifecycle of the Aidbox Task Executor API. Each operation opens one SPI session, runs
// its guarded statement(s), and returns the `result` document of seed 002, allocated in the
// caller's memory context. Arguments arrive validated by the entry points.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "pg/postgres.hpp"

namespace awf::task {

struct PollRequest {
  std::vector<std::string> definitions;  // distinct task definitions to claim from
  int max_batch_size = 1;
};

struct Notification {
  std::string kind;  // "heartbeat" or "progress"
  std::optional<std::string> message;
  std::optional<int64> progress_current, progress_total;
  std::optional<std::string> progress_unit;
};

struct CreateRequest {
  std::optional<pg_uuid_t> id;
  std::string definition;
  Jsonb *params = nullptr;  // never null: {} when not given
  std::optional<std::string> label;
  std::optional<TimestampTz> execute_at;
  int priority = 0;
  std::optional<int> requested_to_start_timeout, in_progress_timeout, allowed_retry_count,
      retry_delay;
};

struct ListRequest {
  std::optional<std::vector<std::string>> include_definitions, exclude_definitions, statuses,
      outcomes;
  std::optional<std::string> ilike;  // substring, matched case-insensitively
  int sort = 1;                      // see list_statement()
  int count = 50;
  int page = 1;
};

Jsonb *poll(const PollRequest &request);
Jsonb *long_poll(const PollRequest &request, int timeout_ms);
Jsonb *start(const pg_uuid_t &id, const pg_uuid_t &exec_id);
Jsonb *notify(const pg_uuid_t &id, const pg_uuid_t &exec_id, const Notification &notification);
Jsonb *success(const pg_uuid_t &id, const pg_uuid_t &exec_id, Jsonb *result);
Jsonb *fail(const pg_uuid_t &id, const pg_uuid_t &exec_id, Jsonb *error);
Jsonb *create(const CreateRequest &request);
Jsonb *status(const pg_uuid_t &id, bool include_log, bool include_settings);
Jsonb *cancel(const pg_uuid_t &id);
Jsonb *list(const ListRequest &request);

}  // namespace awf::task
