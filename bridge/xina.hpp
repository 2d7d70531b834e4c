// The XINA task actions (seed 004): POST /xina/actions takes one JSON action document and runs
// awf.xina_action as the client's role; the extension validates and applies it.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace awf::bridge {

// The metrics and log label of an action document: "xina run", "xina cancel", ... for the seed's
// actions, "xina" for anything else, so labels come from a fixed set.
std::string xina_action_label(const nlohmann::json &action);

}  // namespace awf::bridge
