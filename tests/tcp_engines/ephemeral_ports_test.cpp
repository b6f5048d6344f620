// Ephemeral ports (RFC 6056), on both engines: within the configured range (Linux's
// ip_local_port_range by default), never a 4-tuple in use, and by algorithm 3 (a keyed hash of
// the destination plus one counter), so other destinations do not continue one sequence.
// TIME-WAIT reuse by connect() is in time_wait_test.cpp.
#include <catch2/catch.hpp>
#include <set>
#include <vector>

#include "tcp_engine_harness.hpp"

using namespace netloom;
using namespace netloom::testing;

TEMPLATE_TEST_CASE(
    "ephemeral ports: within the configured range, never a 4-tuple in use (RFC 6056)",
    "[tcp_engines][ports]", TCP_ENGINES) {
    Net net(TestType::name, "ports", "{}", "{ephemeral_ports: 50000-50002}");
    std::vector<std::unique_ptr<TcpConnection>> open;
    std::set<std::uint16_t> ports;
    for (int i = 0; i < 3; ++i) {
        open.push_back(net.client.engine.connect({kServer, 7410}));
        const std::uint16_t port = open.back()->local().port;
        CHECK(port >= 50000);
        CHECK(port <= 50002);
        ports.insert(port);
    }
    CHECK(ports.size() == 3);  // three connections to one destination: three ports
    // The range is used up.
    CHECK_THROWS_AS(net.client.engine.connect({kServer, 7410}), std::runtime_error);
    // Another destination may use the same ports (its 4-tuples differ).
    CHECK(net.client.engine.connect({kServer, 7411})->local().port >= 50000);
}

TEMPLATE_TEST_CASE(
    "ephemeral ports: other destinations do not continue one sequence (RFC 6056 3.3.3)",
    "[tcp_engines][ports]", TCP_ENGINES) {
    // The default range is Linux's ip_local_port_range (tcp_common/engine_options.hpp).
    const auto [yaml, low, high] = GENERATE(table<const char*, std::uint32_t, std::uint32_t>(
        {{"{}", 32768, 60999}, {"{ephemeral_ports: 49152-65535}", 49152, 65535}}));
    CAPTURE(yaml);
    Net net(TestType::name, "ports-hash", "{}", yaml);
    std::vector<std::unique_ptr<TcpConnection>> open;
    auto port_to = [&](std::uint16_t remote_port) -> std::uint32_t {
        open.push_back(net.client.engine.connect({kServer, remote_port}));
        return open.back()->local().port;
    };
    const std::uint32_t first = port_to(7420);
    const std::vector<std::uint32_t> others{port_to(7421), port_to(7422), port_to(7423)};
    const std::uint32_t again = port_to(7420);
    const std::uint32_t range = high - low + 1;
    // A copy: clang 14 cannot capture a structured binding (C++20 P1091) in a lambda.
    const std::uint32_t lowest = low;
    auto after = [&](std::uint32_t port, std::uint32_t steps) {
        return lowest + (port - lowest + steps) % range;
    };
    CHECK(again == after(first, 4));  // one destination: the shared counter moved by 4
    // A sequential allocator would give first+1..first+3 (by chance: probability 2^-42).
    CHECK_FALSE((others[0] == after(first, 1) && others[1] == after(first, 2) &&
                 others[2] == after(first, 3)));
    for (auto port : others) CHECK((port >= low && port <= high));
}
