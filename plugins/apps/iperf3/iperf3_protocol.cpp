// iperf3 control protocol: messages on the control connection, parameters and results JSON.
#include "iperf3_protocol.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string_view>

namespace netloom::apps::iperf3 {

namespace {

constexpr std::string_view kCookieAlphabet = "abcdefghijklmnopqrstuvwxyz234567";

std::array<std::uint8_t, 4> big_endian(std::uint32_t v) {
    return {static_cast<std::uint8_t>(v >> 24), static_cast<std::uint8_t>(v >> 16),
            static_cast<std::uint8_t>(v >> 8), static_cast<std::uint8_t>(v)};
}

// A JSON number as a signed value: iperf3 3.12 writes -1 as 2^64 - 1 in some fields.
std::optional<std::int64_t> json_int(const nlohmann::json& v) {
    if (v.is_number_unsigned()) {
        const auto u = v.get<std::uint64_t>();
        return static_cast<std::int64_t>(u);  // 2^64 - 1 becomes -1 (two's complement)
    }
    if (v.is_number_integer()) return v.get<std::int64_t>();
    if (v.is_number_float()) {
        const double d = v.get<double>();
        if (!std::isfinite(d)) return std::nullopt;
        if (d >= 1.8e19) return -1;  // 2^64 - 1 printed as a double
        if (d < -9.2e18 || d > 9.2e18) return std::nullopt;
        return static_cast<std::int64_t>(d);
    }
    return std::nullopt;
}

// An optional non-negative integer key no greater than `max`; false when present but bad.
bool read_count(const nlohmann::json& message, const char* key, std::uint64_t max,
                std::uint64_t& out) {
    const auto it = message.find(key);
    if (it == message.end() || it->is_null()) return true;
    const auto v = json_int(*it);
    if (!v || *v < 0 || static_cast<std::uint64_t>(*v) > max) return false;
    out = static_cast<std::uint64_t>(*v);
    return true;
}

// A required integer field of an object; false when absent or not a number.
bool int_field(const nlohmann::json& object, const char* key, std::int64_t& out) {
    const auto it = object.find(key);
    if (it == object.end()) return false;
    const auto v = json_int(*it);
    if (!v) return false;
    out = *v;
    return true;
}

bool flag(const nlohmann::json& message, const char* key) {
    const auto it = message.find(key);
    if (it == message.end()) return false;
    if (it->is_boolean()) return it->get<bool>();
    const auto v = json_int(*it);
    return v && *v != 0;
}

}  // namespace

std::string state_name(std::int8_t state) {
    switch (state) {
        case test_start: return "TEST_START";
        case test_running: return "TEST_RUNNING";
        case test_end: return "TEST_END";
        case param_exchange: return "PARAM_EXCHANGE";
        case create_streams: return "CREATE_STREAMS";
        case server_terminate: return "SERVER_TERMINATE";
        case client_terminate: return "CLIENT_TERMINATE";
        case exchange_results: return "EXCHANGE_RESULTS";
        case display_results: return "DISPLAY_RESULTS";
        case iperf_start: return "IPERF_START";
        case iperf_done: return "IPERF_DONE";
        case access_denied: return "ACCESS_DENIED";
        case server_error: return "SERVER_ERROR";
        default: return "state " + std::to_string(state);
    }
}

Cookie make_cookie(std::mt19937_64& random) {
    Cookie cookie{};
    std::uniform_int_distribution<std::size_t> pick(0, kCookieAlphabet.size() - 1);
    for (std::size_t i = 0; i + 1 < kCookieSize; ++i)
        cookie[i] = static_cast<std::uint8_t>(kCookieAlphabet[pick(random)]);
    cookie[kCookieSize - 1] = 0;
    return cookie;
}

bool plausible_cookie(const Cookie& cookie) noexcept {
    for (std::size_t i = 0; i + 1 < kCookieSize; ++i) {
        if (kCookieAlphabet.find(static_cast<char>(cookie[i])) == std::string_view::npos)
            return false;
    }
    return cookie[kCookieSize - 1] == 0;
}

Task<IoStatus> send_state(TcpStream& stream, std::int8_t state, Time deadline) {
    const auto byte = static_cast<std::uint8_t>(state);
    IoResult r = co_await stream.write_all({&byte, 1}, deadline);
    co_return r.status;
}

Task<IoStatus> send_server_error(TcpStream& stream, std::int32_t code, std::int32_t error,
                                 Time deadline) {
    // SERVER_ERROR, then iperf3's error number and errno, each 4 bytes big-endian.
    std::array<std::uint8_t, 9> message{};
    message[0] = static_cast<std::uint8_t>(State::server_error);
    const auto a = big_endian(static_cast<std::uint32_t>(code));
    const auto b = big_endian(static_cast<std::uint32_t>(error));
    std::copy(a.begin(), a.end(), message.begin() + 1);
    std::copy(b.begin(), b.end(), message.begin() + 5);
    IoResult r = co_await stream.write_all(message, deadline);
    co_return r.status;
}

Task<StateRead> read_state(TcpStream& stream, Time deadline) {
    std::uint8_t byte = 0;
    IoResult r = co_await stream.read_exact({&byte, 1}, deadline);
    co_return StateRead{r.status, static_cast<std::int8_t>(byte)};
}

Task<IoStatus> write_counted(TcpStream& stream, std::span<const std::uint8_t> data,
                             std::uint64_t& counted) {
    if (!stream) co_return IoStatus::closed;
    std::size_t done = 0;
    for (;;) {
        TcpConnection& c = stream.connection();
        if (c.error() != TcpError::none) co_return io_status(c.error());
        const TcpState state = c.state();
        if (state == TcpState::closed || state == TcpState::time_wait) co_return IoStatus::closed;
        const std::size_t n = c.send(data.subspan(done));
        done += n;
        counted += n;
        if (done == data.size()) co_return IoStatus::ok;
        co_await stream.wait_event();
    }
}

Task<IoStatus> wait_acknowledged(TcpStream& stream, std::uint64_t bytes, Time deadline) {
    if (!stream) co_return IoStatus::closed;
    for (;;) {
        TcpConnection& c = stream.connection();
        if (c.error() != TcpError::none) co_return io_status(c.error());
        if (c.info().bytes_acked >= bytes) co_return IoStatus::ok;
        if (c.state() == TcpState::closed) co_return IoStatus::closed;
        if (!co_await stream.wait_event(deadline)) co_return IoStatus::deadline;
    }
}

Task<JsonRead> read_json(TcpStream& stream, Time deadline) {
    JsonRead out;
    std::array<std::uint8_t, 4> header{};
    IoResult r = co_await stream.read_exact(header, deadline);
    if (!r.ok()) {
        out.status = r.status;
        out.error = "no JSON length: " + std::string(to_string(r.status));
        co_return out;
    }
    const std::uint32_t length = (std::uint32_t{header[0]} << 24) |
                                 (std::uint32_t{header[1]} << 16) |
                                 (std::uint32_t{header[2]} << 8) | header[3];
    if (length == 0 || length > kMaxJsonBytes) {
        out.too_large = length > kMaxJsonBytes;
        out.error =
            "JSON length " + std::to_string(length) + " out of 1.." + std::to_string(kMaxJsonBytes);
        co_return out;
    }
    std::string body(length, '\0');
    r = co_await stream.read_exact({reinterpret_cast<std::uint8_t*>(body.data()), body.size()},
                                   deadline);
    if (!r.ok()) {
        out.status = r.status;
        out.error = "JSON body cut short: " + std::string(to_string(r.status));
        co_return out;
    }
    auto parsed = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
    if (parsed.is_discarded() || !parsed.is_object()) {
        out.error = "malformed JSON message";
        co_return out;
    }
    out.json = std::move(parsed);
    co_return out;
}

Task<IoStatus> write_json(TcpStream& stream, const nlohmann::json& message, Time deadline) {
    const std::string body = message.dump();
    std::vector<std::uint8_t> framed(4 + body.size());
    const auto header = big_endian(static_cast<std::uint32_t>(body.size()));
    std::copy(header.begin(), header.end(), framed.begin());
    std::copy(body.begin(), body.end(), framed.begin() + 4);
    IoResult r = co_await stream.write_all(framed, deadline);
    co_return r.status;
}

nlohmann::json params_to_json(const TestParams& p) {
    nlohmann::json j{{"tcp", true},     {"omit", p.omit_s},       {"time", p.time_s},
                     {"num", p.bytes},  {"blockcount", p.blocks}, {"parallel", p.parallel},
                     {"len", p.length}, {"pacing_timer", 1000},   {"client_version", "3.12"}};
    if (p.reverse) j["reverse"] = true;
    return j;
}

ParamsParse parse_params(const nlohmann::json& m) {
    ParamsParse out;
    if (flag(m, "udp") || flag(m, "sctp")) {
        out.error = "only TCP tests are supported";
        out.code = ie_unimplemented;
        return out;
    }
    if (flag(m, "bidirectional")) {
        out.error = "bidirectional tests are not supported";
        out.code = ie_unimplemented;
        return out;
    }
    TestParams p;
    std::uint64_t parallel = 1, length = kDefaultLength, time = 10, omit = 0;
    if (!read_count(m, "parallel", kMaxStreams, parallel) || parallel == 0) {
        out.error = "parallel must be 1.." + std::to_string(kMaxStreams);
        out.code = ie_num_streams;
        return out;
    }
    if (!read_count(m, "len", kMaxLength, length) || length == 0) {
        out.error = "len must be 1.." + std::to_string(kMaxLength);
        out.code = ie_block_size;
        return out;
    }
    constexpr std::uint64_t kDay = 86400;
    if (!read_count(m, "time", kDay, time) || !read_count(m, "omit", kDay, omit) ||
        !read_count(m, "num", std::numeric_limits<std::int64_t>::max(), p.bytes) ||
        !read_count(m, "blockcount", std::numeric_limits<std::uint32_t>::max(), p.blocks)) {
        out.error = "time, omit, num or blockcount out of range";
        return out;
    }
    if (time == 0 && p.bytes == 0 && p.blocks == 0) {
        out.error = "a test needs a time, byte or block limit";
        return out;
    }
    p.parallel = static_cast<std::uint32_t>(parallel);
    p.length = static_cast<std::uint32_t>(length);
    p.time_s = static_cast<std::uint32_t>(time);
    p.omit_s = static_cast<std::uint32_t>(omit);
    p.reverse = flag(m, "reverse");
    out.params = p;
    return out;
}

nlohmann::json results_to_json(const std::vector<StreamResult>& streams, bool sender,
                               double cpu_user_percent, double cpu_system_percent) {
    nlohmann::json list = nlohmann::json::array();
    for (const StreamResult& s : streams) {
        list.push_back({{"id", s.id},
                        {"bytes", s.bytes},
                        {"retransmits", sender ? s.retransmits : -1},
                        {"jitter", 0},
                        {"errors", 0},
                        {"packets", 0},
                        {"start_time", 0},
                        {"end_time", s.seconds}});
    }
    return {{"cpu_util_total", cpu_user_percent + cpu_system_percent},
            {"cpu_util_user", cpu_user_percent},
            {"cpu_util_system", cpu_system_percent},
            {"sender_has_retransmits", sender ? 1 : -1},
            {"streams", std::move(list)}};
}

ResultsParse parse_results(const nlohmann::json& m) {
    ResultsParse out;
    for (const char* key : {"cpu_util_total", "cpu_util_user", "cpu_util_system"}) {
        const auto it = m.find(key);
        if (it == m.end() || !it->is_number()) {
            out.error = std::string("results without a number ") + key;
            return out;
        }
    }
    const auto streams = m.find("streams");
    if (streams == m.end() || !streams->is_array() || streams->size() > kMaxStreams) {
        out.error = "results without a streams array of at most 128";
        return out;
    }
    std::vector<StreamResult> list;
    for (const auto& s : *streams) {
        if (!s.is_object()) {
            out.error = "a stream result is not an object";
            return out;
        }
        StreamResult r;
        std::int64_t id = 0, bytes = 0, retransmits = 0;
        if (!int_field(s, "id", id) || !int_field(s, "bytes", bytes) || bytes < 0 ||
            !int_field(s, "retransmits", retransmits)) {
            out.error = "a stream result without id, bytes or retransmits";
            return out;
        }
        r.id = static_cast<int>(std::clamp<std::int64_t>(id, -1, 1 << 20));
        r.bytes = static_cast<std::uint64_t>(bytes);
        r.retransmits = retransmits;
        if (const auto end = s.find("end_time"); end != s.end() && end->is_number())
            r.seconds = end->get<double>();
        list.push_back(r);
    }
    out.streams = std::move(list);
    return out;
}

CpuTimes CpuTimes::now() noexcept {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    const auto seconds = [](const timeval& t) {
        return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
    };
    return {seconds(usage.ru_utime), seconds(usage.ru_stime)};
}

}  // namespace netloom::apps::iperf3
