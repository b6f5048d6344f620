// isn.cpp — RFC 6528 ISN generation (contract in isn.hpp).
#include "netloom/tcp_common/isn.hpp"

#include <array>

#include "netloom/wire/bytes.hpp"

namespace netloom::tcp {

namespace {
std::array<std::uint8_t, 12> tuple_bytes(const FourTuple& tuple) noexcept {
    std::array<std::uint8_t, 12> bytes{};
    tuple.local_address.write_to(bytes.data());
    wire::store_be16(bytes.data() + 4, tuple.local_port);
    tuple.remote_address.write_to(bytes.data() + 6);
    wire::store_be16(bytes.data() + 10, tuple.remote_port);
    return bytes;
}
}  // namespace

std::uint32_t connection_hash(const FourTuple& tuple, const SipKey& key) noexcept {
    const auto bytes = tuple_bytes(tuple);
    return static_cast<std::uint32_t>(siphash24(key, bytes));
}

SeqNum generate_isn(const FourTuple& tuple, const SipKey& key,
                    std::chrono::nanoseconds now) noexcept {
    return SeqNum(isn_clock(now)) + connection_hash(tuple, key);  // RFC 6528 3
}

}  // namespace netloom::tcp
