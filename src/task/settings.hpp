// GUC-backed defaults for tasks whose definition has no row (or leaves a setting NULL).
#pragma once

namespace awf {

struct Settings {
  static int requested_to_start_timeout_ms;  // awf.default_requested_to_start_timeout
  static int in_progress_timeout_ms;         // awf.default_in_progress_timeout
  static int allowed_retry_count;            // awf.default_allowed_retry_count
  static int retry_delay_ms;                 // awf.default_retry_delay
  static int retention_s;                    // awf.retention: keep done tasks this long (0: forever)
  static int nlflow_trace_retention_s;       // awf.nlflow_trace_retention: NL Flow traces, from creation
  static int claim_rescan_interval_ms;       // awf.claim_rescan_interval: claims from a mark (0: off)
};

// Defines the GUCs above; called from _PG_init.
void define_settings();

}  // namespace awf
