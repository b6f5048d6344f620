// The engine target's settings on both engines: sysctls, socket options and `//! config:` /
// --config keys becoming engine keys, and bad values reported where they are written.
#include "engine_target_harness.hpp"

TEST_CASE("engine target: sysctls and options before the build become engine keys",
          "[drill][engine_target]") {
    const std::string engine = GENERATE("tcp_utcp", "tcp_classic");
    INFO(engine);
    auto target = make_engine_target(options_for(engine));
    CHECK(target->set_sysctl("tcp_sack", "0") == "");
    CHECK(target->set_sysctl("tcp_timestamps", "0") == "");
    CHECK(target->set_sysctl("tcp_no_such_thing", "1") != "");
    CHECK(target->set_sysctl("tcp_ecn", "2") != "");
    CHECK(target->set_sysctl("tcp_rmem", "4096 x 1") != "");
    Peer peer{*target};
    const int fd = passive_open(*target, peer);
    (void)fd;
    // The SYN-ACK went out without SACK-permitted or timestamps (checked again here on a
    // second connection for clarity).
    Peer second{*target};
    second.port = 40001;
    second.send(flag::syn, 0, 1460);
    const Segment syn_ack = second.expect();
    REQUIRE(syn_ack.has(flag::syn));
    CHECK(!syn_ack.options.sack_permitted);
    CHECK(!syn_ack.options.timestamps);
    CHECK(target->set_sysctl("tcp_sack", "0") == "");  // the value the engine has
    CHECK(target->set_sysctl("tcp_sack", "1") != "");  // fixed once built
}

TEST_CASE("engine target: bad configs are reported where they are written",
          "[drill][engine_target]") {
    TargetOptions o = options_for("tcp_utcp");
    o.extra_config = "{tcp: {sak: false}}";
    try {
        make_engine_target(o);
        FAIL("no error");
    } catch (const ConfigError& e) {
        CHECK(e.mark().file == "config directive");
        CHECK(e.mark().line == 1);
        CHECK(std::string(e.what()).find("did you mean 'sack'") != std::string::npos);
    }
    o.extra_config = "{tcp: {sack: false}}\n\n{tcp: {cc: vegas}}";  // one directive a line
    try {
        make_engine_target(o);
        FAIL("no error");
    } catch (const ConfigError& e) {
        CHECK(e.mark().file == "config directive");
        CHECK(e.mark().line == 3);
    }
    o.extra_config = "{tcp: {rcvbuf: 1}}";
    CHECK_THROWS_AS(make_engine_target(o), ConfigError);
    o.extra_config = "{tcp: {sack: false}}";
    CHECK_NOTHROW(make_engine_target(o));
    o.engine = "tcp_nothing";
    CHECK_THROWS_AS(make_engine_target(o), std::invalid_argument);
}

TEST_CASE("engine target: a bad --config file is reported at its line", "[drill][engine_target]") {
    const std::string path = (std::filesystem::temp_directory_path() /
                              ("engine_target_test_" + std::to_string(::getpid()) + ".yaml"))
                                 .string();
    {
        FILE* f = std::fopen(path.c_str(), "w");
        REQUIRE(f);
        std::fputs("# drill base config\ntcp:\n  sack: false\n  cc: vegas\n", f);
        std::fclose(f);
    }
    TargetOptions o = options_for("tcp_classic");
    o.base_config = path;
    try {
        make_engine_target(o);
        FAIL("no error");
    } catch (const ConfigError& e) {
        CHECK(e.mark().file == path);
        CHECK(e.mark().line == 4);
    }
    {
        FILE* f = std::fopen(path.c_str(), "w");
        std::fputs("tcp: {sack: false}\n", f);
        std::fclose(f);
    }
    auto target = make_engine_target(o);
    Peer peer{*target};
    passive_open(*target, peer);
    std::remove(path.c_str());
}

TEST_CASE("engine target: keepalive options become engine keys", "[drill][engine_target]") {
    const std::string engine = GENERATE("tcp_utcp", "tcp_classic");
    INFO(engine);
    auto target = make_engine_target(options_for(engine));
    REQUIRE(target->socket(AF_INET, SOCK_STREAM, 0).value == 3);
    auto set = [&](int level, int name, int value) {
        OptionValue v;
        v.integer = value;
        return target->setsockopt(3, level, name, v);
    };
    REQUIRE(set(SOL_SOCKET, SO_KEEPALIVE, 1).value == 0);
    REQUIRE(set(IPPROTO_TCP, TCP_KEEPIDLE, 10).value == 0);
    REQUIRE(set(IPPROTO_TCP, TCP_KEEPINTVL, 5).value == 0);
    REQUIRE(set(IPPROTO_TCP, TCP_KEEPCNT, 2).value == 0);
    CHECK(set(IPPROTO_TCP, TCP_KEEPCNT, 0).error == EINVAL);
    REQUIRE(target->bind(3).value == 0);
    REQUIRE(target->listen(3, 1).value == 0);
    Peer peer{*target};
    peer.send(flag::syn, 0, 1460);
    const Segment syn_ack = peer.expect();
    peer.ack = syn_ack.seq + 1;
    const std::int64_t quiet_from = target->now_us();
    peer.send(flag::ack);
    REQUIRE(target->accept(3).value == 4);
    OptionValue v;
    REQUIRE(target->getsockopt(4, IPPROTO_TCP, TCP_KEEPIDLE, v).value == 0);
    CHECK(v.integer == 10);  // inherited from the listener
    const Segment probe = peer.expect(20 * kSecond);
    CHECK(probe.at_us - quiet_from == 10 * kSecond);
    CHECK(probe.seq == peer.ack - 1);  // RFC 1122 4.2.3.6: SEG.SEQ = SND.NXT - 1
    const Segment second = peer.expect(20 * kSecond);
    CHECK(second.at_us - probe.at_us == 5 * kSecond);
    target->run_until(target->now_us() + 30 * kSecond);
    CHECK(sock_error(*target, 4) == ETIMEDOUT);
}

TEST_CASE("engine target: absurd times saturate instead of overflowing", "[drill][engine_target]") {
    auto target = make_engine_target(options_for("tcp_utcp"));
    Peer peer{*target};
    passive_open(*target, peer);
    target->run_until(INT64_MAX);
    CHECK(target->now_us() > 0);
    CHECK(!target->next_packet(INT64_MAX));
    std::vector<PollEntry> entries{{4, POLLIN, 0}};
    CHECK(target->poll(entries, -1).unsupported == "blocking call never completes");
}

TEST_CASE("engine target: many settings of one option stay one engine key",
          "[drill][engine_target]") {
    auto target = make_engine_target(options_for("tcp_classic"));
    REQUIRE(target->socket(AF_INET, SOCK_STREAM, 0).value == 3);
    OptionValue size;
    for (int i = 0; i < 2000; ++i) {
        size.integer = 10000 + i % 7;
        REQUIRE(target->setsockopt(3, SOL_SOCKET, SO_RCVBUF, size).value == 0);
        REQUIRE(target->set_sysctl("tcp_sack", i % 2 ? "1" : "0") == "");
    }
    REQUIRE(target->bind(3).value == 0);
    REQUIRE(target->listen(3, 1).value == 0);
    OptionValue v;
    REQUIRE(target->getsockopt(3, SOL_SOCKET, SO_RCVBUF, v).value == 0);
    CHECK(v.integer == 2 * size.integer);
}
