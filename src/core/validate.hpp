// Messages for bad parameters, shared by the typed SQL functions and awf.rpc so that both name the
// key the way the API documents it ("maxBatchSize", "execId", "progress-current").
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/errors.hpp"

namespace awf {

// Limits on what a request may ask for. Beyond them a request is refused, not truncated.
struct Limits {
  static constexpr int64_t kMaxBatchSize = 1000;
  static constexpr int64_t kMaxLongPollTimeoutMs = 600000;  // 10 minutes
  static constexpr int64_t kMaxDefinitions = 100;            // definitions named in one poll
  static constexpr int64_t kMaxListFilter = 1000;            // values of one awf.task/list filter
  static constexpr int64_t kMaxNameLength = 255;             // a definition name
  static constexpr int64_t kMaxLabelLength = 1024;
  static constexpr int64_t kMaxMessageLength = 10000;        // heartbeat message, progress unit
  static constexpr int64_t kMaxDurationMs = 2147483647;      // timeouts and delays (int4)
  static constexpr int64_t kMaxRetryCount = 1000;
  static constexpr int64_t kMaxListCount = 1000;
};

[[noreturn]] void throw_invalid_param(std::string_view method, std::string_view key,
                                      std::string_view problem);

// Checks value in [min, max]; the message names method and key.
void check_range(std::string_view method, std::string_view key, int64_t value, int64_t min,
                 int64_t max);

// A definition name: non-empty, at most kMaxNameLength bytes.
void check_name(std::string_view method, std::string_view key, std::string_view name);

// A text of at most max_length bytes.
void check_length(std::string_view method, std::string_view key, std::string_view text,
                  int64_t max_length);

}  // namespace awf
