// ping app on FakeIpLayer: schedule, reply matching, expect, identifiers, teardown.
#include <catch2/catch.hpp>

#include <optional>

#include "fake_ip_layer.hpp"
#include "manual_scheduler.hpp"
#include "netloom/config.hpp"
#include "ping_app.hpp"
#include "test_addresses.hpp"

using namespace std::chrono_literals;
using netloom::App;
using netloom::Config;
using netloom::ConfigError;
using netloom::Ipv4Address;
using netloom::Time;
using netloom::apps::make_ping;
using netloom::apps::PingApp;
using netloom::testing::AppTestEnv;
using netloom::testing::counter;
using netloom::testing::FakeIpLayer;
using netloom::testing::kOwn;
using netloom::testing::ManualScheduler;

namespace {

const Ipv4Address kPeer(10, 0, 0, 1);

struct PingRun {
    ManualScheduler sched;
    FakeIpLayer ip{sched, kOwn, 50us};
    AppTestEnv env{sched, &ip};
    std::unique_ptr<App> app;
    std::optional<int> status;

    PingApp& ping() { return static_cast<PingApp&>(*app); }
    void build(const std::string& yaml) {
        app = make_ping(Config::load_string(yaml, "t.yaml"), env);
    }
    void run(const std::string& yaml) {
        build(yaml);
        REQUIRE(app->finite());
        app->start([this](int s) {
            REQUIRE_FALSE(status);
            status = s;
            sched.stop();
        });
        sched.run();
    }
};

}  // namespace

TEST_CASE("ping: every request answered gives status 0 and the path's RTT") {
    PingRun r;
    r.ip.echo_responder = kPeer;
    r.run("target: 10.0.0.1\ncount: 5\ninterval: 100ms\n");
    REQUIRE(r.status == 0);
    CHECK(counter(*r.app, "transmitted") == 5);
    CHECK(counter(*r.app, "received") == 5);
    CHECK(counter(*r.app, "lost") == 0);
    CHECK(counter(*r.app, "rtt_us_min") == 100);
    CHECK(counter(*r.app, "rtt_us_max") == 100);
    CHECK(counter(*r.app, "rtt_us_mdev") == 0);
    CHECK(r.ip.echo_requests == 5);
    // Requests at 0, 100, ..., 400 ms; the last reply ends the run.
    CHECK(r.sched.now() == Time{400ms + 100us});
    // The reply listener is gone once the app has finished.
    CHECK_FALSE(r.ip.has_echo_listener(r.ping().identifier()));
}

TEST_CASE("ping: unanswered requests time out, expect decides the status") {
    SECTION("nobody answers") {
        PingRun r;
        r.run("target: 10.0.0.1\ncount: 3\ninterval: 10ms\ntimeout: 200ms\n");
        REQUIRE(r.status == 1);
        CHECK(counter(*r.app, "lost") == 3);
        CHECK(counter(*r.app, "received") == 0);
        CHECK(r.sched.now() == Time{20ms + 200ms});
    }
    SECTION("nobody answers but none was expected") {
        PingRun r;
        r.run("target: 10.0.0.1\ncount: 3\ninterval: 10ms\ntimeout: 200ms\nexpect: 0\n");
        CHECK(r.status == 0);
    }
    SECTION("two of five lost") {
        for (int expect : {3, 4}) {
            PingRun r;
            r.ip.echo_responder = kPeer;
            int n = 0;
            r.ip.mangle = [&](std::vector<std::uint8_t>&) { return (++n == 2 || n == 4) ? 0 : 1; };
            r.run("target: 10.0.0.1\ncount: 5\ninterval: 1ms\nexpect: " + std::to_string(expect));
            CHECK(counter(*r.app, "received") == 3);
            CHECK(counter(*r.app, "lost") == 2);
            CHECK(r.status == (expect <= 3 ? 0 : 1));
        }
    }
}

TEST_CASE("ping: duplicate and corrupted replies are counted apart") {
    PingRun r;
    r.ip.echo_responder = kPeer;
    int n = 0;
    r.ip.mangle = [&](std::vector<std::uint8_t>& data) {
        ++n;
        if (n == 2) return 3;             // request 2 answered three times
        if (n == 4) data.at(10) ^= 0x80;  // request 4 answered with a changed byte
        return 1;
    };
    r.run("target: 10.0.0.1\ncount: 5\ninterval: 1ms\nsize: 32\n");
    CHECK(counter(*r.app, "received") == 4);
    CHECK(counter(*r.app, "duplicates") == 2);
    CHECK(counter(*r.app, "corrupt") == 1);
    CHECK(r.status == 1);  // 4 of the 5 expected
}

TEST_CASE("ping: size 0 sends empty echo data and still matches replies") {
    PingRun r;
    r.ip.echo_responder = kPeer;
    r.run("target: 10.0.0.1\ncount: 2\ninterval: 1ms\nsize: 0\n");
    CHECK(r.status == 0);
    CHECK(counter(*r.app, "received") == 2);
}

TEST_CASE("ping: two pings on one stack get different identifiers unless configured") {
    PingRun r;
    auto a = make_ping(Config::load_string("target: 10.0.0.1\n", "a"), r.env);
    auto b = make_ping(Config::load_string("target: 10.0.0.1\n", "b"), r.env);
    auto c = make_ping(Config::load_string("target: 10.0.0.1\nidentifier: 4660\n", "c"), r.env);
    CHECK(static_cast<PingApp&>(*a).identifier() != static_cast<PingApp&>(*b).identifier());
    CHECK(static_cast<PingApp&>(*c).identifier() == 4660);
}

TEST_CASE("ping: destroying a running ping unregisters it and resumes nothing later") {
    PingRun r;
    r.ip.echo_responder = kPeer;
    r.build("target: 10.0.0.1\ncount: 10\ninterval: 10ms\n");
    r.app->start([](int) { FAIL("destroyed before it could finish"); });
    r.sched.advance(25ms);
    CHECK(r.ip.has_echo_listener(r.ping().identifier()));
    const auto id = r.ping().identifier();
    r.app.reset();
    CHECK_FALSE(r.ip.has_echo_listener(id));
    r.sched.advance(2s);
    CHECK(r.ip.echo_requests == 3);
}

TEST_CASE("ping: config errors name the key") {
    PingRun r;
    auto fails_at = [&](const std::string& yaml, const std::string& needle) {
        try {
            r.build(yaml);
        } catch (const ConfigError& e) {
            CHECK_THAT(e.what(), Catch::Contains(needle));
            return;
        }
        FAIL("no ConfigError for: " << yaml);
    };
    fails_at("count: 3\n", "target");
    fails_at("target: 0.0.0.0\n", "target");
    fails_at("target: 10.0.0.1\ncount: 0\n", "count");
    fails_at("target: 10.0.0.1\ncount: 3\nexpect: 4\n", "expect");
    fails_at("target: 10.0.0.1\nsize: 65508\n", "size");
    fails_at("target: 10.0.0.1\ninterval: -1s\n", "interval");
    fails_at("target: 10.0.0.1\ntimeout: 0ms\n", "timeout");
    fails_at("target: 10.0.0.1\nidentifier: 70000\n", "identifier");
}
