#include "metrics.hpp"

#include <sstream>

namespace awf::bridge {

std::string prometheus_label(const std::string &value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"') out.push_back('\\');
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out.push_back(c);
  }
  return out;
}

void Metrics::observe(const std::string &method, int status, double seconds) {
  std::lock_guard<std::mutex> lock(mutex_);
  requests_[{method, status}]++;
  for (size_t i = 0; i < kBuckets.size(); ++i)
    if (seconds <= kBuckets[i]) bucket_counts_[i]++;
  count_++;
  sum_ += seconds;
}

std::string Metrics::render() {
  std::lock_guard<std::mutex> lock(mutex_);
  std::ostringstream out;
  out << "# HELP awf_bridge_requests_total HTTP requests by RPC method (or path) and status.\n"
      << "# TYPE awf_bridge_requests_total counter\n";
  for (const auto &[key, n] : requests_)
    out << "awf_bridge_requests_total{method=\"" << prometheus_label(key.first) << "\",status=\""
        << key.second << "\"} " << n << "\n";
  out << "# HELP awf_bridge_request_duration_seconds Time from request to response.\n"
      << "# TYPE awf_bridge_request_duration_seconds histogram\n";
  for (size_t i = 0; i < kBuckets.size(); ++i)
    out << "awf_bridge_request_duration_seconds_bucket{le=\"" << kBuckets[i] << "\"} "
        << bucket_counts_[i] << "\n";
  out << "awf_bridge_request_duration_seconds_bucket{le=\"+Inf\"} " << count_ << "\n"
      << "awf_bridge_request_duration_seconds_sum " << sum_ << "\n"
      << "awf_bridge_request_duration_seconds_count " << count_ << "\n";
  return out.str();
}

}  // namespace awf::bridge
