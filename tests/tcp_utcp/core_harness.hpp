// core_harness.hpp — helpers for feeding the tcp_utcp pure core: a default config and 4-tuples,
// WireSegment (a segment with its own payload bytes, what a packet carries) and builders for it,
// the shell's two copies (kept text into the receive ring, outgoing payload out of the send
// ring), and CorePair, a tiny pure "network" that runs a client core against a server core with
// a virtual clock, a fixed one-way delay and optional seeded loss.
//
// Contract: a WireSegment made from an OutgoingSegment alone (the implicit conversion) carries
// `payload_length` filler bytes, for tests of sequence handling; `on_wire` (what CorePair uses)
// copies the real bytes from the sender's send buffer. Every `deliver_in` here stores the text
// the core kept, as the shell does.
// Contract: CorePair::step() advances the virtual clock to the next event (a segment arrival or
// a timer deadline of either side) and processes it; nothing here reads a real clock. The
// server TCB is created by deliver_in_1 when the first segment reaches the listener.
#pragma once

#include <algorithm>
#include <deque>
#include <functional>
#include <optional>
#include <random>
#include <vector>

#include <catch2/catch.hpp>

#include "core/rules.hpp"

namespace utcp_test {

namespace tcp = netloom::tcp;
namespace wire = netloom::wire;
using netloom::kTcpClosed;
using netloom::kTcpConnected;
using netloom::kTcpError;
using netloom::kTcpReadable;
using netloom::kTcpWritable;
using netloom::TcpError;
using netloom::TcpState;
using namespace netloom::utcp;
using netloom::utcp::Config;  // netloom::Config is the YAML config reader
using namespace std::chrono_literals;
namespace flag = netloom::wire::tcp_flag;

inline Config test_config() {
    Config config;
    config.isn_key = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    config.mss = 1460;
    config.rcvbuf = 64 * 1024;
    config.sndbuf = 64 * 1024;
    config.rto.min_rto = 200ms;
    return config;
}

inline tcp::FourTuple client_tuple() {
    return {wire::Ipv4Address{10, 0, 0, 1}, 40000, wire::Ipv4Address{10, 0, 0, 2}, 80};
}
inline tcp::FourTuple server_tuple() {
    return {wire::Ipv4Address{10, 0, 0, 2}, 80, wire::Ipv4Address{10, 0, 0, 1}, 40000};
}

/// A segment with its payload bytes, as a packet carries it.
struct WireSegment {
    std::uint16_t source_port = 0;
    std::uint16_t destination_port = 0;
    SeqNum seq;
    SeqNum ack;
    std::uint8_t flags = 0;  ///< wire::tcp_flag bits
    std::uint16_t window = 0;
    wire::TcpOptions options;
    std::vector<std::uint8_t> payload;
    bool challenge_ack = false;

    WireSegment() = default;
    /// `out` with filler payload of its length (see the contract).
    WireSegment(const OutgoingSegment& out)  // NOLINT: implicit, so outputs can be fed back
        : source_port(out.source_port),
          destination_port(out.destination_port),
          seq(out.seq),
          ack(out.ack),
          flags(out.flags),
          window(out.window),
          options(out.options),
          payload(out.payload_length, std::uint8_t{0x5a}),
          challenge_ack(out.challenge_ack) {}

    bool has(std::uint8_t flag) const noexcept { return (flags & flag) != 0; }
    std::uint32_t seq_len() const noexcept {
        return static_cast<std::uint32_t>(payload.size()) + (has(flag::syn) ? 1 : 0) +
               (has(flag::fin) ? 1 : 0);
    }
};

/// `out` as sent by `sender`: its payload copied from the sender's send buffer.
inline WireSegment on_wire(const OutgoingSegment& out, const Tcb& sender) {
    WireSegment segment(out);
    if (out.payload_length > 0) {
        const std::size_t copied = sender.send_buffer.peek(
            tcp::forward_distance(sender.snd_una, out.seq), segment.payload);
        REQUIRE(copied == out.payload_length);  // the range is in the buffer (segment.hpp)
    }
    return segment;
}

/// The core's view of `segment` (tcp::Segment, payload borrowed), as the front half builds it.
inline Segment view(const WireSegment& segment) {
    Segment in;
    in.source_port = segment.source_port;
    in.destination_port = segment.destination_port;
    in.seq = segment.seq;
    if (segment.has(flag::ack)) in.ack = segment.ack;
    in.control = segment.has(flag::rst)   ? tcp::Control::rst
                 : segment.has(flag::syn) ? tcp::Control::syn
                 : segment.has(flag::fin) ? tcp::Control::fin
                                          : tcp::Control::none;
    in.psh = segment.has(flag::psh);
    in.window = segment.window;
    in.options = segment.options;
    in.payload = segment.payload;
    return in;
}

/// deliver_in, then the shell's copy of the text the core kept.
inline Outputs deliver_in(Tcb& tcb, const WireSegment& segment, Time now) {
    Outputs out;
    const Segment in = view(segment);
    netloom::utcp::deliver_in(tcb, in, now, out);
    if (out.keep.length > 0)
        tcb.recv_buffer.store(out.keep.ring_position,
                              in.payload.subspan(out.keep.payload_offset, out.keep.length));
    return out;
}
inline std::optional<Tcb> deliver_in_1(const Listener& listener, const tcp::FourTuple& tuple,
                                       const WireSegment& segment, Time now, Outputs& out) {
    return netloom::utcp::deliver_in_1(listener, tuple, view(segment), now, out);
}
inline std::optional<OutgoingSegment> rst_for_closed(const WireSegment& segment) {
    return netloom::utcp::rst_for_closed(view(segment));
}
inline bool time_wait_accepts_syn(const Tcb& tcb, const WireSegment& syn) {
    return netloom::utcp::time_wait_accepts_syn(tcb, view(syn));
}

/// A bare segment from the peer of `tcb` (ports swapped), no options.
inline WireSegment peer_segment(const Tcb& tcb, SeqNum seq, SeqNum ack, std::uint8_t flags,
                                std::uint16_t window = 0xffff, std::size_t payload = 0) {
    WireSegment segment;
    segment.source_port = tcb.tuple.remote_port;
    segment.destination_port = tcb.tuple.local_port;
    segment.seq = seq;
    segment.ack = ack;
    segment.flags = flags;
    segment.window = window;
    segment.payload.assign(payload, std::uint8_t{0x5a});
    return segment;
}

/// `bytes` of data from the peer of `tcb` at `seq`, acknowledging everything `tcb` sent, with
/// timestamp `tsval` when timestamps are on.
inline WireSegment data_from_peer(const Tcb& tcb, SeqNum seq, std::size_t bytes,
                                  std::uint32_t tsval) {
    WireSegment segment = peer_segment(tcb, seq, tcb.snd_nxt, flag::ack, 0xffff, bytes);
    if (tcb.ts_ok) segment.options.timestamps = wire::TcpTimestamps{tsval, 0};
    return segment;
}

class CorePair {
public:
    /// `loss`: probability that a segment is dropped; `reorder`: probability that one is held
    /// back 1-10 ms extra, so later segments overtake it.
    CorePair(const Config& client_config, const Config& server_config, Time start = Time{0},
             double loss = 0.0, std::uint32_t seed = 1, double reorder = 0.0)
        : listener_{server_config, 80},
          client_config_(std::make_shared<const Config>(client_config)),
          now_(start),
          loss_(loss),
          reorder_(reorder),
          rng_(seed) {
        // Like an engine, the pair keeps one shared config per side (not counted per TCB).
        listener_.shared = std::make_shared<const Config>(server_config);
        Outputs out;
        client.emplace(connect_1(client_config_, client_tuple(), now_, out));
        send(out, &*client, to_server_);
    }

    /// Process the next event; false when nothing is pending (no segment, no timer).
    bool step() {
        std::optional<Time> next;
        auto consider = [&](std::optional<Time> t) {
            if (t && (!next || *t < *next)) next = t;
        };
        if (!to_server_.empty()) consider(to_server_.front().first);
        if (!to_client_.empty()) consider(to_client_.front().first);
        if (client) consider(next_deadline(*client));
        if (server) consider(next_deadline(*server));
        if (!next) return false;
        now_ = std::max(now_, *next);
        if (!to_server_.empty() && to_server_.front().first <= now_) {
            WireSegment segment = std::move(to_server_.front().second);
            to_server_.pop_front();
            deliver_to_server(segment);
        } else if (!to_client_.empty() && to_client_.front().first <= now_) {
            WireSegment segment = std::move(to_client_.front().second);
            to_client_.pop_front();
            absorb(deliver_in(*client, segment, now_), &*client, to_server_, client_events);
        } else {
            if (client && next_deadline(*client) && *next_deadline(*client) <= now_)
                absorb(on_tick(*client, now_), &*client, to_server_, client_events);
            if (server && next_deadline(*server) && *next_deadline(*server) <= now_)
                absorb(on_tick(*server, now_), &*server, to_client_, server_events);
        }
        if (after_step) after_step(*this);
        return true;
    }

    /// Steps until `done()` holds or `limit` steps ran; returns done().
    bool run_until(const std::function<bool()>& done, std::size_t limit = 1'000'000) {
        for (std::size_t i = 0; i < limit && !done(); ++i) {
            if (!step()) break;
        }
        return done();
    }

    /// Hands outputs produced outside step() (user calls) to the network.
    void from_client(const Outputs& out) { absorb(out, &*client, to_server_, client_events); }
    void from_server(const Outputs& out) { absorb(out, &*server, to_client_, server_events); }

    Time now() const { return now_; }

    std::optional<Tcb> client;
    std::optional<Tcb> server;
    std::uint32_t client_events = 0, server_events = 0;
    std::size_t dropped = 0, reordered = 0;
    std::function<void(CorePair&)> after_step;

private:
    using Queue = std::deque<std::pair<Time, WireSegment>>;
    static constexpr Time kDelay = 5ms;

    void deliver_to_server(const WireSegment& segment) {
        if (!server) {
            Outputs out;
            server = deliver_in_1(listener_, server_tuple(), segment, now_, out);
            absorb(out, server ? &*server : nullptr, to_client_, server_events);
            return;
        }
        absorb(deliver_in(*server, segment, now_), &*server, to_client_, server_events);
    }
    /// `out` was just produced by `sender` (null: a listener's reply, which has no payload).
    void absorb(const Outputs& out, const Tcb* sender, Queue& queue, std::uint32_t& events) {
        events |= out.events;
        send(out, sender, queue);
    }
    void send(const Outputs& out, const Tcb* sender, Queue& queue) {
        std::bernoulli_distribution lose(loss_);
        std::bernoulli_distribution hold(reorder_);
        std::uniform_int_distribution<int> extra_ms(1, 10);
        for (const auto& out_segment : out.segments) {
            REQUIRE((sender || out_segment.payload_length == 0));
            const WireSegment segment = sender ? on_wire(out_segment, *sender) : out_segment;
            if (loss_ > 0 && lose(rng_)) {
                ++dropped;
                continue;
            }
            Time arrival = now_ + kDelay;
            if (reorder_ > 0 && hold(rng_)) {
                arrival += std::chrono::milliseconds(extra_ms(rng_));
                ++reordered;
            }
            // Keep the queue sorted by arrival time (stable for equal times: FIFO).
            auto at = std::upper_bound(queue.begin(), queue.end(), arrival,
                                       [](Time t, const auto& entry) { return t < entry.first; });
            queue.emplace(at, arrival, segment);
        }
    }

    Listener listener_;
    std::shared_ptr<const Config> client_config_;
    Time now_;
    double loss_;
    double reorder_;
    std::mt19937 rng_;
    Queue to_server_, to_client_;
};

/// Two cores driven through the handshake; fails the test unless both are ESTABLISHED.
inline CorePair established_pair(Config client_config = test_config(),
                                 Config server_config = test_config(), Time start = Time{0},
                                 double loss = 0.0, std::uint32_t seed = 1, double reorder = 0.0) {
    CorePair pair(client_config, server_config, start, loss, seed, reorder);
    pair.run_until([&] {
        return pair.server && pair.server->state == TcpState::established &&
               pair.client->state == TcpState::established;
    });
    REQUIRE(pair.client->state == TcpState::established);
    REQUIRE(pair.server);
    REQUIRE(pair.server->state == TcpState::established);
    return pair;
}

/// Streams `total` bytes client -> server through the pair, the apps reading and writing
/// whenever they can; returns what the server read.
inline std::vector<std::uint8_t> transfer(CorePair& pair, std::size_t total) {
    std::vector<std::uint8_t> source(total);
    for (std::size_t i = 0; i < total; ++i) source[i] = static_cast<std::uint8_t>(i * 7 + i / 251);
    std::vector<std::uint8_t> sink;
    std::size_t written = 0;
    std::vector<std::uint8_t> buffer(64 * 1024);
    pair.after_step = [&](CorePair& p) {
        if (written < total) {
            Outputs out;
            written += send_1(*p.client, std::span(source).subspan(written), p.now(), out);
            p.from_client(out);
        }
        if (p.server && p.server->recv_buffer.readable() > 0) {
            Outputs out;
            const std::size_t n = recv_1(*p.server, buffer, p.now(), out);
            sink.insert(sink.end(), buffer.begin(), buffer.begin() + n);
            p.from_server(out);
        }
    };
    pair.after_step(pair);
    pair.run_until([&] { return sink.size() >= total; }, 5'000'000);
    pair.after_step = nullptr;
    CHECK(sink == source);
    return sink;
}

}  // namespace utcp_test
