// wire/arp.hpp — ARP packets (RFC 826) for IPv4 over Ethernet only.
//
// Contract: `ArpView::parse` accepts 28 or more bytes with hardware type 1 (Ethernet), protocol
// type 0x0800 (IPv4), hardware length 6 and protocol length 4; anything else is `unsupported`
// (too short: `truncated`). The view covers exactly the 28 ARP bytes; Ethernet padding after them
// is ignored. `ArpRepr::parse` also refuses operations other than request (1) and reply (2) as
// `unsupported` (RARP and InARP are not handled).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

#include "netloom/mac_address.hpp"
#include "netloom/wire/bytes.hpp"
#include "netloom/wire/ipv4_address.hpp"
#include "netloom/wire/parse.hpp"

namespace netloom::wire {

enum class ArpOperation : std::uint16_t {
    request = 1,
    reply = 2,
};

class ArpView {
public:
    static constexpr std::size_t kLength = 28;
    static constexpr std::uint16_t kHardwareEthernet = 1;
    static constexpr std::uint16_t kProtocolIpv4 = 0x0800;

    static ParseResult<ArpView> parse(std::span<const std::uint8_t> bytes) noexcept;

    std::uint16_t hardware_type() const noexcept { return load_be16(bytes_.data()); }
    std::uint16_t protocol_type() const noexcept { return load_be16(bytes_.data() + 2); }
    std::uint8_t hardware_length() const noexcept { return bytes_[4]; }
    std::uint8_t protocol_length() const noexcept { return bytes_[5]; }
    /// Raw operation code: 1 request, 2 reply, others are not ARP proper.
    std::uint16_t operation() const noexcept { return load_be16(bytes_.data() + 6); }
    MacAddress sender_mac() const noexcept { return mac_at(8); }
    Ipv4Address sender_ip() const noexcept { return Ipv4Address::from_bytes(bytes_.data() + 14); }
    MacAddress target_mac() const noexcept { return mac_at(18); }
    Ipv4Address target_ip() const noexcept { return Ipv4Address::from_bytes(bytes_.data() + 24); }

    std::span<const std::uint8_t> bytes() const noexcept { return bytes_; }

private:
    explicit ArpView(std::span<const std::uint8_t> bytes) noexcept : bytes_(bytes) {}
    MacAddress mac_at(std::size_t offset) const noexcept {
        MacAddress mac;
        std::memcpy(mac.bytes.data(), bytes_.data() + offset, mac.bytes.size());
        return mac;
    }

    std::span<const std::uint8_t> bytes_;
};

struct ArpRepr {
    ArpOperation operation = ArpOperation::request;
    MacAddress sender_mac;
    Ipv4Address sender_ip;
    MacAddress target_mac;  ///< all zeros in a request (RFC 826 leaves it unspecified)
    Ipv4Address target_ip;

    static ParseResult<ArpRepr> parse(const ArpView& view) noexcept;
    static constexpr std::size_t buffer_len() noexcept { return ArpView::kLength; }
    /// Writes the 28 bytes at the front of `out`; false (nothing written) if it is shorter.
    bool emit(std::span<std::uint8_t> out) const noexcept;

    bool operator==(const ArpRepr&) const = default;
};

}  // namespace netloom::wire
