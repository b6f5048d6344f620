// time_wait_reuse_cases.hpp — TIME-WAIT reuse by connect(), the same cases for both engines
// (tcp_common/ephemeral_ports.hpp). A fixture `Net` (tests/tcp_classic/harness.hpp,
// tests/tcp_utcp_shell/shell_fixture.hpp) gives two nodes on a wire, each device behind a
// FilterDevice, a ManualScheduler and run_until; the client's ephemeral range is one port, so
// every second connection must take over the first one's TIME-WAIT or wait for it.
#pragma once

#include <catch2/catch.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "netloom/tcp.hpp"
#include "netloom/wire/ipv4.hpp"
#include "netloom/wire/tcp.hpp"

namespace netloom::testing::time_wait_reuse {

using namespace std::chrono_literals;

inline constexpr std::uint16_t kPort = 7000;
inline constexpr std::uint16_t kClientPort = 40000;
inline const char* const kClientYaml = "{ephemeral_ports: 40000-40000}";
inline const char* const kClientYamlNoTs = "{ephemeral_ports: 40000-40000, timestamps: false}";

/// A TCP segment seen in a transmitted Ethernet frame (IPv4, as the stacks send it).
struct Seen {
    wire::Ipv4Address source, destination;
    std::uint32_t seq = 0, ack = 0;
    std::uint8_t flags = 0;
    std::uint16_t window = 0;
    std::optional<wire::TcpTimestamps> timestamps;
    std::vector<std::uint8_t> payload;
};

inline std::optional<Seen> parse_seen(std::span<const std::uint8_t> frame) {
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
    s.source = wire::Ipv4Address::from_bytes(ip.data() + 12);
    s.destination = wire::Ipv4Address::from_bytes(ip.data() + 16);
    s.seq = repr->sequence_number;
    s.ack = repr->acknowledgment_number;
    s.flags = repr->flags;
    s.window = repr->window;
    s.timestamps = repr->options.timestamps;
    s.payload.assign(repr->payload.begin(), repr->payload.end());
    return s;
}

/// Records every TCP segment a node transmits.
template <typename Node>
std::shared_ptr<std::vector<Seen>> record(Node& node) {
    auto log = std::make_shared<std::vector<Seen>>();
    node.filter->drop = [log](std::span<const std::uint8_t> frame) {
        if (auto s = parse_seen(frame)) log->push_back(std::move(*s));
        return false;
    };
    return log;
}

inline std::vector<std::uint8_t> bytes_of(const std::string& text) {
    return {text.begin(), text.end()};
}

/// One exchange on a fresh connection, the client closing first (it ends in TIME-WAIT).
template <typename NetT>
void transact(NetT& net, TcpListener& listener, const std::string& request,
              const std::string& response) {
    auto client = net.client.engine.connect({net.server.layer->address().address, kPort});
    REQUIRE(client->local().port == kClientPort);
    std::unique_ptr<TcpConnection> server;
    REQUIRE(net.run_until([&] {
        if (!server) server = listener.accept();
        return server && client->state() == TcpState::established;
    }));
    REQUIRE(client->send(bytes_of(request)) == request.size());
    client->shutdown_write();
    std::vector<std::uint8_t> got(request.size());
    REQUIRE(net.run_until([&] { return server->readable_bytes() == request.size(); }));
    REQUIRE(server->recv(got) == request.size());
    REQUIRE(server->send(bytes_of(response)) == response.size());
    server->close();
    REQUIRE(net.run_until([&] { return client->readable_bytes() == response.size(); }));
    std::vector<std::uint8_t> answer(response.size());
    REQUIRE(client->recv(answer) == response.size());
    CHECK(answer == bytes_of(response));
    REQUIRE(net.run_until([&] {
        return client->state() == TcpState::time_wait && server->state() == TcpState::closed;
    }));
}

template <typename Engine>
std::uint64_t counter(const Engine& engine, std::string_view name) {
    std::uint64_t value = UINT64_MAX;
    engine.visit_counters([&](std::string_view n, std::uint64_t v) {
        if (n == name) value = v;
    });
    return value;
}

/// connect() with the one port in TIME-WAIT: the refusal and when to try again.
template <typename Engine>
std::optional<std::chrono::nanoseconds> refused_until(Engine& engine, wire::Ipv4Address server) {
    try {
        auto c = engine.connect({server, kPort});
        FAIL("connect() took port " << c->local().port << " while its TIME-WAIT was not reusable");
    } catch (const TcpNoFreePort& e) {
        CHECK(std::string(e.what()).find("no free ephemeral port") != std::string::npos);
        return e.retry_at();
    }
    return std::nullopt;
}

/// With timestamps: refused within 1 s (retry_at = TIME-WAIT entry + 1 s), allowed at 1 s with
/// an ISS beyond the old SND.NXT; an old duplicate of the first incarnation whose sequence number
/// falls in the new window is rejected by PAWS and never reaches the application.
template <typename NetT>
void reuse_after_delay_rejects_old_duplicates(NetT& net) {
    auto listener = net.server.engine.listen(kPort, 0);
    const auto client_log = record(net.client);
    const auto server_log = record(net.server);
    std::vector<Seen>& client_sent = *client_log;
    std::vector<Seen>& server_sent = *server_log;
    const auto server_address = net.server.layer->address().address;

    transact(net, *listener, "first request", "first response");
    const std::chrono::nanoseconds entered = net.scheduler.now();  // run_until stopped there
    const Seen old_data = [&] {
        for (auto it = server_sent.rbegin(); it != server_sent.rend(); ++it)
            if (!it->payload.empty()) return *it;
        FAIL("the server sent no data");
        return Seen{};
    }();
    REQUIRE(old_data.timestamps);
    const std::uint32_t old_snd_nxt = client_sent.back().seq;  // the last ACK: at SND.NXT

    // Within the delay: refused, told when to come back, counted.
    const auto retry_at = refused_until(net.client.engine, server_address);
    REQUIRE(retry_at);
    CHECK(*retry_at > net.scheduler.now());
    CHECK(*retry_at <= entered + 1s);
    CHECK(counter(net.client.engine, "ephemeral_exhausted") == 1);
    net.scheduler.advance_to(*retry_at - 1ms);
    CHECK(refused_until(net.client.engine, server_address));
    net.scheduler.advance_to(*retry_at);

    // At the delay: the TIME-WAIT 4-tuple is taken over.
    const std::size_t client_before = client_sent.size();
    auto client = net.client.engine.connect({server_address, kPort});
    CHECK(client->local().port == kClientPort);
    CHECK(counter(net.client.engine, "time_wait_reused_active") == 1);
    REQUIRE(client_sent.size() > client_before);
    const Seen& syn = client_sent[client_before];
    REQUIRE((syn.flags & wire::tcp_flag::syn) != 0);
    CHECK(static_cast<std::int32_t>(syn.seq - old_snd_nxt) > 0);  // ISS beyond old SND.NXT
    REQUIRE(syn.timestamps);
    std::unique_ptr<TcpConnection> server;
    REQUIRE(net.run_until([&] {
        if (!server) server = listener->accept();
        return server && client->state() == TcpState::established;
    }));
    REQUIRE(server->send(bytes_of("fresh")) == 5);
    REQUIRE(net.run_until([&] { return client->readable_bytes() == 5; }));
    std::vector<std::uint8_t> fresh(5);
    REQUIRE(client->recv(fresh) == 5);
    const Seen& latest = server_sent.back();
    REQUIRE(latest.payload.size() == 5);
    REQUIRE(latest.timestamps);
    CHECK(static_cast<std::int32_t>(latest.timestamps->value - old_data.timestamps->value) > 0);

    // The old duplicate: the first incarnation's segment with its old TSval, its sequence
    // number wrapped (as an adversary or 4 GB of traffic could) onto the new RCV.NXT.
    const std::uint64_t paws_before = counter(net.client.engine, "rx_paws");
    wire::TcpRepr dup;
    dup.source_port = kPort;
    dup.destination_port = kClientPort;
    dup.sequence_number = latest.seq + 5;
    dup.acknowledgment_number = latest.ack;
    dup.flags = wire::tcp_flag::ack | wire::tcp_flag::psh;
    dup.window = latest.window;
    dup.options.timestamps = old_data.timestamps;
    dup.payload = old_data.payload;
    Packet packet = Packet::allocate(dup.buffer_len());
    auto out = packet.append(dup.buffer_len());
    REQUIRE(dup.emit(out, server_address, net.client.layer->address().address,
                     net.server.layer->checksum()) > 0);
    net.server.layer->output(net.client.layer->address().address, IpProtocol::tcp,
                             std::move(packet));
    net.scheduler.run_until_idle();
    net.scheduler.advance(100ms);
    CHECK(client->readable_bytes() == 0);
    CHECK(counter(net.client.engine, "rx_paws") == paws_before + 1);

    // The connection goes on with the real bytes at that sequence number.
    REQUIRE(server->send(bytes_of("after")) == 5);
    REQUIRE(net.run_until([&] { return client->readable_bytes() == 5; }));
    std::vector<std::uint8_t> after(5);
    REQUIRE(client->recv(after) == 5);
    CHECK(after == bytes_of("after"));
}

/// Without timestamps nothing tells old duplicates apart: the port waits out its 2 MSL.
template <typename NetT>
void no_reuse_without_timestamps(NetT& net) {
    auto listener = net.server.engine.listen(kPort, 0);
    const auto server_address = net.server.layer->address().address;
    transact(net, *listener, "request", "response");
    const std::chrono::nanoseconds entered = net.scheduler.now();
    const auto retry_at = refused_until(net.client.engine, server_address);
    REQUIRE(retry_at);
    CHECK(*retry_at >= entered + 59s);  // msl 30 s: TIME-WAIT ends at 60 s
    net.scheduler.advance(2s);          // past the reuse delay: still refused
    CHECK(refused_until(net.client.engine, server_address) == retry_at);
    CHECK(counter(net.client.engine, "time_wait_reused_active") == 0);
    net.scheduler.advance_to(*retry_at);
    auto client = net.client.engine.connect({server_address, kPort});
    CHECK(client->local().port == kClientPort);
    CHECK(counter(net.client.engine, "time_wait_reused_active") == 0);  // it had expired
    std::unique_ptr<TcpConnection> server;
    REQUIRE(net.run_until([&] {
        if (!server) server = listener->accept();
        return server && client->state() == TcpState::established;
    }));
}

}  // namespace netloom::testing::time_wait_reuse
