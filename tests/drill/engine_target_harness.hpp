// engine_target_harness.hpp — what the engine target's tests share: raw datagrams built and
// parsed with the wire helpers, a scripted peer, and the passive/active opens every test starts
// with (engine_target_test.cpp: sockets and errno; engine_target_config_test.cpp: settings).
#pragma once

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <catch2/catch.hpp>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "drill/engine_target.hpp"
#include "netloom/checksum.hpp"
#include "netloom/config.hpp"
#include "netloom/wire/ipv4.hpp"
#include "netloom/wire/tcp.hpp"

using namespace netloom;
using namespace netloom::drill;
namespace flag = netloom::wire::tcp_flag;

namespace netloom_drill_test {

constexpr std::int64_t kSecond = 1'000'000;

/// RFC 1071, for building the test's datagrams without a checksum plugin.
class TestChecksum final : public Checksum {
public:
    std::uint64_t partial(std::span<const std::uint8_t> bytes,
                          std::uint64_t acc) const noexcept override {
        for (std::size_t i = 0; i + 1 < bytes.size(); i += 2)
            acc += std::uint64_t{bytes[i]} << 8 | bytes[i + 1];
        if (bytes.size() % 2) acc += std::uint64_t{bytes.back()} << 8;
        return acc;
    }
    const char* variant() const noexcept override { return "test"; }
};

inline const TestChecksum checksum;
inline const wire::Ipv4Address kLocal(192, 168, 0, 1);
inline const wire::Ipv4Address kRemote(192, 0, 2, 1);

inline std::vector<std::uint8_t> datagram(const wire::TcpRepr& tcp) {
    const std::size_t length = wire::Ipv4Repr::header_len() + tcp.buffer_len();
    std::vector<std::uint8_t> bytes(length);
    wire::Ipv4Repr ip;
    ip.source = kRemote;
    ip.destination = kLocal;
    ip.payload_length = static_cast<std::uint16_t>(tcp.buffer_len());
    REQUIRE(ip.emit(bytes, checksum));
    REQUIRE(tcp.emit(std::span(bytes).subspan(wire::Ipv4Repr::header_len()), kRemote, kLocal,
                     checksum) == tcp.buffer_len());
    return bytes;
}

struct Segment {
    std::int64_t at_us = 0;
    wire::Ipv4Address source, destination;
    std::uint16_t source_port = 0, destination_port = 0;
    std::uint32_t seq = 0, ack = 0;
    std::uint8_t flags = 0;
    std::size_t payload = 0;
    wire::TcpOptions options;
    bool has(std::uint8_t f) const { return (flags & f) != 0; }
};

inline Segment parse(const CapturedPacket& packet) {
    auto ip = wire::Ipv4View::parse(packet.datagram);
    REQUIRE(ip);
    REQUIRE(ip->protocol() == wire::IpProtocol::tcp);
    auto view = wire::TcpView::parse(ip->payload());
    REQUIRE(view);
    auto repr = wire::TcpRepr::parse(*view);
    REQUIRE(repr);
    REQUIRE(view->verify_checksum(checksum, ip->source(), ip->destination()));
    return {packet.at_us,
            ip->source(),
            ip->destination(),
            repr->source_port,
            repr->destination_port,
            repr->sequence_number,
            repr->acknowledgment_number,
            repr->flags,
            view->payload().size(),
            repr->options};
}

/// The script's side of one connection.
struct Peer {
    Target& target;
    std::uint16_t port = 40000;       // the peer's port
    std::uint16_t stack_port = 8080;  // the stack's port
    std::uint32_t seq = 1000;         // next sequence number the peer sends
    std::uint32_t ack = 0;            // next sequence number expected from the stack

    void send(std::uint8_t flags, std::size_t payload = 0, std::optional<std::uint16_t> mss = {}) {
        static const std::vector<std::uint8_t> zeros(65536);
        wire::TcpRepr tcp;
        tcp.source_port = port;
        tcp.destination_port = stack_port;
        tcp.sequence_number = seq;
        tcp.acknowledgment_number = (flags & flag::ack) ? ack : 0;
        tcp.flags = flags;
        tcp.window = 65535;
        tcp.options.mss = mss;
        tcp.payload = std::span(zeros.data(), payload);
        target.inject(datagram(tcp));
        seq += static_cast<std::uint32_t>(payload) + ((flags & flag::syn) ? 1 : 0) +
               ((flags & flag::fin) ? 1 : 0);
    }
    /// The next outbound segment within `within_us`, which must exist.
    Segment expect(std::int64_t within_us = kSecond) {
        auto packet = target.next_packet(target.now_us() + within_us);
        REQUIRE(packet);
        return parse(*packet);
    }
    /// Skips pure ACKs until a segment with payload or SYN/FIN/RST arrives.
    Segment expect_not_ack(std::int64_t within_us = kSecond) {
        for (int i = 0; i < 16; ++i) {
            Segment s = expect(within_us);
            if (s.payload || s.has(flag::syn) || s.has(flag::fin) || s.has(flag::rst)) return s;
        }
        FAIL("only pure ACKs");
        return {};
    }
};

inline TargetOptions options_for(const std::string& engine) {
    TargetOptions o;
    o.engine = engine;
    return o;
}

inline int sock_error(Target& t, int fd) {
    OptionValue v;
    REQUIRE(t.getsockopt(fd, SOL_SOCKET, SO_ERROR, v).value == 0);
    REQUIRE(v.is_int);
    return static_cast<int>(v.integer);
}

/// socket (3), bind, listen.
inline void listen_on(Target& t) {
    REQUIRE(t.socket(AF_INET, SOCK_STREAM, IPPROTO_TCP).value == 3);
    REQUIRE(t.bind(3).value == 0);
    REQUIRE(t.listen(3, 1).value == 0);
}

/// listen_on, and a completed handshake from `peer`; returns the accepted fd.
inline int passive_open(Target& t, Peer& peer) {
    listen_on(t);
    peer.send(flag::syn, 0, 1460);
    const Segment syn_ack = peer.expect();
    CHECK(syn_ack.has(flag::syn));
    CHECK(syn_ack.has(flag::ack));
    CHECK(syn_ack.ack == 1001);
    CHECK(syn_ack.source == kLocal);
    CHECK(syn_ack.destination == kRemote);
    CHECK(syn_ack.source_port == 8080);
    CHECK(syn_ack.destination_port == peer.port);
    peer.ack = syn_ack.seq + 1;
    peer.send(flag::ack);
    const CallResult accepted = t.accept(3);
    REQUIRE(accepted.unsupported.empty());
    REQUIRE(accepted.value == 4);
    return 4;
}

/// A non-blocking connect answered by `peer`; returns the fd (3).
inline int active_open(Target& t, Peer& peer) {
    REQUIRE(t.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0).value == 3);
    const CallResult c = t.connect(3, false);
    REQUIRE(c.value == -1);
    REQUIRE(c.error == EINPROGRESS);
    const Segment syn = peer.expect();
    REQUIRE(syn.has(flag::syn));
    REQUIRE(!syn.has(flag::ack));
    CHECK(syn.destination_port == 8080);
    CHECK(syn.destination == kRemote);
    peer.port = 8080;
    peer.stack_port = syn.source_port;
    peer.ack = syn.seq + 1;
    peer.send(flag::syn | flag::ack, 0, 1460);
    const Segment ack = peer.expect();
    CHECK(ack.has(flag::ack));
    CHECK(ack.ack == peer.seq);
    return 3;
}

}  // namespace netloom_drill_test

using namespace netloom_drill_test;
