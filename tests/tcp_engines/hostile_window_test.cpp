// A peer that holds its window at zero for minutes, on both engines, under the manual clock
// (the TAP test tests/integration/test_tcp_hostile_window.py holds it for a few seconds only):
// the sender keeps probing (RFC 9293 3.8.6.1: the persist timer, one byte of new data per
// probe), backs off exponentially up to rto_max (RFC 1122 4.2.2.17) without ever giving up
// while the peer answers, and everything arrives once the receiver reads again.
#include <catch2/catch.hpp>

#include "tcp_segment_peer.hpp"

using namespace netloom;
using namespace netloom::testing;

TEMPLATE_TEST_CASE(
    "a zero window held for ten minutes: probes keep coming, backed off, and the "
    "connection survives (RFC 9293 3.8.6.1, RFC 1122 4.2.2.17)",
    "[tcp_engines][persist][hostile]", TCP_ENGINES) {
    Net net(TestType::name, "zw-minutes", "{rcvbuf: 4KiB}", "{rto_max: 30s}");
    Established e(net, 7301);
    const Bytes data = generated(32 * 1024, 21);
    Pump sender{*e.client, data};
    Pump receiver{*e.server, Bytes{}};
    receiver.reading = false;
    REQUIRE(net.run_until([&] {
        sender.step();
        const TcpInfo info = e.client->info();
        return info.snd_wnd == 0 && info.bytes_in_flight == 0;
    }));

    struct Probe {
        Time at;
        std::size_t size;
    };
    std::vector<Probe> probes;
    net.client.filter->drop = [&](std::span<const std::uint8_t> frame) {
        if (auto s = parse_frame(frame); s && !s->payload.empty())
            probes.push_back({net.scheduler.now(), s->payload.size()});
        return false;
    };
    // Ten minutes with nothing read: the connection must stay up the whole time (the sender
    // has shut down its side: its FIN waits behind the data, in FIN-WAIT-1).
    CHECK_FALSE(net.run_until(
        [&] {
            sender.step();
            return e.client->state() == TcpState::closed;
        },
        600s));
    net.client.filter->drop = [](std::span<const std::uint8_t>) { return false; };
    CHECK(e.client->error() == TcpError::none);

    // Probes every backed-off interval: 0.2 s, 0.4 s, ... up to 30 s, then every 30 s.
    REQUIRE(probes.size() >= 15);
    CHECK(probes.size() <= 40);
    for (const Probe& p : probes) CHECK(p.size == 1);
    std::vector<Time> gaps;
    for (std::size_t i = 1; i < probes.size(); ++i) gaps.push_back(probes[i].at - probes[i - 1].at);
    for (std::size_t i = 1; i < gaps.size(); ++i) {
        INFO("gap " << i << ": " << gaps[i - 1].count() << " ns, then " << gaps[i].count());
        CHECK(gaps[i] >= gaps[i - 1] - 2ms);  // never shorter (the clock steps by 1 ms)
    }
    CHECK(gaps.back() >= 15s);                                    // backed off to (about) rto_max
    CHECK(gaps.back() <= 31s);                                    // and capped there
    CHECK(600s - (probes.back().at - probes.front().at) <= 60s);  // probing to the end

    receiver.reading = true;
    REQUIRE(pump_until_eof(net, sender, receiver, 120s));
    CHECK(receiver.received == data);
}
