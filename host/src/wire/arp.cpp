// ARP (RFC 826) checks and emission, Ethernet/IPv4 only.
#include "netloom/wire/arp.hpp"

namespace netloom::wire {

ParseResult<ArpView> ArpView::parse(std::span<const std::uint8_t> bytes) noexcept {
    if (bytes.size() < kLength) return ParseError::truncated;
    const std::uint8_t* at = bytes.data();
    if (load_be16(at) != kHardwareEthernet || load_be16(at + 2) != kProtocolIpv4 || at[4] != 6 ||
        at[5] != 4) {
        return ParseError::unsupported;
    }
    return ArpView(bytes.first(kLength));
}

ParseResult<ArpRepr> ArpRepr::parse(const ArpView& view) noexcept {
    const auto operation = view.operation();
    if (operation != static_cast<std::uint16_t>(ArpOperation::request) &&
        operation != static_cast<std::uint16_t>(ArpOperation::reply)) {
        return ParseError::unsupported;
    }
    return ArpRepr{ArpOperation{operation}, view.sender_mac(), view.sender_ip(), view.target_mac(),
                   view.target_ip()};
}

bool ArpRepr::emit(std::span<std::uint8_t> out) const noexcept {
    if (out.size() < buffer_len()) return false;
    std::uint8_t* at = out.data();
    store_be16(at, ArpView::kHardwareEthernet);
    store_be16(at + 2, ArpView::kProtocolIpv4);
    at[4] = 6;
    at[5] = 4;
    store_be16(at + 6, static_cast<std::uint16_t>(operation));
    std::memcpy(at + 8, sender_mac.bytes.data(), 6);
    sender_ip.write_to(at + 14);
    std::memcpy(at + 18, target_mac.bytes.data(), 6);
    target_ip.write_to(at + 24);
    return true;
}

}  // namespace netloom::wire
