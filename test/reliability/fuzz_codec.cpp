// libFuzzer target: a request body, as awf-bridge handles it (fuzz_pipeline.hpp). Each input is
// sent as JSON (answered in YAML) and as YAML (answered in JSON) to POST /rpc, and as JSON to the
// REST surfaces' object reader (POST /xina/actions, the NL Flow create). Corpus:
// test/reliability/fuzz_corpus/codec/ (the seeds' request and response bodies). Built and run by
// test/reliability/fuzz.sh.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_pipeline.hpp"

using namespace awf::bridge;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const std::string_view body(reinterpret_cast<const char *>(data), size);
  const fuzz::BridgeLimits limits;
  fuzz::check_response(fuzz::serve_rpc("application/json", "text/yaml", body, limits), limits);
  fuzz::check_response(fuzz::serve_rpc("text/yaml; charset=utf-8", "application/json", body, limits), limits);
  fuzz::check_response(fuzz::serve_json_object("application/json; charset=utf-8", body), limits);
  return 0;
}
