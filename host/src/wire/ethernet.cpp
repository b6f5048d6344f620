// Ethernet II header checks and emission.
#include "netloom/wire/ethernet.hpp"

namespace netloom::wire {

ParseResult<EthernetView> EthernetView::parse(std::span<const std::uint8_t> frame) noexcept {
    if (frame.size() < kHeaderLength) return ParseError::truncated;
    // Values up to 1500 are 802.3 lengths (LLC/SNAP frames); 1501..1535 are undefined.
    if (load_be16(frame.data() + 12) < kMinEtherType) return ParseError::bad_ethertype;
    return EthernetView(frame);
}

ParseResult<EthernetRepr> EthernetRepr::parse(const EthernetView& view) noexcept {
    return EthernetRepr{view.destination(), view.source(), view.ethertype()};
}

bool EthernetRepr::emit(std::span<std::uint8_t> out) const noexcept {
    if (out.size() < header_len()) return false;
    std::memcpy(out.data(), destination.bytes.data(), 6);
    std::memcpy(out.data() + 6, source.bytes.data(), 6);
    store_be16(out.data() + 12, static_cast<std::uint16_t>(ethertype));
    return true;
}

}  // namespace netloom::wire
