// Fuzzes the iperf3 app's control-message parsing (plugins/apps/iperf3/iperf3_protocol.hpp):
// the body of a length-prefixed JSON message parsed as read_json does (nlohmann, no
// exceptions, objects only), then parse_params (what a client asks for) and parse_results (what
// the peer reports), plus the state-byte and cookie checks on the first bytes.
// Checks: nothing throws or crashes; accepted parameters lie within iperf3's limits (1..128
// streams, block length 1..1 MiB, time and omit <= a day, some limit set) and survive
// params_to_json -> parse_params unchanged; accepted results hold at most 128 streams with
// byte counts >= 0 and survive results_to_json -> parse_results with the same ids and bytes.
#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "fuzz_check.hpp"
#include "iperf3_protocol.hpp"

namespace iperf3 = netloom::apps::iperf3;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size > iperf3::kMaxJsonBytes) return 0;  // read_json refuses these before parsing
    if (size > 0) FUZZ_CHECK(!iperf3::state_name(static_cast<std::int8_t>(data[0])).empty());
    if (size >= iperf3::kCookieSize) {
        iperf3::Cookie cookie;
        std::copy(data, data + cookie.size(), cookie.begin());
        (void)iperf3::plausible_cookie(cookie);
    }
    const std::string_view body(reinterpret_cast<const char*>(data), size);
    const auto message = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
    if (message.is_discarded() || !message.is_object()) return 0;

    const iperf3::ParamsParse params = iperf3::parse_params(message);
    if (params.params) {
        const iperf3::TestParams& p = *params.params;
        FUZZ_CHECK(p.parallel >= 1 && p.parallel <= iperf3::kMaxStreams);
        FUZZ_CHECK(p.length >= 1 && p.length <= iperf3::kMaxLength);
        FUZZ_CHECK(p.time_s <= 86400 && p.omit_s <= 86400);
        FUZZ_CHECK(p.time_s != 0 || p.byte_limit() != 0);
        const iperf3::ParamsParse again = iperf3::parse_params(iperf3::params_to_json(p));
        FUZZ_CHECK(again.params.has_value());
        FUZZ_CHECK(again.params->parallel == p.parallel && again.params->length == p.length &&
                   again.params->time_s == p.time_s && again.params->omit_s == p.omit_s &&
                   again.params->bytes == p.bytes && again.params->blocks == p.blocks &&
                   again.params->reverse == p.reverse);
    } else {
        FUZZ_CHECK(!params.error.empty());
    }

    const iperf3::ResultsParse results = iperf3::parse_results(message);
    if (results.streams) {
        FUZZ_CHECK(results.streams->size() <= iperf3::kMaxStreams);
        const auto again =
            iperf3::parse_results(iperf3::results_to_json(*results.streams, true, 1.5, 0.5));
        FUZZ_CHECK(again.streams && again.streams->size() == results.streams->size());
        for (std::size_t i = 0; i < results.streams->size(); ++i) {
            FUZZ_CHECK((*again.streams)[i].id == (*results.streams)[i].id);
            FUZZ_CHECK((*again.streams)[i].bytes == (*results.streams)[i].bytes);
        }
    } else {
        FUZZ_CHECK(!results.error.empty());
    }
    return 0;
}
