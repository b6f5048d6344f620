// fragmenter.hpp — splits an outgoing IPv4 datagram into fragments that fit a link MTU
// (RFC 791 3.2, "An Example Fragmentation Procedure").
//
// Contract: the input is a whole datagram this layer built: a 20-byte header without options
// (the fragmenter refuses anything else, `valid()` false) followed by its payload. Every fragment
// is a new buffer with `headroom` in front (room for the Ethernet header) holding a copy of the
// header, with total length, MF, offset and checksum set, and a slice of the payload; all but the
// last carry a multiple of 8 payload bytes. The input may itself be a fragment (its offset and MF
// are honoured). `next()` returns an empty Packet once every fragment has been produced. The
// input bytes must stay alive and unchanged while fragments are taken.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "netloom/checksum.hpp"
#include "netloom/packet.hpp"

namespace netloom::ip {

class Fragmenter {
public:
    Fragmenter(std::span<const std::uint8_t> datagram, std::uint32_t mtu,
               std::size_t headroom = Packet::kDefaultHeadroom) noexcept;

    /// False when the input has options or a malformed header, or the MTU leaves no room for
    /// 8 payload bytes per fragment.
    bool valid() const noexcept { return chunk_ != 0; }
    /// Number of fragments the datagram becomes.
    std::size_t count() const noexcept;
    Packet next(const Checksum& checksum);

private:
    static constexpr std::size_t kHeaderLength = 20;

    std::span<const std::uint8_t> header_;
    std::span<const std::uint8_t> payload_;
    std::size_t headroom_;
    std::size_t chunk_ = 0;          ///< payload bytes per fragment but the last
    std::size_t position_ = 0;       ///< payload bytes already handed out
    std::uint32_t base_offset_ = 0;  ///< offset of the input itself (when it is a fragment)
    bool base_more_ = false;         ///< MF of the input itself
};

}  // namespace netloom::ip
