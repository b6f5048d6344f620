// Fragmentation of outgoing datagrams: copy the header, slice the payload in 8-byte multiples.
#include "fragmenter.hpp"

#include <cstring>

#include "netloom/wire/bytes.hpp"
#include "netloom/wire/ipv4.hpp"

namespace netloom::ip {

Fragmenter::Fragmenter(std::span<const std::uint8_t> datagram, std::uint32_t mtu,
                       std::size_t headroom) noexcept
    : headroom_(headroom) {
    const auto view = wire::Ipv4View::parse(datagram);
    if (!view || view->header_length() != kHeaderLength || mtu < kHeaderLength + 8) return;
    header_ = view->header();
    payload_ = view->payload();
    base_offset_ = view->fragment_offset();
    base_more_ = view->more_fragments();
    // RFC 791: the fragment data length is a multiple of 8 (the offset unit).
    chunk_ = (mtu - kHeaderLength) & ~std::size_t{7};
}

std::size_t Fragmenter::count() const noexcept {
    if (chunk_ == 0) return 0;
    return (payload_.size() + chunk_ - 1) / chunk_;
}

Packet Fragmenter::next(const Checksum& checksum) {
    if (chunk_ == 0 || position_ >= payload_.size()) return {};
    const std::size_t remaining = payload_.size() - position_;
    const std::size_t length = remaining < chunk_ ? remaining : chunk_;
    const bool last = length == remaining;

    Packet fragment = Packet::allocate(kHeaderLength + length, headroom_);
    auto out = fragment.append(kHeaderLength + length);
    std::memcpy(out.data(), header_.data(), kHeaderLength);
    std::memcpy(out.data() + kHeaderLength, payload_.data() + position_, length);

    std::uint8_t* header = out.data();
    const std::uint32_t offset = base_offset_ + static_cast<std::uint32_t>(position_);
    std::uint16_t flags_and_offset = static_cast<std::uint16_t>(offset / 8);
    // Later fragments of the input keep its MF: the input may itself be a middle fragment.
    if (!last || base_more_) flags_and_offset |= 0x2000;
    flags_and_offset |= wire::load_be16(header + 6) & 0x8000;  // reserved bit: copied as is
    wire::store_be16(header + 2, static_cast<std::uint16_t>(kHeaderLength + length));
    wire::store_be16(header + 6, flags_and_offset);
    wire::store_be16(header + 10, 0);
    wire::store_be16(header + 10, checksum.finish({header, kHeaderLength}));
    position_ += length;
    return fragment;
}

}  // namespace netloom::ip
