// Zero windows, on both engines: a receiver that stops reading closes the window, the sender
// probes it with one byte of new data (RFC 9293 3.8.6.1) and everything arrives once the
// receiver reads; the persist timer gives up on a peer that stops answering, and an orphan
// (closed by its user) gives up even while the peer answers with a zero window.
#include <catch2/catch.hpp>

#include "tcp_segment_peer.hpp"

using namespace netloom;
using namespace netloom::testing;

namespace {

/// The peer's window is zero and nothing is in flight: only the persist timer sends now.
bool stalled_on_zero_window(const TcpConnection& sender) {
    const TcpInfo info = sender.info();
    return info.snd_wnd == 0 && info.bytes_in_flight == 0;
}

/// client -> server connection whose server never reads: the client ends with a zero window,
/// nothing in flight and data still queued (so the persist timer runs).
struct ZeroWindow {
    Established e;
    Bytes data;
    ZeroWindow(Net& net, std::uint16_t port, std::size_t size = 64 * 1024)
        : e(net, port), data(generated(size, 11)) {
        REQUIRE(e.client->send(data) > 0);
        REQUIRE(net.run_until([&] { return stalled_on_zero_window(*e.client); }));
    }
};

}  // namespace

TEMPLATE_TEST_CASE("a receiver that stops reading: zero window, persist, then everything arrives",
                   "[tcp_engines][persist]", TCP_ENGINES) {
    Net net(TestType::name, "zero-window", "{rcvbuf: 4KiB}");
    Established e(net, 7002);
    const Bytes data = generated(64 * 1024, 9);
    Pump sender{*e.client, data};
    Pump receiver{*e.server, Bytes{}};
    receiver.reading = false;
    net.run_until(
        [&] {
            sender.step();
            return false;
        },
        5s);
    CHECK(e.server->readable_bytes() == 4096);  // the window closed at the buffer size
    CHECK(e.client->info().snd_wnd == 0);
    CHECK(e.client->info().bytes_acked == 4096);
    receiver.reading = true;
    REQUIRE(pump_until_eof(net, sender, receiver));
    CHECK(receiver.received == data);
}

TEMPLATE_TEST_CASE("a zero window is probed with one byte of new data (RFC 9293 3.8.6.1)",
                   "[tcp_engines][persist]", TCP_ENGINES) {
    Net net(TestType::name, "zwp", "{rcvbuf: 4KiB}");
    Established p(net, 7207);
    const Bytes data = generated(16 * 1024, 9);
    Pump sender{*p.client, data};
    REQUIRE(net.run_until([&] {
        sender.step();
        return stalled_on_zero_window(*p.client);
    }));
    CHECK(p.client->info().bytes_acked == 4096);  // the window closed at the buffer size
    const auto probes = record(net.client);
    REQUIRE(net.run_until([&] { return !probes->empty(); }, 5s));
    CHECK((*probes)[0].payload.size() == 1);
    // The byte is sent again with the rest once the receiver reads.
    Pump receiver{*p.server, Bytes{}};
    REQUIRE(pump_until_eof(net, sender, receiver));
    CHECK(receiver.received == data);
}

TEMPLATE_TEST_CASE("the persist timer gives up when the peer stops answering probes",
                   "[tcp_engines][persist]", TCP_ENGINES) {
    Net net(TestType::name, "persist-silent", "{rcvbuf: 4KiB}",
            "{max_retransmits: 3, rto_max: 2s}");
    ZeroWindow z(net, 7131);
    std::optional<RawPeer> deaf;
    deaf.emplace(net, net.server, kClient, 0);  // takes the server engine's place
    const bool gave_up =
        net.run_until([&] { return z.e.client->state() == TcpState::closed; }, 120s);
    deaf.reset();
    REQUIRE(gave_up);
    CHECK(z.e.client->error() == TcpError::timed_out);
    // A timeout is not a reset (tcp_utcp counts every connection ended by an error).
    CHECK(counter_of(net.client.engine, "connections_reset") == 0);
}

TEMPLATE_TEST_CASE("an orphan gives up zero-window probing even while the peer answers",
                   "[tcp_engines][persist]", TCP_ENGINES) {
    SECTION("the client closes after a minute of probing") {
        Net net(TestType::name, "persist-orphan", "{rcvbuf: 4KiB}", "{rto_max: 1s}");
        ZeroWindow z(net, 7132);
        // The peer keeps answering with a zero window: a connection with a reader would wait.
        REQUIRE_FALSE(
            net.run_until([&] { return z.e.client->state() != TcpState::established; }, 60s));
        z.e.client->close();
        REQUIRE(net.run_until([&] { return z.e.client->state() == TcpState::closed; }, 120s));
        CHECK(z.e.client->error() == TcpError::timed_out);
        CHECK(z.e.server->state() == TcpState::established);  // its peer just went away
    }
    SECTION("the server's handle is destroyed with data queued behind the zero window") {
        Net net(TestType::name, "orphan-zero-window", "{}", "{rcvbuf: 1KiB}");
        Established e(net, 87);
        const Bytes data = generated(200000, 8);
        REQUIRE(e.server->send(data) > 0);
        net.run_for(2s);   // the client reads nothing: its window closes
        e.server.reset();  // orphan: FIN queued behind unsent data
        REQUIRE(counter_of(net.server.engine, "connections_current") == 1);
        REQUIRE(net.run_until(
            [&] { return counter_of(net.server.engine, "connections_current") == 0; }, 3600s));
        CHECK(counter_of(net.server.engine, "memory_bytes_current") <
              1024 + 64 * sizeof(void*));  // only the table's buckets remain
    }
}
