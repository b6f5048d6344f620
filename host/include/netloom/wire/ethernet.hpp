// wire/ethernet.hpp — Ethernet II frames (IEEE 802.3 clause 3.2 with the EtherType reading).
//
// Contract: `EthernetView::parse` accepts a frame of at least 14 bytes whose type field is an
// EtherType (>= 0x0600); 802.3 frames, whose field is a length (<= 1500), are refused with
// `bad_ethertype`. The view's payload is everything after the header, padding included: the
// layer above trims it (IPv4 by its total length). Frames carry no FCS (netdev.hpp). VLAN tags
// are not interpreted: 0x8100 is just another EtherType here. `EthernetRepr::emit` writes the
// 14-byte header only; padding short frames to 60 bytes is the device's business.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "netloom/mac_address.hpp"
#include "netloom/wire/bytes.hpp"
#include "netloom/wire/parse.hpp"

namespace netloom::wire {

enum class EtherType : std::uint16_t {
    ipv4 = 0x0800,
    arp = 0x0806,
    vlan = 0x8100,
    ipv6 = 0x86dd,
};

class EthernetView {
public:
    static constexpr std::size_t kHeaderLength = 14;
    /// Smallest value that is an EtherType rather than an 802.3 length (IEEE 802.3 3.2.6).
    static constexpr std::uint16_t kMinEtherType = 0x0600;

    static ParseResult<EthernetView> parse(std::span<const std::uint8_t> frame) noexcept;

    MacAddress destination() const noexcept { return mac_at(0); }
    MacAddress source() const noexcept { return mac_at(6); }
    EtherType ethertype() const noexcept { return EtherType{load_be16(bytes_.data() + 12)}; }

    std::size_t header_length() const noexcept { return kHeaderLength; }
    std::span<const std::uint8_t> payload() const noexcept { return bytes_.subspan(kHeaderLength); }
    std::span<const std::uint8_t> bytes() const noexcept { return bytes_; }

private:
    explicit EthernetView(std::span<const std::uint8_t> frame) noexcept : bytes_(frame) {}
    MacAddress mac_at(std::size_t offset) const noexcept {
        MacAddress mac;
        std::memcpy(mac.bytes.data(), bytes_.data() + offset, mac.bytes.size());
        return mac;
    }

    std::span<const std::uint8_t> bytes_;
};

struct EthernetRepr {
    MacAddress destination;
    MacAddress source;
    EtherType ethertype = EtherType::ipv4;

    static ParseResult<EthernetRepr> parse(const EthernetView& view) noexcept;
    static constexpr std::size_t header_len() noexcept { return EthernetView::kHeaderLength; }
    /// Writes the 14-byte header at the front of `out`; false (nothing written) if it is shorter.
    bool emit(std::span<std::uint8_t> out) const noexcept;

    bool operator==(const EthernetRepr&) const = default;
};

}  // namespace netloom::wire
