#include "core/validate.hpp"

namespace awf {

void throw_invalid_param(std::string_view method, std::string_view key, std::string_view problem) {
  std::string message;
  message.append(method).append(": parameter \"").append(key).append("\" ").append(problem);
  throw Error(ErrorCode::InvalidParams, std::move(message));
}

void check_range(std::string_view method, std::string_view key, int64_t value, int64_t min,
                 int64_t max) {
  if (value >= min && value <= max) return;
  throw_invalid_param(method, key,
                      "must be an integer from " + std::to_string(min) + " to " +
                          std::to_string(max) + ", got " + std::to_string(value));
}

void check_name(std::string_view method, std::string_view key, std::string_view name) {
  if (name.empty()) throw_invalid_param(method, key, "must not be empty");
  if (static_cast<int64_t>(name.size()) > Limits::kMaxNameLength)
    throw_invalid_param(method, key,
                        "must be at most " + std::to_string(Limits::kMaxNameLength) +
                            " bytes long, got " + std::to_string(name.size()));
}

void check_length(std::string_view method, std::string_view key, std::string_view text,
                  int64_t max_length) {
  if (static_cast<int64_t>(text.size()) > max_length)
    throw_invalid_param(method, key,
                        "must be at most " + std::to_string(max_length) + " bytes long, got " +
                            std::to_string(text.size()));
}

}  // namespace awf
