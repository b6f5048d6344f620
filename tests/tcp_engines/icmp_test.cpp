// ICMP errors and path MTU, on both engines: DF on every segment and PMTU discovery
// (RFC 1191: fragmentation-needed lowers the MSS, stale and bogus reports change nothing),
// soft errors reported when the connection then times out and hard errors refusing a
// connection in SYN-SENT (RFC 1122 4.2.3.9). Reports reach the engine as its IP layer hands
// them over: Transport::ip_error.
#include <catch2/catch.hpp>
#include <optional>

#include "tcp_segment_peer.hpp"

using namespace netloom;
using namespace netloom::testing;

namespace {

IcmpErrorReport report_for(const TcpConnection& client, std::uint8_t type, std::uint8_t code,
                           std::uint32_t quoted_seq) {
    IcmpErrorReport r;
    r.type = type;
    r.code = code;
    r.reporter = kServer;
    r.source = client.local().address;
    r.destination = client.remote().address;
    r.protocol = IpProtocol::tcp;
    r.source_port = client.local().port;
    r.destination_port = client.remote().port;
    r.quoted_word = quoted_seq;
    return r;
}

}  // namespace

TEMPLATE_TEST_CASE("every segment either end sends carries DF (RFC 1191)", "[tcp_engines][icmp]",
                   TCP_ENGINES) {
    Net net(TestType::name, "df");
    std::size_t segments = 0, without_df = 0;
    const auto look = [&](std::span<const std::uint8_t> frame) {
        if (const auto s = parse_frame(frame)) {
            ++segments;
            if (!s->dont_fragment) ++without_df;
        }
        return false;  // nothing dropped
    };
    net.client.filter->drop = look;
    net.server.filter->drop = look;
    Established e(net, 7401);
    const Bytes data = generated(64 * 1024, 4);
    Pump up{*e.client, data};
    Pump down{*e.server, Bytes{}};
    REQUIRE(pump_until_eof(net, up, down));
    e.server->close();
    REQUIRE(net.run_until([&] { return e.client->eof(); }));
    e.client->close();
    // A RST too: a SYN to a closed port.
    auto refused = net.client.engine.connect({kServer, 7402});
    REQUIRE(net.run_until([&] { return refused->state() == TcpState::closed; }));
    CHECK(counter_of(net.server.engine, "rst_sent") >= 1);
    CHECK(segments > 50);
    CHECK(without_df == 0);
}

TEMPLATE_TEST_CASE(
    "PMTU discovery: fragmentation-needed lowers the MSS and what no longer fits is resent "
    "(RFC 1191)",
    "[tcp_engines][icmp]", TCP_ENGINES) {
    Net net(TestType::name, "pmtu");
    Established p(net, 7103);
    const std::uint32_t mss_before = p.client->info().mss;
    // A 1000-byte link on the path: bigger datagrams are lost, the first one reported.
    std::optional<std::uint32_t> quoted;
    bool saw_df = false;
    net.client.filter->drop = [&](std::span<const std::uint8_t> frame) {
        const auto s = parse_frame(frame);
        if (s && !s->payload.empty()) saw_df = s->dont_fragment;
        if (!s || s->ip_length <= 1000) return false;
        if (!quoted) quoted = s->seq;
        return true;
    };
    const Bytes data = generated(64 * 1024, 3);
    Bytes received;
    bool reported = false;
    Transport& client_engine = net.client.transport();
    REQUIRE(deliver(net, p, data, received, 10s, [&] {
        if (!quoted || reported) return;
        // Stale (not in flight) and bogus (MTU < 68) reports change nothing.
        client_engine.ip_error(report_for(*p.client, 3, 4, *quoted - 100000));
        auto bogus = report_for(*p.client, 3, 4, *quoted);
        bogus.next_hop_mtu = 40;
        client_engine.ip_error(bogus);
        CHECK(p.client->info().mss == mss_before);
        auto real = report_for(*p.client, 3, 4, *quoted);
        real.next_hop_mtu = 1000;
        client_engine.ip_error(real);
        reported = true;
    }));
    CHECK(received == data);
    CHECK(saw_df);                                  // RFC 1191: DF on every segment
    CHECK(p.client->info().mss <= 1000 - 40 - 12);  // headers, then the timestamp option
    CHECK(p.client->state() == TcpState::established);
}

TEMPLATE_TEST_CASE(
    "a soft ICMP error is reported when the connection then times out (RFC 1122 4.2.3.9)",
    "[tcp_engines][icmp]", TCP_ENGINES) {
    Net net(TestType::name, "soft-error", "{}", "{max_retransmits: 3, rto_max: 1s}");
    Established p(net, 7104);
    std::optional<std::uint32_t> quoted;
    net.client.filter->drop = [&](std::span<const std::uint8_t> frame) {
        const auto s = parse_frame(frame);
        if (s && !s->payload.empty() && !quoted) quoted = s->seq;
        return true;  // the path is gone
    };
    const Bytes data = generated(1000, 4);
    REQUIRE(p.client->send(data) == data.size());
    bool reported = false;
    REQUIRE(net.run_until(
        [&] {
            if (quoted && !reported) {
                // Host unreachable (code 1) on an established connection: soft (RFC 5461).
                net.client.transport().ip_error(report_for(*p.client, 3, 1, *quoted));
                reported = true;
                CHECK(p.client->state() == TcpState::established);
            }
            return p.client->state() == TcpState::closed;
        },
        60s));
    CHECK(p.client->error() == TcpError::unreachable);
}

TEMPLATE_TEST_CASE(
    "ICMP port or protocol unreachable in SYN-SENT refuses the connection like a RST",
    "[tcp_engines][icmp]", TCP_ENGINES) {
    // icmp-port-unreachable-syn-sent-refused.pkt (RFC 1122 4.2.3.9: codes 2-4 are hard errors;
    // Linux reports ECONNREFUSED for port unreachable); icmp-host-unreachable-syn-sent-soft.pkt:
    // host unreachable (code 1) is soft, the connection keeps trying (nullopt: still open).
    const auto [code, expected] = GENERATE(table<std::uint8_t, std::optional<TcpError>>(
        {{2, TcpError::refused}, {3, TcpError::refused}, {1, std::nullopt}}));
    Net net(TestType::name, "icmp-refused");
    RawPeer peer(net, net.server, kClient, 0);  // swallows the SYN
    auto connection = net.client.engine.connect({kServer, 7305});
    REQUIRE(peer.wait_for(0));
    REQUIRE(peer.segments[0].repr.flags == wire::tcp_flag::syn);
    IcmpErrorReport report = report_for(*connection, 3, code, 0);
    report.destination = kServer;
    report.destination_port = 7305;
    report.quoted_word = peer.segments[0].repr.sequence_number;  // the ISN, in flight
    net.client.transport().ip_error(report);
    net.scheduler.run_until_idle();
    if (expected) {
        CHECK(connection->state() == TcpState::closed);
        CHECK(connection->error() == *expected);
    } else {
        CHECK(connection->state() == TcpState::syn_sent);
        CHECK(connection->error() == TcpError::none);
    }
}
