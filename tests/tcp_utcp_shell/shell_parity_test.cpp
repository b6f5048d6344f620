// tcp_utcp's shell does what tcp_classic's engine does: DF on every segment (RFC 1191), ephemeral
// ports by RFC 6056 algorithm 3 within the configured range, one challenge-ACK budget for the
// engine (RFC 5961 7).
#include <catch2/catch.hpp>

#include <set>

#include "shell_fixture.hpp"
#include "tcp_raw_client.hpp"

using namespace netloom;
using namespace netloom::testing;

namespace {

/// IPv4 header fields of a frame carrying TCP (Ethernet + IPv4, as the stacks send it).
struct IpTcpFrame {
    bool is_tcp = false;
    bool dont_fragment = false;
};
IpTcpFrame parse_ip(std::span<const std::uint8_t> f) {
    IpTcpFrame t;
    if (f.size() < 14 + 20 || f[12] != 0x08 || f[13] != 0x00 || f[23] != 6) return t;
    t.is_tcp = true;
    t.dont_fragment = (f[14 + 6] & 0x40) != 0;
    return t;
}

utcp::Engine make_engine(Node& node, Scheduler& scheduler, std::uint16_t first,
                         std::uint16_t last) {
    utcp::EngineConfig config = utcp::read_engine_config(Config::load_string("{}", "t.yaml"));
    config.ephemeral_first = first;
    config.ephemeral_last = last;
    config.secret_seed = 42;  // reproducible ports
    return utcp::Engine(config, *node.layer, scheduler, node.env.logger("tcp2"));
}

}  // namespace

TEST_CASE("every segment either engine end sends carries DF (RFC 1191)", "[tcp_utcp][shell][df]") {
    Net net("utcp-parity-df");
    std::size_t segments = 0, without_df = 0;
    auto watch = [&](std::span<const std::uint8_t> frame) {
        const IpTcpFrame t = parse_ip(frame);
        if (!t.is_tcp) return;
        ++segments;
        if (!t.dont_fragment) ++without_df;
    };
    const auto look = [&](std::span<const std::uint8_t> frame) {
        watch(frame);
        return false;  // nothing dropped
    };
    net.client.filter->drop = look;
    net.server.filter->drop = look;
    auto listener = net.server.engine.listen(7401, 0);
    auto client = net.client.engine.connect({kServer, 7401});
    std::unique_ptr<TcpConnection> server;
    REQUIRE(net.run_until([&] {
        if (!server) server = listener->accept();
        return server && client->state() == TcpState::established;
    }));
    const Bytes data = generated(64 * 1024, 4);
    Pump up{*client, data};
    Pump down{*server, Bytes{}};
    REQUIRE(net.run_until([&] {
        up.step();
        down.step();
        return server->eof();
    }));
    server->close();
    REQUIRE(net.run_until([&] { return client->eof(); }));
    client->close();
    // A RST too: a SYN to a closed port.
    auto refused = net.client.engine.connect({kServer, 7402});
    REQUIRE(net.run_until([&] { return refused->state() == TcpState::closed; }));
    CHECK(counter_of(net.server.engine, "rst_sent") >= 1);
    CHECK(segments > 50);
    CHECK(without_df == 0);
}

TEST_CASE("ephemeral ports: within the configured range, never a 4-tuple in use (RFC 6056)",
          "[tcp_utcp][shell][ports]") {
    Net net("utcp-parity-ports");
    utcp::Engine engine = make_engine(net.client, net.scheduler, 50000, 50002);
    std::vector<std::unique_ptr<TcpConnection>> open;
    std::set<std::uint16_t> ports;
    for (int i = 0; i < 3; ++i) {
        open.push_back(engine.connect({kServer, 7410}));
        const std::uint16_t port = open.back()->local().port;
        CHECK(port >= 50000);
        CHECK(port <= 50002);
        ports.insert(port);
    }
    CHECK(ports.size() == 3);  // three connections to one destination: three ports
    CHECK_THROWS_AS(engine.connect({kServer, 7410}), std::runtime_error);  // the range is used up
    // Another destination may use the same ports (its 4-tuples differ).
    CHECK(engine.connect({kServer, 7411})->local().port >= 50000);
}

TEST_CASE("ephemeral ports: other destinations do not continue one sequence (RFC 6056 3.3.3)",
          "[tcp_utcp][shell][ports]") {
    Net net("utcp-parity-ports-hash");
    utcp::Engine engine = make_engine(net.client, net.scheduler, 49152, 65535);
    std::vector<std::unique_ptr<TcpConnection>> open;
    auto port_to = [&](std::uint16_t remote_port) -> std::uint32_t {
        open.push_back(engine.connect({kServer, remote_port}));
        return open.back()->local().port;
    };
    const std::uint32_t first = port_to(7420);
    const std::vector<std::uint32_t> others{port_to(7421), port_to(7422), port_to(7423)};
    const std::uint32_t again = port_to(7420);
    const std::uint32_t low = 49152, range = 65536 - low;
    auto after = [&](std::uint32_t port, std::uint32_t steps) {
        return low + (port - low + steps) % range;
    };
    CHECK(again == after(first, 4));  // one destination: the shared counter moved by 4
    // A sequential allocator would give first+1..first+3 (by chance: probability 2^-42).
    CHECK_FALSE((others[0] == after(first, 1) && others[1] == after(first, 2) &&
                 others[2] == after(first, 3)));
    for (auto port : others) CHECK((port >= low && port <= 65535));
}

TEST_CASE("challenge ACKs share one budget per engine, not per connection (RFC 5961 7)",
          "[tcp_utcp][shell][rfc5961]") {
    Net net("utcp-parity-challenge", "{challenge_ack_limit: 3}");
    auto listener = net.server.engine.listen(7430, 0);
    RawTcpClient peer(*net.client.layer);
    std::vector<std::unique_ptr<TcpConnection>> accepted;
    auto in_window_rsts = [&](std::uint16_t local_port, int count) {
        peer.open(kServer, 7430, local_port, false);
        net.scheduler.run_until_idle();
        accepted.push_back(listener->accept());
        REQUIRE(accepted.back());
        for (int i = 0; i < count; ++i) peer.send_control(wire::tcp_flag::rst, peer.snd_nxt + 100);
        net.scheduler.run_until_idle();
    };
    in_window_rsts(40101, 2);
    CHECK(peer.pure_acks() == 2);
    in_window_rsts(40102, 5);  // a second connection finds one challenge ACK left
    CHECK(peer.pure_acks() == 3);
    CHECK(counter_of(net.server.engine, "challenge_acks") == 3);
    net.scheduler.advance(1s);
    peer.send_control(wire::tcp_flag::rst, peer.snd_nxt + 100);
    net.scheduler.run_until_idle();
    CHECK(peer.pure_acks() == 4);  // a second later the budget is back
    CHECK(accepted[1]->state() == TcpState::established);
}
