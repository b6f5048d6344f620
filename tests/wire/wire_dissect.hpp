// Test helpers that run every parser over some bytes and read every accessor, so that a parser
// which accepted bytes it cannot back shows up as an AddressSanitizer error (or a wrong length
// here). Shared by the truncation and random-input tests.
#pragma once

#include <cstdint>
#include <span>

#include "netloom/wire/arp.hpp"
#include "netloom/wire/ethernet.hpp"
#include "netloom/wire/icmp.hpp"
#include "netloom/wire/ipv4.hpp"
#include "netloom/wire/tcp.hpp"
#include "netloom/wire/udp.hpp"
#include "wire_test_support.hpp"

namespace wire_test {

/// Folds values into a running digest so the compiler cannot drop the reads.
inline void mix(std::uint64_t& digest, std::uint64_t value) {
    digest = (digest ^ value) * 0x100000001b3ULL;
}

inline void mix_bytes(std::uint64_t& digest, std::span<const std::uint8_t> bytes) {
    for (auto b : bytes) mix(digest, b);
    mix(digest, bytes.size());
}

/// True when `inner` lies entirely inside `outer`.
inline bool within(std::span<const std::uint8_t> inner, std::span<const std::uint8_t> outer) {
    return inner.data() >= outer.data() &&
           inner.data() + inner.size() <= outer.data() + outer.size();
}

inline std::uint64_t read_all(const netloom::wire::EthernetView& v) {
    std::uint64_t d = 0;
    mix_bytes(d, v.destination().bytes);
    mix_bytes(d, v.source().bytes);
    mix(d, static_cast<std::uint16_t>(v.ethertype()));
    mix_bytes(d, v.payload());
    return d;
}

inline std::uint64_t read_all(const netloom::wire::ArpView& v) {
    std::uint64_t d = 0;
    mix(d, v.hardware_type());
    mix(d, v.protocol_type());
    mix(d, v.hardware_length() + v.protocol_length());
    mix(d, v.operation());
    mix_bytes(d, v.sender_mac().bytes);
    mix(d, v.sender_ip().to_uint());
    mix_bytes(d, v.target_mac().bytes);
    mix(d, v.target_ip().to_uint());
    return d;
}

inline std::uint64_t read_all(const netloom::wire::Ipv4View& v) {
    std::uint64_t d = 0;
    mix(d, v.version() + v.header_length() + v.dscp() + v.ecn() + v.total_length());
    mix(d, v.identification() + v.reserved_flag() + v.dont_fragment() + v.more_fragments());
    mix(d, v.fragment_offset() + v.is_fragment() + v.ttl());
    mix(d, static_cast<std::uint8_t>(v.protocol()) + v.checksum());
    mix(d, v.source().to_uint() ^ v.destination().to_uint());
    mix_bytes(d, v.options());
    mix_bytes(d, v.header());
    mix_bytes(d, v.payload());
    mix(d, v.verify_checksum(checksum()));
    return d;
}

inline std::uint64_t read_all(const netloom::wire::IcmpView& v) {
    std::uint64_t d = 0;
    mix(d, static_cast<std::uint8_t>(v.type()) + v.code() + v.checksum());
    mix(d, v.rest_of_header() + v.echo_identifier() + v.echo_sequence() + v.next_hop_mtu());
    mix(d, v.problem_pointer());
    mix_bytes(d, v.payload());
    mix(d, v.verify_checksum(checksum()));
    if (auto quote = v.quoted()) {
        mix(d, quote->source.to_uint() + quote->destination.to_uint());
        mix_bytes(d, quote->header);
        mix_bytes(d, quote->transport);
        mix(d, quote->source_port() + quote->destination_port());
    }
    return d;
}

inline std::uint64_t read_all(const netloom::wire::UdpView& v) {
    std::uint64_t d = 0;
    mix(d, v.source_port() + v.destination_port() + v.length() + v.checksum());
    mix_bytes(d, v.payload());
    mix(d, v.verify_checksum(checksum(), netloom::wire::Ipv4Address(10, 0, 0, 1),
                             netloom::wire::Ipv4Address(10, 0, 0, 2)));
    return d;
}

inline std::uint64_t read_all(const netloom::wire::TcpView& v) {
    std::uint64_t d = 0;
    mix(d, v.source_port() + v.destination_port() + v.sequence_number());
    mix(d, v.acknowledgment_number() + v.header_length() + v.reserved_bits() + v.flags());
    mix(d, v.window() + v.checksum() + v.urgent_pointer() + v.sequence_length());
    mix_bytes(d, v.options());
    mix_bytes(d, v.payload());
    mix(d, v.verify_checksum(checksum(), netloom::wire::Ipv4Address(10, 0, 0, 1),
                             netloom::wire::Ipv4Address(10, 0, 0, 2)));
    netloom::wire::TcpOptionReader reader(v.options());
    netloom::wire::TcpOption option;
    while (reader.next(option)) {
        mix(d, option.kind);
        mix_bytes(d, option.data);
    }
    return d;
}

}  // namespace wire_test
