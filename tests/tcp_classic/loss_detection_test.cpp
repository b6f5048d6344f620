// tcp_classic loss detection and ICMP: RACK-style recovery (RFC 8985: the reordering window, a
// lost retransmission probed instead of waiting for the RTO), PMTU discovery (RFC 1191), soft
// errors (RFC 1122 4.2.3.9) and the 3 s RTO after a SYN timeout (RFC 6298 5.7). Frames are lost
// on purpose through the harness's FilterDevice; time is virtual.
#include <catch2/catch.hpp>

#include "harness.hpp"

using namespace netloom;
using namespace netloom::classic::test;

namespace {

struct Pair {
    std::unique_ptr<TcpListener> listener;
    std::unique_ptr<TcpConnection> client, server;
    Pair(Net& net, std::uint16_t port) {
        listener = net.server.engine.listen(port, 0);
        client = net.client.engine.connect({kServer, port});
        REQUIRE(net.run_until([&] {
            if (!server) server = listener->accept();
            return server && client->state() == TcpState::established;
        }));
    }
    /// Sends `data` from the client; true when the server read all of it within `limit`.
    bool deliver(Net& net, const Bytes& data, Bytes& received, Time limit) {
        std::size_t sent = 0;
        return net.run_until(
            [&] {
                while (sent < data.size()) {
                    const std::size_t n = client->send(std::span(data).subspan(sent));
                    if (n == 0) break;
                    sent += n;
                }
                std::uint8_t buffer[16384];
                while (std::size_t n = server->recv(buffer))
                    received.insert(received.end(), buffer, buffer + n);
                return received.size() == data.size();
            },
            limit);
    }
};

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

TEST_CASE(
    "RACK: a lost segment too early for three duplicates is resent after the reordering "
    "window, not after a probe and the RTO",
    "[tcp_classic][rack]") {
    Net net("classic-rack-window");
    Pair p(net, 7101);
    // Two segments; the first is lost once. One SACK comes back: no third duplicate, nothing
    // left to send for limited transmit.
    bool dropped = false;
    net.client.filter->drop = [&](std::span<const std::uint8_t> frame) {
        const FrameTcp t = parse_frame(frame);
        if (dropped || !t.is_tcp || t.payload == 0) return false;
        return dropped = true;
    };
    const Bytes data = generated(2 * p.client->info().mss, 1);
    Bytes received;
    const Time start = net.scheduler.now();
    REQUIRE(p.deliver(net, data, received, 2s));
    CHECK(dropped);
    CHECK(received == data);
    // The reordering window is 1 ms here (sub-millisecond RTT); a tail loss probe would come
    // after 10 ms at the earliest and the RTO after 200 ms.
    CHECK(net.scheduler.now() - start < 10ms);
    CHECK(p.client->info().rto_count == 0);
    CHECK(counter_of(net.client.engine, "sack_recoveries") == 1);
}

TEST_CASE("RACK: a lost retransmission with nothing sent after it is probed, not left to the RTO",
          "[tcp_classic][rack]") {
    Net net("classic-rack-lost-rexmit");
    Pair p(net, 7102);
    // Ten segments (the initial window, so nothing new follows the recovery); the first one
    // and its first retransmission are lost.
    std::optional<std::uint32_t> first_seq;
    int drops = 0;
    net.client.filter->drop = [&](std::span<const std::uint8_t> frame) {
        const FrameTcp t = parse_frame(frame);
        if (!t.is_tcp || t.payload == 0) return false;
        if (!first_seq) first_seq = t.seq;
        if (t.seq != *first_seq || drops == 2) return false;
        ++drops;
        return true;
    };
    const Bytes data = generated(10 * p.client->info().mss, 2);
    Bytes received;
    const Time start = net.scheduler.now();
    REQUIRE(p.deliver(net, data, received, 5s));
    CHECK(drops == 2);
    CHECK(received == data);
    CHECK(p.client->info().rto_count == 0);
    CHECK(net.scheduler.now() - start < 200ms);  // the minimum RTO
}

TEST_CASE(
    "PMTU discovery: fragmentation-needed lowers the MSS and what no longer fits is resent "
    "(RFC 1191)",
    "[tcp_classic][icmp]") {
    Net net("classic-pmtu");
    Pair p(net, 7103);
    const std::uint32_t mss_before = p.client->info().mss;
    // A 1000-byte link on the path: bigger datagrams are lost, the first one reported.
    std::optional<std::uint32_t> quoted;
    bool saw_df = false;
    net.client.filter->drop = [&](std::span<const std::uint8_t> frame) {
        const FrameTcp t = parse_frame(frame);
        if (t.is_tcp && t.payload > 0) saw_df = (frame[20] & 0x40) != 0;
        if (!t.is_tcp || t.ip_length <= 1000) return false;
        if (!quoted) quoted = t.seq;
        return true;
    };
    const Bytes data = generated(64 * 1024, 3);
    std::size_t sent = 0;
    Bytes received;
    bool reported = false;
    REQUIRE(net.run_until(
        [&] {
            if (quoted && !reported) {
                // Stale (not in flight) and bogus (MTU < 68) reports change nothing.
                net.client.engine.ip_error(report_for(*p.client, 3, 4, *quoted - 100000));
                auto bogus = report_for(*p.client, 3, 4, *quoted);
                bogus.next_hop_mtu = 40;
                net.client.engine.ip_error(bogus);
                CHECK(p.client->info().mss == mss_before);
                auto real = report_for(*p.client, 3, 4, *quoted);
                real.next_hop_mtu = 1000;
                net.client.engine.ip_error(real);
                reported = true;
            }
            while (sent < data.size()) {
                const std::size_t n = p.client->send(std::span(data).subspan(sent));
                if (n == 0) break;
                sent += n;
            }
            std::uint8_t buffer[16384];
            while (std::size_t n = p.server->recv(buffer))
                received.insert(received.end(), buffer, buffer + n);
            return received.size() == data.size();
        },
        10s));
    CHECK(received == data);
    CHECK(saw_df);                                  // RFC 1191: DF on every segment
    CHECK(p.client->info().mss <= 1000 - 40 - 12);  // headers, then the timestamp option
    CHECK(p.client->state() == TcpState::established);
}

TEST_CASE("a soft ICMP error is reported when the connection then times out (RFC 1122 4.2.3.9)",
          "[tcp_classic][icmp]") {
    Net net("classic-soft-error", "{}", "{max_retransmits: 3, rto_max: 1s}");
    Pair p(net, 7104);
    std::optional<std::uint32_t> quoted;
    net.client.filter->drop = [&](std::span<const std::uint8_t> frame) {
        const FrameTcp t = parse_frame(frame);
        if (t.is_tcp && t.payload > 0 && !quoted) quoted = t.seq;
        return true;  // the path is gone
    };
    const Bytes data = generated(1000, 4);
    REQUIRE(p.client->send(data) == data.size());
    bool reported = false;
    REQUIRE(net.run_until(
        [&] {
            if (quoted && !reported) {
                // Host unreachable (code 1) on an established connection: soft (RFC 5461).
                net.client.engine.ip_error(report_for(*p.client, 3, 1, *quoted));
                reported = true;
                CHECK(p.client->state() == TcpState::established);
            }
            return p.client->state() == TcpState::closed;
        },
        60s));
    CHECK(p.client->error() == TcpError::unreachable);
}

TEST_CASE("RFC 6298 5.7: after a SYN timeout without an RTT sample the RTO restarts from 3 s",
          "[tcp_classic][rto]") {
    // Without timestamps the retransmitted SYN's ACK cannot be timed (Karn).
    Net net("classic-rto-57", "{}", "{timestamps: false}");
    bool dropped = false;
    net.client.filter->drop = [&](std::span<const std::uint8_t> frame) {
        const FrameTcp t = parse_frame(frame);
        if (dropped || !t.is_tcp || !(t.flags & wire::tcp_flag::syn)) return false;
        return dropped = true;
    };
    auto listener = net.server.engine.listen(7105, 0);
    auto client = net.client.engine.connect({kServer, 7105});
    REQUIRE(net.run_until([&] { return client->state() == TcpState::established; }, 10s));
    CHECK(dropped);
    CHECK(client->info().rto_count == 1);
    CHECK(client->info().rto_us == 3'000'000);
}

TEST_CASE("SACK recovery takes ssthresh from FlightSize, not from pipe (RFC 6675 4.2)",
          "[tcp_classic][rack]") {
    Net net("classic-sack-ssthresh", "{}", "{cc: newreno}");
    Pair p(net, 7106);
    // Ten segments in flight, the first lost once: three SACKs start recovery while pipe
    // (flight minus SACKed minus lost) is six segments.
    bool dropped = false;
    net.client.filter->drop = [&](std::span<const std::uint8_t> frame) {
        const FrameTcp t = parse_frame(frame);
        if (dropped || !t.is_tcp || t.payload == 0) return false;
        return dropped = true;
    };
    const std::uint32_t mss = p.client->info().mss;
    const Bytes data = generated(10 * mss, 6);
    Bytes received;
    REQUIRE(p.deliver(net, data, received, 2s));
    CHECK(received == data);
    CHECK(counter_of(net.client.engine, "sack_recoveries") == 1);
    // RFC 5681 (4): max(FlightSize / 2, 2 SMSS), FlightSize = 10 segments.
    CHECK(p.client->info().ssthresh == 5 * mss);
}
