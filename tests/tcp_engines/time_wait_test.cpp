// TIME-WAIT, on both engines: max_time_wait bounds it (past it a connection closes at once), a
// SYN reuses a TIME-WAIT 4-tuple only when provably new (RFC 6191) and a retransmitted FIN
// restarts 2 MSL, and connect() takes over a TIME-WAIT 4-tuple only after
// time_wait_reuse_delay and with timestamps, old duplicates then failing PAWS
// (tcp_common/ephemeral_ports.hpp); without timestamps the port waits out 2 MSL.
#include <catch2/catch.hpp>
#include <optional>
#include <string>
#include <vector>

#include "tcp_segment_peer.hpp"

using namespace netloom;
using namespace netloom::testing;

namespace {

/// The server closes first and ends in TIME-WAIT; the client is CLOSED.
struct ServerInTimeWait {
    std::unique_ptr<TcpListener> listener;
    std::unique_ptr<TcpConnection> client, server;
    std::uint16_t client_port = 0;
    ServerInTimeWait(Net& net, std::uint16_t port) {
        listener = net.server.engine.listen(port, 0);
        client = net.client.engine.connect({kServer, port});
        REQUIRE(net.run_until([&] {
            if (!server) server = listener->accept();
            return server && client->state() == TcpState::established;
        }));
        client_port = client->local().port;
        server->close();
        REQUIRE(net.run_until([&] { return client->eof(); }));
        client->close();
        REQUIRE(net.run_until([&] {
            return client->state() == TcpState::closed && server->state() != TcpState::fin_wait_2 &&
                   server->state() != TcpState::fin_wait_1;
        }));
    }
};

// connect() reuse: the client's ephemeral range is one port, so every second connection must
// take over the first one's TIME-WAIT or wait for it.
constexpr std::uint16_t kPort = 7000;
constexpr std::uint16_t kClientPort = 40000;
const char* const kClientYaml = "{ephemeral_ports: 40000-40000}";
const char* const kClientYamlNoTs = "{ephemeral_ports: 40000-40000, timestamps: false}";

Bytes bytes_of(const std::string& text) {
    return {text.begin(), text.end()};
}

/// One exchange on a fresh connection, the client closing first (it ends in TIME-WAIT).
void transact(Net& net, TcpListener& listener, const std::string& request,
              const std::string& response) {
    auto client = net.client.engine.connect({kServer, kPort});
    REQUIRE(client->local().port == kClientPort);
    std::unique_ptr<TcpConnection> server;
    REQUIRE(net.run_until([&] {
        if (!server) server = listener.accept();
        return server && client->state() == TcpState::established;
    }));
    REQUIRE(client->send(bytes_of(request)) == request.size());
    client->shutdown_write();
    Bytes got(request.size());
    REQUIRE(net.run_until([&] { return server->readable_bytes() == request.size(); }));
    REQUIRE(server->recv(got) == request.size());
    REQUIRE(server->send(bytes_of(response)) == response.size());
    server->close();
    REQUIRE(net.run_until([&] { return client->readable_bytes() == response.size(); }));
    Bytes answer(response.size());
    REQUIRE(client->recv(answer) == response.size());
    CHECK(answer == bytes_of(response));
    REQUIRE(net.run_until([&] {
        return client->state() == TcpState::time_wait && server->state() == TcpState::closed;
    }));
}

/// connect() with the one port in TIME-WAIT: the refusal and when to try again.
std::optional<std::chrono::nanoseconds> refused_until(TcpEngine& engine) {
    try {
        auto c = engine.connect({kServer, kPort});
        FAIL("connect() took port " << c->local().port << " while its TIME-WAIT was not reusable");
    } catch (const TcpNoFreePort& e) {
        CHECK(std::string(e.what()).find("no free ephemeral port") != std::string::npos);
        return e.retry_at();
    }
    return std::nullopt;
}

}  // namespace

TEMPLATE_TEST_CASE("max_time_wait bounds TIME-WAIT: past it a connection closes at once",
                   "[tcp_engines][time_wait]", TCP_ENGINES) {
    SECTION("room left: the server waits, counted in time_wait_current") {
        Net net(TestType::name, "tw-room", "{msl: 1s, max_time_wait: 1}");
        ServerInTimeWait tw(net, 7110);
        CHECK(tw.server->state() == TcpState::time_wait);
        CHECK(counter_of(net.server.engine, "time_wait_current") == 1);
        CHECK(counter_of(net.server.engine, "time_wait_overflows") == 0);
        REQUIRE(net.run_until([&] { return tw.server->state() == TcpState::closed; }, 3s));
        CHECK(counter_of(net.server.engine, "time_wait_current") == 0);
    }
    SECTION("no room: CLOSED without TIME-WAIT, counted as an overflow") {
        Net net(TestType::name, "tw-full", "{msl: 1s, max_time_wait: 0}");
        ServerInTimeWait tw(net, 7111);
        CHECK(tw.server->state() == TcpState::closed);
        CHECK(tw.server->error() == TcpError::none);
        CHECK(counter_of(net.server.engine, "time_wait_current") == 0);
        CHECK(counter_of(net.server.engine, "time_wait_overflows") == 1);
        CHECK(counter_of(net.server.engine, "connections_current") == 0);
    }
    SECTION("five clients closing first with room for three: the last two skip TIME-WAIT") {
        Net net(TestType::name, "tw-five", "{}", "{max_time_wait: 3}");
        auto listener = net.server.engine.listen(92, 0);
        for (int i = 0; i < 5; ++i) {
            auto client = net.client.engine.connect({kServer, 92});
            std::unique_ptr<TcpConnection> server;
            REQUIRE(net.run_until([&] {
                if (!server) server = listener->accept();
                return server && client->state() == TcpState::established;
            }));
            client->close();  // the client closes first: it is the one that waits (RFC 9293 3.6)
            REQUIRE(net.run_until([&] { return server->state() == TcpState::close_wait; }));
            server->close();
            REQUIRE(net.run_until([&] { return server->state() == TcpState::closed; }));
            CHECK((client->state() == TcpState::time_wait) == (i < 3));
        }
        CHECK(counter_of(net.client.engine, "time_wait_current") == 3);
        CHECK(counter_of(net.client.engine, "time_wait_overflows") == 2);
    }
}

TEMPLATE_TEST_CASE(
    "TIME-WAIT: only a newer SYN reuses the 4-tuple (RFC 6191) and a FIN restarts 2 MSL",
    "[tcp_engines][time_wait]", TCP_ENGINES) {
    Net net(TestType::name, "tw-syn", "{msl: 1s, timestamps: false}", "{timestamps: false}");
    ServerInTimeWait tw(net, 7112);
    REQUIRE(tw.server->state() == TcpState::time_wait);
    RawPeer peer(net, net.client, kServer, 7112, tw.client_port);
    auto& seen = peer.segments;

    // An ACK acknowledging nothing we sent is answered with an ACK (RFC 5961 5.2), which tells
    // us the TIME-WAIT connection's RCV.NXT and SND.NXT.
    inject(net.client, kServer, segment_to(tw.client_port, 7112, wire::tcp_flag::ack, 12345, 0));
    net.scheduler.run_until_idle();
    REQUIRE(seen.size() == 1);
    const std::uint32_t rcv_nxt = seen.back().repr.acknowledgment_number;
    const std::uint32_t snd_nxt = seen.back().repr.sequence_number;

    // SYNs at or before RCV.NXT are not provably new: answered by the old connection.
    for (const std::uint32_t seq : {rcv_nxt - 1000, rcv_nxt}) {
        inject(net.client, kServer, segment_to(tw.client_port, 7112, wire::tcp_flag::syn, seq));
        net.scheduler.run_until_idle();
        CHECK(seen.back().repr.flags == wire::tcp_flag::ack);
    }
    CHECK(counter_of(net.server.engine, "time_wait_reused") == 0);
    CHECK(tw.server->state() == TcpState::time_wait);

    SECTION("a retransmitted FIN is ACKed and restarts the 2 MSL timeout") {
        net.scheduler.advance(1500ms);
        net.scheduler.run_until_idle();
        REQUIRE(tw.server->state() == TcpState::time_wait);
        const std::size_t before = seen.size();
        inject(net.client, kServer,
               segment_to(tw.client_port, 7112, wire::tcp_flag::fin | wire::tcp_flag::ack,
                          rcv_nxt - 1, snd_nxt));
        CHECK(peer.expect_next(before).acknowledgment_number == rcv_nxt);
        // 2 MSL after the first FIN has passed; 2 MSL after the retransmission has not.
        net.scheduler.advance(1000ms);
        net.scheduler.run_until_idle();
        CHECK(tw.server->state() == TcpState::time_wait);
        net.scheduler.advance(1100ms);
        net.scheduler.run_until_idle();
        CHECK(tw.server->state() == TcpState::closed);
    }
    SECTION("a SYN past RCV.NXT opens a new incarnation; the old one is CLOSED") {
        inject(net.client, kServer,
               segment_to(tw.client_port, 7112, wire::tcp_flag::syn, rcv_nxt + 100000));
        net.scheduler.run_until_idle();
        CHECK(counter_of(net.server.engine, "time_wait_reused") == 1);
        CHECK(tw.server->state() == TcpState::closed);
        CHECK(counter_of(net.server.engine, "time_wait_current") == 0);
        REQUIRE_FALSE(seen.empty());
        const wire::TcpRepr& syn_ack = seen.back().repr;
        CHECK(syn_ack.flags == (wire::tcp_flag::syn | wire::tcp_flag::ack));
        CHECK(syn_ack.acknowledgment_number == rcv_nxt + 100001);
    }
}

TEMPLATE_TEST_CASE("connect reuses a TIME-WAIT 4-tuple after 1 s, old duplicates fail PAWS",
                   "[tcp_engines][time_wait]", TCP_ENGINES) {
    // With timestamps: refused within 1 s (retry_at = TIME-WAIT entry + 1 s), allowed at 1 s
    // with an ISS beyond the old SND.NXT; an old duplicate of the first incarnation whose
    // sequence number falls in the new window is rejected by PAWS and never reaches the
    // application.
    Net net(TestType::name, "tw-reuse", "{}", kClientYaml);
    auto listener = net.server.engine.listen(kPort, 0);
    const auto client_log = record(net.client);
    const auto server_log = record(net.server);
    std::vector<Seen>& client_sent = *client_log;
    std::vector<Seen>& server_sent = *server_log;

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
    const auto retry_at = refused_until(net.client.engine);
    REQUIRE(retry_at);
    CHECK(*retry_at > net.scheduler.now());
    CHECK(*retry_at <= entered + 1s);
    CHECK(counter_of(net.client.engine, "ephemeral_exhausted") == 1);
    net.scheduler.advance_to(*retry_at - 1ms);
    CHECK(refused_until(net.client.engine));
    net.scheduler.advance_to(*retry_at);

    // At the delay: the TIME-WAIT 4-tuple is taken over.
    const std::size_t client_before = client_sent.size();
    auto client = net.client.engine.connect({kServer, kPort});
    CHECK(client->local().port == kClientPort);
    CHECK(counter_of(net.client.engine, "time_wait_reused_active") == 1);
    REQUIRE(client_sent.size() > client_before);
    const Seen& syn = client_sent[client_before];
    REQUIRE(syn.has(wire::tcp_flag::syn));
    CHECK(static_cast<std::int32_t>(syn.seq - old_snd_nxt) > 0);  // ISS beyond old SND.NXT
    REQUIRE(syn.timestamps);
    std::unique_ptr<TcpConnection> server;
    REQUIRE(net.run_until([&] {
        if (!server) server = listener->accept();
        return server && client->state() == TcpState::established;
    }));
    REQUIRE(server->send(bytes_of("fresh")) == 5);
    REQUIRE(net.run_until([&] { return client->readable_bytes() == 5; }));
    Bytes fresh(5);
    REQUIRE(client->recv(fresh) == 5);
    const Seen& latest = server_sent.back();
    REQUIRE(latest.payload.size() == 5);
    REQUIRE(latest.timestamps);
    CHECK(static_cast<std::int32_t>(latest.timestamps->value - old_data.timestamps->value) > 0);

    // The old duplicate: the first incarnation's segment with its old TSval, its sequence
    // number wrapped (as an adversary or 4 GB of traffic could) onto the new RCV.NXT.
    const std::uint64_t paws_before = counter_of(net.client.engine, "rx_paws");
    wire::TcpRepr dup = segment_to(kPort, kClientPort, wire::tcp_flag::ack | wire::tcp_flag::psh,
                                   latest.seq + 5, latest.ack);
    dup.window = latest.window;
    dup.options.timestamps = old_data.timestamps;
    dup.payload = old_data.payload;
    inject(net.server, kClient, dup);
    net.scheduler.run_until_idle();
    net.scheduler.advance(100ms);
    CHECK(client->readable_bytes() == 0);
    CHECK(counter_of(net.client.engine, "rx_paws") == paws_before + 1);

    // The connection goes on with the real bytes at that sequence number.
    REQUIRE(server->send(bytes_of("after")) == 5);
    REQUIRE(net.run_until([&] { return client->readable_bytes() == 5; }));
    Bytes after(5);
    REQUIRE(client->recv(after) == 5);
    CHECK(after == bytes_of("after"));
}

TEMPLATE_TEST_CASE("without timestamps a TIME-WAIT 4-tuple waits out 2 MSL",
                   "[tcp_engines][time_wait]", TCP_ENGINES) {
    // Nothing tells old duplicates apart: the port waits out its 2 MSL.
    Net net(TestType::name, "tw-no-ts", "{}", kClientYamlNoTs);
    auto listener = net.server.engine.listen(kPort, 0);
    transact(net, *listener, "request", "response");
    const std::chrono::nanoseconds entered = net.scheduler.now();
    const auto retry_at = refused_until(net.client.engine);
    REQUIRE(retry_at);
    CHECK(*retry_at >= entered + 59s);  // msl 30 s: TIME-WAIT ends at 60 s
    net.scheduler.advance(2s);          // past the reuse delay: still refused
    CHECK(refused_until(net.client.engine) == retry_at);
    CHECK(counter_of(net.client.engine, "time_wait_reused_active") == 0);
    net.scheduler.advance_to(*retry_at);
    auto client = net.client.engine.connect({kServer, kPort});
    CHECK(client->local().port == kClientPort);
    CHECK(counter_of(net.client.engine, "time_wait_reused_active") == 0);  // it had expired
    std::unique_ptr<TcpConnection> server;
    REQUIRE(net.run_until([&] {
        if (!server) server = listener->accept();
        return server && client->state() == TcpState::established;
    }));
}
