// packet_codec.hpp — the bytes of the packets a script talks about: IPv4 datagrams carrying TCP,
// ICMP or UDP, built for injection (any field value a script can write, including ones a stack
// must reject) and decoded from what a stack sent (every field packetdrill compares).
//
// Contract: `build_*` never fail for values that fit their fields; checksums are computed
// (RFC 1071) over exactly what is written. `decode_ipv4` accepts any byte string: on anything that
// is not a whole IPv4 datagram it returns nullopt and says why in `error`. Addresses are host-order
// 32-bit values.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace netloom::drill {

std::uint16_t internet_checksum(std::span<const std::uint8_t> bytes, std::uint32_t initial = 0);

struct Ipv4Fields {
    std::uint32_t source = 0, destination = 0;
    std::uint8_t protocol = 6;
    std::uint8_t tos = 0;
    std::uint8_t ttl = 255;
    std::uint16_t id = 0;
    bool dont_fragment = false;
};

struct TcpFields {
    std::uint16_t source_port = 0, destination_port = 0;
    std::uint32_t seq = 0, ack = 0;
    std::uint8_t flags =
        0;  ///< FIN 0x01 SYN 0x02 RST 0x04 PSH 0x08 ACK 0x10 URG 0x20 ECE 0x40 CWR 0x80
    std::uint8_t reserved = 0;  ///< the 4 bits below the data offset (AE is bit 0)
    std::uint16_t window = 0, urgent = 0;
    std::vector<std::uint8_t> options;  ///< encoded, a multiple of 4 bytes
    std::uint32_t payload_length = 0;   ///< zero bytes
};

/// IPv4 header + TCP segment, both checksums right.
std::vector<std::uint8_t> build_tcp(const Ipv4Fields& ip, const TcpFields& tcp);
/// IPv4 header + ICMP error quoting `quoted` (an IPv4 header + at least 8 bytes of transport).
std::vector<std::uint8_t> build_icmp(const Ipv4Fields& ip, std::uint8_t type, std::uint8_t code,
                                     std::uint32_t rest_of_header,
                                     std::span<const std::uint8_t> quoted);
std::vector<std::uint8_t> build_udp(const Ipv4Fields& ip, std::uint16_t source_port,
                                    std::uint16_t destination_port, std::uint32_t payload_length);
/// Just an IPv4 header (20 bytes) claiming `total_length`, for ICMP quotes.
std::vector<std::uint8_t> build_ipv4_header(const Ipv4Fields& ip, std::uint16_t total_length);

struct DecodedPacket {
    // IPv4
    std::uint8_t version = 0;
    std::uint8_t header_length = 0;  ///< bytes
    std::uint8_t tos = 0, ttl = 0, protocol = 0;
    std::uint16_t total_length = 0;
    bool header_checksum_ok = false;
    bool dont_fragment = false;
    std::uint32_t source = 0, destination = 0;
    // TCP (protocol 6)
    TcpFields tcp;
    std::uint8_t tcp_data_offset = 0;  ///< 32-bit words
    bool payload_all_zero = true;
    // ICMP (protocol 1)
    std::uint8_t icmp_type = 0, icmp_code = 0;
    // UDP (protocol 17)
    std::uint16_t udp_length = 0;
};

std::optional<DecodedPacket> decode_ipv4(std::span<const std::uint8_t> datagram,
                                         std::string& error);

/// An options area in the script's notation ("mss 1460,sackOK,TS val 5 ecr 0,nop,wscale 7");
/// SACK edges are shown minus `sack_base` (the peer's ISN, to show them in script space).
std::string describe_options(std::span<const std::uint8_t> options, std::uint32_t sack_base = 0);
std::string flags_text(std::uint8_t flags, std::uint8_t reserved);

}  // namespace netloom::drill
