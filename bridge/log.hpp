// Structured logging: one JSON object per line on stderr, written whole (no interleaving).
#pragma once

#include <nlohmann/json.hpp>

namespace awf::bridge {

void log_line(nlohmann::json fields);  // adds "ts"
void log_event(const char *level, const char *message, nlohmann::json extra = nlohmann::json::object());

}  // namespace awf::bridge
