#include "xina.hpp"

namespace awf::bridge {

std::string xina_action_label(const nlohmann::json &action) {
  static const char *const kActions[] = {"run", "conclude", "cancel", "clean", "destroy", "pause", "resume"};
  const auto it = action.find("action");
  if (it != action.end() && it->is_string())
    for (const char *known : kActions)
      if (it->get_ref<const std::string &>() == known) return std::string("xina ") + known;
  return "xina";
}

}  // namespace awf::bridge
