// tcp_segment_peer.hpp — inject a segment, expect a segment: the segment-level half of the
// engine harness (tcp_engine_harness.hpp).
//
// - parse_frame() reads the TCP segment of a transmitted Ethernet frame (IPv4 as the stacks
//   send it); record(node) logs every segment a node transmits (through its FilterDevice).
// - inject() sends a hand-made segment from a node's IP layer, bypassing its engine, with the
//   checksum filled as a peer's engine would; segment_to() (tcp_segment_out.hpp) builds one.
// - RawPeer stands in for one node's engine (registered as its layer's TCP transport until
//   destroyed, then the engine is again): it records every segment delivered to it with its
//   arrival time, and sends segments whose numbers are relative to the ISNs (its own is 0, the
//   engine's is `iss`, taken from a SYN-ACK), as a packetdrill script writes them.
//   expect_next() checks that exactly one segment arrived since `seen` and returns it.
#pragma once

#include <catch2/catch.hpp>
#include <deque>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "netloom/wire/ipv4.hpp"
#include "netloom/wire/tcp.hpp"
#include "tcp_engine_harness.hpp"
#include "tcp_segment_out.hpp"

namespace netloom::testing {

/// A TCP segment seen in a transmitted Ethernet frame.
struct Seen {
    Ipv4Address source, destination;
    std::uint16_t ip_length = 0;
    bool dont_fragment = false;
    std::uint16_t source_port = 0, destination_port = 0;
    std::uint32_t seq = 0, ack = 0;
    std::uint8_t flags = 0;
    std::uint16_t window = 0;
    std::optional<wire::TcpTimestamps> timestamps;
    Bytes payload;
    bool has(std::uint8_t flag) const noexcept { return (flags & flag) != 0; }
};

/// The TCP segment of an Ethernet + IPv4 frame, or nothing for any other frame.
inline std::optional<Seen> parse_frame(std::span<const std::uint8_t> frame) {
    if (frame.size() < 14 + 20 || frame[12] != 0x08 || frame[13] != 0x00) return std::nullopt;
    const auto ip = frame.subspan(14);
    if ((ip[0] >> 4) != 4 || ip[9] != 6) return std::nullopt;
    const std::size_t ihl = (ip[0] & 0x0f) * 4u;
    const std::size_t total = std::size_t{ip[2]} << 8 | ip[3];
    if (total > ip.size() || total < ihl) return std::nullopt;
    auto view = wire::TcpView::parse(ip.subspan(ihl, total - ihl));
    if (!view) return std::nullopt;
    auto repr = wire::TcpRepr::parse(*view);
    if (!repr) return std::nullopt;
    Seen s;
    s.source = Ipv4Address::from_bytes(ip.data() + 12);
    s.destination = Ipv4Address::from_bytes(ip.data() + 16);
    s.ip_length = static_cast<std::uint16_t>(total);
    s.dont_fragment = (ip[6] & 0x40) != 0;
    s.source_port = repr->source_port;
    s.destination_port = repr->destination_port;
    s.seq = repr->sequence_number;
    s.ack = repr->acknowledgment_number;
    s.flags = repr->flags;
    s.window = repr->window;
    s.timestamps = repr->options.timestamps;
    s.payload.assign(repr->payload.begin(), repr->payload.end());
    return s;
}

/// Logs every TCP segment `node` transmits (replacing its filter's predicate; nothing dropped).
inline std::shared_ptr<std::vector<Seen>> record(Node& node) {
    auto log = std::make_shared<std::vector<Seen>>();
    node.filter->drop = [log](std::span<const std::uint8_t> frame) {
        if (auto s = parse_frame(frame)) log->push_back(std::move(*s));
        return false;
    };
    return log;
}

/// Emits `repr` (checksum filled) from `from`'s IP layer to `to`, as a peer's engine would.
inline void inject(Node& from, Ipv4Address to, const wire::TcpRepr& repr) {
    REQUIRE(send_segment(*from.layer, to, repr));
}

/// Stands in for `node`'s TCP engine: records what arrives, sends hand-made segments from
/// `port` to `remote`:`remote_port`.
class RawPeer final : public Transport {
public:
    struct Received {
        wire::TcpRepr repr;  ///< its payload views into the peer's storage
        Time at;
    };

    RawPeer(Net& net, Node& node, Ipv4Address remote, std::uint16_t remote_port,
            std::uint16_t local_port = 40000)
        : port(local_port), net_(net), node_(node), remote_(remote), remote_port_(remote_port) {
        node_.layer->register_transport(IpProtocol::tcp, this);
    }
    ~RawPeer() override { node_.layer->register_transport(IpProtocol::tcp, &node_.transport()); }
    RawPeer(const RawPeer&) = delete;
    RawPeer& operator=(const RawPeer&) = delete;

    void ip_input(const IpMeta&, Packet&& packet) override {
        storage_.emplace_back(packet.bytes().begin(), packet.bytes().end());
        auto view = wire::TcpView::parse(storage_.back());
        if (!view) return;
        if (auto repr = wire::TcpRepr::parse(*view))
            segments.push_back({*repr, net_.scheduler.now()});
    }
    void ip_error(const IcmpErrorReport&) override {}

    /// Sends a segment carrying `payload` bytes and runs the network without moving the clock;
    /// seq and ack are relative to the ISNs.
    void send(std::uint8_t flags, std::uint32_t seq, std::uint32_t ack, std::size_t payload = 0,
              const wire::TcpOptions& options = {}) {
        auto repr = segment_to(port, remote_port_, flags, seq,
                               (flags & wire::tcp_flag::ack) ? iss + ack : 0);
        repr.window = 65535;
        repr.options = options;
        const Bytes data(payload, 0x61);
        repr.payload = data;
        inject(node_, remote_, repr);
        net_.scheduler.run_until_idle();
    }
    /// Runs the network until a segment more than `seen` arrived (false after `limit`).
    bool wait_for(std::size_t seen, Time limit = 10s) {
        return net_.run_until([&] { return segments.size() > seen; }, limit);
    }
    /// Exactly one segment arrived since `seen` (without moving the clock): that one.
    const wire::TcpRepr& expect_next(std::size_t seen) {
        net_.scheduler.run_until_idle();
        REQUIRE(segments.size() == seen + 1);
        return segments.back().repr;
    }
    std::uint32_t rel_seq(const Received& r) const { return r.repr.sequence_number - iss; }

    std::uint16_t port;
    std::uint32_t iss = 0;
    std::vector<Received> segments;

private:
    Net& net_;
    Node& node_;
    Ipv4Address remote_;
    std::uint16_t remote_port_;
    std::deque<Bytes> storage_;  // the segments' payloads view into these
};

/// A packetdrill script's passive open: the peer's SYN <mss 1000[, sackOK]>, the engine's
/// SYN-ACK, and `rtt` later the ACK; returns the accepted connection.
inline std::unique_ptr<TcpConnection> passive_open(Net& net, RawPeer& peer, TcpListener& listener,
                                                   Time rtt, bool sack = false) {
    wire::TcpOptions options;
    options.mss = 1000;
    options.sack_permitted = sack;
    const std::size_t seen = peer.segments.size();
    peer.send(wire::tcp_flag::syn, 0, 0, 0, options);
    REQUIRE(peer.segments.size() == seen + 1);
    REQUIRE(peer.segments.back().repr.flags == (wire::tcp_flag::syn | wire::tcp_flag::ack));
    peer.iss = peer.segments.back().repr.sequence_number;
    net.scheduler.advance(rtt);
    peer.send(wire::tcp_flag::ack, 1, 1);
    auto connection = listener.accept();
    REQUIRE(connection != nullptr);
    return connection;
}

/// A script's setup: a listener of the server's engine on `port`, a RawPeer in place of the
/// client's engine, and the connection passive_open() accepted from it.
struct Accepted {
    Accepted(std::string_view engine, const std::string& link, std::uint16_t port, Time rtt,
             bool sack = false, const std::string& server_yaml = "{}")
        : net(engine, link, server_yaml),
          listener(net.server.engine.listen(port, 0)),
          peer(net, net.client, kServer, port),
          connection(passive_open(net, peer, *listener, rtt, sack)) {}
    Net net;
    std::unique_ptr<TcpListener> listener;
    RawPeer peer;
    std::unique_ptr<TcpConnection> connection;
};

}  // namespace netloom::testing
