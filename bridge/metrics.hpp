// Prometheus metrics of the bridge: requests by RPC method (or path) and status, a latency
// histogram, and gauges the server fills in at scrape time.
#pragma once

#include <array>
#include <map>
#include <mutex>
#include <string>
#include <utility>

namespace awf::bridge {

class Metrics {
 public:
  void observe(const std::string &method, int status, double seconds);
  // The counters and histogram in the text exposition format.
  std::string render();

 private:
  static constexpr std::array<double, 12> kBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                      0.05,   0.1,   0.25,   0.5,   1.0,  5.0};
  std::mutex mutex_;
  std::map<std::pair<std::string, int>, unsigned long long> requests_;
  std::array<unsigned long long, kBuckets.size()> bucket_counts_{};
  unsigned long long count_ = 0;
  double sum_ = 0.0;
};

// A label value escaped for the exposition format.
std::string prometheus_label(const std::string &value);

}  // namespace awf::bridge
