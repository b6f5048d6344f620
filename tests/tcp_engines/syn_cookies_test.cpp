// SYN cookies (RFC 4987), on both engines: a full half-open set answers with cookies and those
// connections carry data both ways; `syn_cookies: always` answers every SYN with a cookie and
// keeps no state until the ACK returns it. max_connections against cookie handshakes is in
// listener_bounds_test.cpp.
#include <catch2/catch.hpp>
#include <vector>

#include "tcp_engine_harness.hpp"

using namespace netloom;
using namespace netloom::testing;

TEMPLATE_TEST_CASE("a full half-open set answers with SYN cookies, those connections work",
                   "[tcp_engines][syn_cookies]", TCP_ENGINES) {
    Net net(TestType::name, "cookies", "{syn_backlog: 1}");
    auto listener = net.server.engine.listen(80, 0);
    std::vector<std::unique_ptr<TcpConnection>> clients, servers;
    for (int i = 0; i < 4; ++i) clients.push_back(net.client.engine.connect({kServer, 80}));
    REQUIRE(net.run_until([&] {
        while (auto c = listener->accept()) servers.push_back(std::move(c));
        return servers.size() == clients.size();
    }));
    CHECK(counter_of(net.server.engine, "syn_cookies_sent") >= 1);
    CHECK(counter_of(net.server.engine, "syn_cookies_accepted") ==
          counter_of(net.server.engine, "syn_cookies_sent"));
    // Data both ways on every connection, cookie ones included.
    for (std::size_t i = 0; i < clients.size(); ++i) {
        // accept() order need not match connect() order: pair by 4-tuple.
        TcpConnection* peer = nullptr;
        for (auto& s : servers)
            if (s->remote() == clients[i]->local()) peer = s.get();
        REQUIRE(peer != nullptr);
        exchange(net, *clients[i], *peer, generated(100000, 10 + static_cast<std::uint32_t>(i)),
                 generated(50000, 20 + static_cast<std::uint32_t>(i)));
    }
}

TEMPLATE_TEST_CASE("syn_cookies: always answers every SYN with a cookie, keeping no state",
                   "[tcp_engines][syn_cookies]", TCP_ENGINES) {
    // Linux's tcp_syncookies=2 (RFC 4987 3.6): the first SYN already gets a cookie, far below
    // syn_backlog, and the connection exists only once the ACK returns it.
    Net net(TestType::name, "cookies-always", "{syn_cookies: always}");
    Established e(net, 80);
    CHECK(counter_of(net.server.engine, "syn_cookies_sent") == 1);
    CHECK(counter_of(net.server.engine, "syn_cookies_accepted") == 1);
    CHECK_FALSE(e.server->info().sack_enabled);  // a cookie carries the MSS only
    exchange(net, *e.client, *e.server, generated(20000, 3), generated(10000, 4));
}
