// iperf3_protocol.hpp — the iperf3 3.12 control protocol as values and coroutines over
// TcpStream: state bytes, the 37-byte cookie, length-prefixed JSON messages (bounded), the
// test parameters and the results JSON both sides exchange. Shared by the server and the client.
//
// Contract: every read has a deadline and a bound: a JSON message longer than kMaxJsonBytes is
// refused without reading its body (the caller closes the connection). Parsing never throws:
// a malformed message gives std::nullopt with a reason. Numbers the peer may send as -1 or as
// its 64-bit two's complement (3.12 writes -1 as 18446744073709551615) are both accepted.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "netloom/task.hpp"
#include "stream.hpp"

namespace netloom::apps::iperf3 {

inline constexpr std::uint16_t kDefaultPort = 5201;
inline constexpr std::size_t kCookieSize = 37;  // 36 base32 characters and a NUL
inline constexpr std::uint32_t kDefaultLength = 128 * 1024;
inline constexpr std::uint32_t kMaxLength = 1024 * 1024;  // iperf3's MAX_BLOCKSIZE
inline constexpr std::uint32_t kMaxStreams = 128;         // iperf3's MAX_STREAMS
inline constexpr std::size_t kMaxJsonBytes = 64 * 1024;   // bound on any JSON message read

/// The one-byte states on the control connection (iperf_api.h).
enum State : std::int8_t {
    test_start = 1,
    test_running = 2,
    test_end = 4,
    param_exchange = 9,
    create_streams = 10,
    server_terminate = 11,
    client_terminate = 12,
    exchange_results = 13,
    display_results = 14,
    iperf_start = 15,
    iperf_done = 16,
    access_denied = -1,
    server_error = -2,
};
std::string state_name(std::int8_t state);

/// iperf3 error numbers sent after SERVER_ERROR (the client prints their text).
enum ErrorCode : std::int32_t {
    ie_num_streams = 6,
    ie_block_size = 7,
    ie_unimplemented = 13,
    ie_recv_params = 114,
};

using Cookie = std::array<std::uint8_t, kCookieSize>;
Cookie make_cookie(std::mt19937_64& random);
/// 36 characters of iperf3's alphabet and a NUL: what a real client sends first.
bool plausible_cookie(const Cookie& cookie) noexcept;

/// Stream ids as iperf3 numbers them: 1, 3, 4, 5... (2 is skipped) for the index-th stream.
constexpr int stream_id(std::size_t index) noexcept {
    return index == 0 ? 1 : static_cast<int>(index) + 2;
}

Task<IoStatus> send_state(TcpStream& stream, std::int8_t state, Time deadline);
Task<IoStatus> send_server_error(TcpStream& stream, std::int32_t code, std::int32_t error,
                                 Time deadline);
struct StateRead {
    IoStatus status = IoStatus::ok;
    std::int8_t state = 0;
};
Task<StateRead> read_state(TcpStream& stream, Time deadline);

/// write_all that adds each byte the engine accepts to `counted` as it goes, so a writer ended
/// mid-way (its scope destroyed) has counted exactly what it queued. `counted` must outlive it.
Task<IoStatus> write_counted(TcpStream& stream, std::span<const std::uint8_t> data,
                             std::uint64_t& counted);
/// Until the peer has acknowledged `bytes` bytes of the stream (TcpInfo::bytes_acked, which
/// counts from the stream's first byte: a data stream's cookie included), an
/// error, or the deadline: so TEST_END does not overtake data still in flight.
Task<IoStatus> wait_acknowledged(TcpStream& stream, std::uint64_t bytes, Time deadline);

struct JsonRead {
    IoStatus status = IoStatus::ok;      ///< of the transport
    std::optional<nlohmann::json> json;  ///< set when the message was read and parsed
    std::string error;                   ///< why json is empty
    bool too_large = false;
};
/// A 4-byte big-endian length, then that many bytes of JSON (at most kMaxJsonBytes).
Task<JsonRead> read_json(TcpStream& stream, Time deadline);
Task<IoStatus> write_json(TcpStream& stream, const nlohmann::json& message, Time deadline);

/// The parameters a client sends after PARAM_EXCHANGE (the subset this app acts on).
struct TestParams {
    bool reverse = false;
    std::uint32_t parallel = 1;
    std::uint32_t length = kDefaultLength;
    std::uint32_t time_s = 10;  ///< 0 with a byte or block limit
    std::uint32_t omit_s = 0;
    std::uint64_t bytes = 0;   ///< 0: no byte limit
    std::uint64_t blocks = 0;  ///< 0: no block limit
    /// The byte limit the sender honours (bytes, or blocks * length), 0 for none.
    std::uint64_t byte_limit() const noexcept { return bytes ? bytes : blocks * length; }
};
nlohmann::json params_to_json(const TestParams& params);
struct ParamsParse {
    std::optional<TestParams> params;
    std::string error;
    std::int32_t code = ie_recv_params;  ///< for SERVER_ERROR when params is empty
};
ParamsParse parse_params(const nlohmann::json& message);

/// One stream's line in the results JSON.
struct StreamResult {
    int id = 0;
    std::uint64_t bytes = 0;
    std::int64_t retransmits = -1;  ///< -1: not known (the receiver's side)
    double seconds = 0;
};
/// `sender`: this side sent the data (its retransmits mean something).
nlohmann::json results_to_json(const std::vector<StreamResult>& streams, bool sender,
                               double cpu_user_percent, double cpu_system_percent);
struct ResultsParse {
    std::optional<std::vector<StreamResult>> streams;
    std::string error;
};
ResultsParse parse_results(const nlohmann::json& message);

/// User and system CPU seconds of the process (getrusage), for cpu_util_* in the results.
struct CpuTimes {
    double user = 0, system = 0;
    static CpuTimes now() noexcept;
};

}  // namespace netloom::apps::iperf3
