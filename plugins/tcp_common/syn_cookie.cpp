// syn_cookie.cpp — RFC 4987 3.6-style SYN cookies (contract in syn_cookie.hpp).
#include "netloom/tcp_common/syn_cookie.hpp"

#include <array>

#include "netloom/wire/bytes.hpp"

namespace netloom::tcp {

namespace {
constexpr std::uint32_t kHashMask = (1u << 24) - 1;

std::uint64_t slot_of(std::chrono::nanoseconds now) noexcept {
    return now.count() < 0 ? 0 : static_cast<std::uint64_t>(now / SynCookies::kSlot);
}
}  // namespace

std::uint32_t SynCookies::hash24(const FourTuple& tuple, SeqNum peer_isn, std::uint64_t slot,
                                 std::uint32_t mss_index) const noexcept {
    std::array<std::uint8_t, 25> message{};
    tuple.local_address.write_to(message.data());
    wire::store_be16(message.data() + 4, tuple.local_port);
    tuple.remote_address.write_to(message.data() + 6);
    wire::store_be16(message.data() + 10, tuple.remote_port);
    wire::store_be32(message.data() + 12, peer_isn.value());
    wire::store_be32(message.data() + 16, static_cast<std::uint32_t>(slot >> 32));
    wire::store_be32(message.data() + 20, static_cast<std::uint32_t>(slot));
    message[24] = static_cast<std::uint8_t>(mss_index);
    return static_cast<std::uint32_t>(siphash24(key_, message)) & kHashMask;
}

std::optional<SynCookie> SynCookies::encode(const FourTuple& tuple, SeqNum peer_isn,
                                            std::uint16_t peer_mss,
                                            std::chrono::nanoseconds now) const noexcept {
    if (peer_mss < kMssTable[0]) return std::nullopt;
    std::uint32_t index = 0;
    while (index + 1 < kMssTable.size() && kMssTable[index + 1] <= peer_mss) ++index;
    const std::uint64_t slot = slot_of(now);
    const std::uint32_t t = static_cast<std::uint32_t>(slot % 32);
    const std::uint32_t cookie = (t << 27) | (index << 24) | hash24(tuple, peer_isn, slot, index);
    return SynCookie{SeqNum(cookie), kMssTable[index]};
}

std::optional<std::uint16_t> SynCookies::validate(const FourTuple& tuple, SeqNum segment_seq,
                                                  SeqNum segment_ack,
                                                  std::chrono::nanoseconds now) const noexcept {
    const std::uint32_t cookie = (segment_ack - 1).value();
    const SeqNum peer_isn = segment_seq - 1;
    const std::uint64_t current = slot_of(now);
    const std::uint32_t t = cookie >> 27;
    const std::uint32_t age = static_cast<std::uint32_t>((current - t) % 32);
    if (age >= kSlotsValid || age > current) return std::nullopt;
    const std::uint32_t index = (cookie >> 24) & 7;
    if (hash24(tuple, peer_isn, current - age, index) != (cookie & kHashMask)) return std::nullopt;
    return kMssTable[index];
}

}  // namespace netloom::tcp
