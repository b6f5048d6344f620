// The engine target of `netloom drill` on both engines: handshakes through raw datagrams, the
// Linux errno rules of its socket API, and the virtual clock (settings and configs:
// engine_target_config_test.cpp).
#include "engine_target_harness.hpp"

TEST_CASE("engine target: passive open, data both ways, close", "[drill][engine_target]") {
    const std::string engine = GENERATE("tcp_utcp", "tcp_classic");
    INFO(engine);
    auto target = make_engine_target(options_for(engine));
    CHECK(target->name() == engine);
    Peer peer{*target};
    const int fd = passive_open(*target, peer);
    CHECK(target->count_connections(1) == 1u);   // ESTABLISHED
    CHECK(target->count_connections(10) == 1u);  // LISTEN

    std::int64_t queued = -1;
    REQUIRE(target->ioctl(fd, FIONREAD, queued).value == 0);
    CHECK(queued == 0);
    CHECK(target->recv(fd, 100, MSG_DONTWAIT).error == EAGAIN);
    peer.send(flag::ack | flag::psh, 10);
    REQUIRE(target->ioctl(fd, FIONREAD, queued).value == 0);
    CHECK(queued == 10);
    CHECK(target->recv(fd, 4, MSG_PEEK).value == 4);
    CHECK(target->recv(fd, 100, 0).value == 10);

    REQUIRE(target->send(fd, 5, 0).value == 5);
    const Segment data = peer.expect_not_ack();
    CHECK(data.payload == 5);
    CHECK(data.ack == peer.seq);
    peer.ack = data.seq + 5;
    peer.send(flag::ack);

    auto info = target->tcp_info(fd);
    REQUIRE(info);
    CHECK(info->state == 1);

    REQUIRE(target->close(fd).value == 0);
    const Segment fin = peer.expect_not_ack();
    CHECK(fin.has(flag::fin));
    CHECK(target->count_connections(4) == 1u);  // FIN_WAIT1, closed by the application
    peer.ack = fin.seq + 1;
    peer.send(flag::ack | flag::fin);
    CHECK(target->count_connections(6) == 1u);  // TIME_WAIT
    CHECK(target->close(fd).error == EBADF);
    // The lowest free fd is reused.
    CHECK(target->socket(AF_INET, SOCK_STREAM, 0).value == 4);
}

TEST_CASE("engine target: non-blocking active open and its errno sequence",
          "[drill][engine_target]") {
    const std::string engine = GENERATE("tcp_utcp", "tcp_classic");
    INFO(engine);
    auto target = make_engine_target(options_for(engine));
    Peer peer{*target};
    REQUIRE(target->socket(AF_INET, SOCK_STREAM, 0).value == 3);
    CHECK(target->fcntl(3, F_GETFL, 0).value == O_RDWR);
    REQUIRE(target->fcntl(3, F_SETFL, O_RDWR | O_NONBLOCK).value == 0);
    CHECK(target->fcntl(3, F_GETFL, 0).value == (O_RDWR | O_NONBLOCK));
    CallResult c = target->connect(3, false);
    CHECK(c.error == EINPROGRESS);
    CHECK(target->connect(3, false).error == EALREADY);
    std::vector<PollEntry> entries{{3, POLLIN | POLLOUT, 0}};
    CHECK(target->poll(entries, 0).value == 0);
    const Segment syn = peer.expect();
    REQUIRE(syn.has(flag::syn));
    peer.port = 8080;
    peer.stack_port = syn.source_port;
    peer.ack = syn.seq + 1;
    peer.send(flag::syn | flag::ack, 0, 1460);
    CHECK(target->poll(entries, 0).value == 1);
    CHECK(entries[0].revents == POLLOUT);
    // Linux: the first connect after completion returns 0, then EISCONN.
    CHECK(target->connect(3, false).value == 0);
    CHECK(target->connect(3, false).error == EISCONN);
    CHECK(sock_error(*target, 3) == 0);
    auto info = target->tcp_info(3);
    REQUIRE(info);
    CHECK(info->state == 1);
    CHECK((info->options & 1) == 0);  // the peer offered no timestamps
}

TEST_CASE("engine target: SO_ERROR after a reset and a refused connect", "[drill][engine_target]") {
    const std::string engine = GENERATE("tcp_utcp", "tcp_classic");
    INFO(engine);
    SECTION("RST on an established connection") {
        auto target = make_engine_target(options_for(engine));
        Peer peer{*target};
        const int fd = active_open(*target, peer);
        peer.send(flag::rst);
        std::vector<PollEntry> entries{{fd, POLLIN | POLLOUT | POLLRDHUP, 0}};
        CHECK(target->poll(entries, 0).value == 1);
        CHECK(entries[0].revents == (POLLIN | POLLOUT | POLLRDHUP | POLLERR | POLLHUP));
        CHECK(sock_error(*target, fd) == ECONNRESET);
        CHECK(sock_error(*target, fd) == 0);  // reading clears it
        CHECK(target->recv(fd, 10, 0).value == 0);
        CHECK(target->send(fd, 10, 0).error == EPIPE);
        // The socket is still "connecting" for Linux (connect was not called again), whose
        // sock_error path then reports ECONNABORTED since SO_ERROR was read.
        CHECK(target->connect(fd, false).error == ECONNABORTED);
    }
    SECTION("recv reports ECONNRESET once") {
        auto target = make_engine_target(options_for(engine));
        Peer peer{*target};
        const int fd = active_open(*target, peer);
        peer.send(flag::rst);
        CHECK(target->recv(fd, 10, 0).error == ECONNRESET);
        CHECK(target->recv(fd, 10, 0).value == 0);
        CHECK(target->shutdown(fd, SHUT_WR).error == ENOTCONN);
    }
    SECTION("RST answering the SYN") {
        auto target = make_engine_target(options_for(engine));
        Peer peer{*target};
        REQUIRE(target->socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0).value == 3);
        REQUIRE(target->connect(3, false).error == EINPROGRESS);
        const Segment syn = peer.expect();
        peer.port = 8080;
        peer.stack_port = syn.source_port;
        peer.seq = 0;
        peer.ack = syn.seq + 1;
        peer.send(flag::rst | flag::ack);
        CHECK(target->connect(3, false).error == ECONNREFUSED);
        CHECK(sock_error(*target, 3) == 0);
        CHECK(target->recv(3, 1, 0).error == ENOTCONN);
    }
}

TEST_CASE("engine target: Linux errno rules of unconnected and listening sockets",
          "[drill][engine_target]") {
    const std::string engine = GENERATE("tcp_utcp", "tcp_classic");
    INFO(engine);
    auto target = make_engine_target(options_for(engine));
    CHECK(target->socket(AF_INET6, SOCK_STREAM, 0).unsupported != "");
    CHECK(target->socket(77, SOCK_STREAM, 0).error == EAFNOSUPPORT);
    CHECK(target->socket(AF_INET, SOCK_STREAM, IPPROTO_UDP).error == EPROTONOSUPPORT);
    REQUIRE(target->socket(AF_INET, SOCK_STREAM, 0).value == 3);
    std::vector<PollEntry> entries{{3, POLLIN | POLLOUT, 0}, {9, POLLIN, 0}};
    CHECK(target->poll(entries, 0).value == 2);
    CHECK(entries[0].revents == (POLLOUT | POLLHUP));
    CHECK(entries[1].revents == POLLNVAL);
    CHECK(target->recv(3, 1, 0).error == ENOTCONN);
    CHECK(target->send(3, 1, 0).error == EPIPE);
    CHECK(target->shutdown(3, SHUT_WR).error == ENOTCONN);
    CHECK(target->accept(3).error == EINVAL);
    OptionValue v;
    REQUIRE(target->getsockopt(3, IPPROTO_TCP, TCP_MAXSEG, v).value == 0);
    CHECK(v.integer == 536);
    OptionValue size;
    size.integer = 10000;
    REQUIRE(target->setsockopt(3, SOL_SOCKET, SO_RCVBUF, size).value == 0);
    REQUIRE(target->getsockopt(3, SOL_SOCKET, SO_RCVBUF, v).value == 0);
    CHECK(v.integer == 20000);
    REQUIRE(target->getsockopt(3, SOL_SOCKET, SO_TYPE, v).value == 0);
    CHECK(v.integer == SOCK_STREAM);
    OptionValue one;
    one.integer = 1;
    REQUIRE(target->setsockopt(3, SOL_SOCKET, SO_REUSEADDR, one).value == 0);
    REQUIRE(target->bind(3).value == 0);
    CHECK(target->bind(3).error == EINVAL);
    REQUIRE(target->socket(AF_INET, SOCK_STREAM, 0).value == 4);
    CHECK(target->bind(4).error == EADDRINUSE);  // 4 has no SO_REUSEADDR
    REQUIRE(target->listen(3, 1).value == 0);
    CHECK(target->listen(3, 1).value == 0);
    CHECK(target->connect(3, false).error == EISCONN);
    CHECK(target->recv(3, 1, 0).error == ENOTCONN);
    CHECK(target->send(3, 1, 0).error == EPIPE);
    REQUIRE(target->fcntl(3, F_SETFL, O_NONBLOCK).value == 0);
    CHECK(target->accept(3).error == EAGAIN);
    entries = {{3, POLLIN | POLLOUT, 0}};
    CHECK(target->poll(entries, 0).value == 0);
    // The engine was built by listen(): the buffer is fixed now.
    size.integer = 50000;
    REQUIRE(target->setsockopt(4, SOL_SOCKET, SO_RCVBUF, size).unsupported != "");
    size.integer = 10000;
    CHECK(target->setsockopt(4, SOL_SOCKET, SO_RCVBUF, size).value == 0);
    CHECK(target->close(4).value == 0);
    CHECK(target->close(3).value == 0);
}

TEST_CASE("engine target: virtual time and the SYN retransmission backoff",
          "[drill][engine_target]") {
    const std::string engine = GENERATE("tcp_utcp", "tcp_classic");
    INFO(engine);
    auto target = make_engine_target(options_for(engine));
    const std::int64_t start = target->now_us();
    REQUIRE(target->socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0).value == 3);
    REQUIRE(target->connect(3, false).error == EINPROGRESS);
    // Linux gives up 127 s after the SYN (6 retransmissions); so does tcp_classic, while
    // tcp_utcp stops at its connect_timeout (75 s).
    target->run_until(start + 130 * kSecond);
    CHECK(target->now_us() >= start + 130 * kSecond);
    std::vector<std::int64_t> syn_times;
    while (auto packet = target->next_packet(target->now_us())) {
        const Segment s = parse(*packet);
        if (s.has(flag::syn)) syn_times.push_back(s.at_us);
    }
    for (auto t : syn_times) UNSCOPED_INFO("SYN at " << t);
    REQUIRE(syn_times.size() >= 4);
    // RFC 6298 5.5: each retransmission waits twice as long as the one before.
    const std::int64_t first = syn_times[1] - syn_times[0];
    CHECK(first >= 200'000);
    for (std::size_t i = 2; i < syn_times.size(); ++i)
        CHECK(syn_times[i] - syn_times[i - 1] == 2 * (syn_times[i - 1] - syn_times[i - 2]));
    // The engine gave up.
    CHECK(sock_error(*target, 3) == ETIMEDOUT);
}

TEST_CASE("engine target: close with SO_LINGER 0 resets, SHUT_WR sends FIN",
          "[drill][engine_target]") {
    const std::string engine = GENERATE("tcp_utcp", "tcp_classic");
    INFO(engine);
    SECTION("linger 0") {
        auto target = make_engine_target(options_for(engine));
        Peer peer{*target};
        const int fd = passive_open(*target, peer);
        OptionValue linger;
        linger.is_int = false;
        const int fields[2] = {1, 0};
        linger.bytes.resize(sizeof fields);
        std::memcpy(linger.bytes.data(), fields, sizeof fields);
        REQUIRE(target->setsockopt(fd, SOL_SOCKET, SO_LINGER, linger).value == 0);
        OptionValue back;
        REQUIRE(target->getsockopt(fd, SOL_SOCKET, SO_LINGER, back).value == 0);
        CHECK(back.bytes == linger.bytes);
        REQUIRE(target->close(fd).value == 0);
        const Segment rst = peer.expect();
        CHECK(rst.has(flag::rst));
        CHECK(target->count_connections(1) == 0u);
    }
    SECTION("shutdown(SHUT_WR)") {
        auto target = make_engine_target(options_for(engine));
        Peer peer{*target};
        const int fd = passive_open(*target, peer);
        REQUIRE(target->shutdown(fd, SHUT_WR).value == 0);
        const Segment fin = peer.expect_not_ack();
        CHECK(fin.has(flag::fin));
        CHECK(target->send(fd, 1, 0).error == EPIPE);
        CHECK(target->send(fd, 0, 0).error == EPIPE);
        CHECK(target->shutdown(fd, SHUT_WR).value == 0);
        std::vector<PollEntry> entries{{fd, POLLIN | POLLOUT, 0}};
        CHECK(target->poll(entries, 0).value == 1);
        CHECK(entries[0].revents == POLLOUT);
        auto info = target->tcp_info(fd);
        REQUIRE(info);
        CHECK(info->state == 4);  // FIN_WAIT1
    }
    SECTION("a RST in CLOSE-WAIT reports EPIPE") {
        auto target = make_engine_target(options_for(engine));
        Peer peer{*target};
        const int fd = passive_open(*target, peer);
        peer.send(flag::ack | flag::fin);
        CHECK(target->tcp_info(fd)->state == 8);  // CLOSE_WAIT
        CHECK(target->recv(fd, 10, 0).value == 0);
        peer.send(flag::rst);
        CHECK(target->recv(fd, 10, 0).value == 0);  // SOCK_DONE comes before the error
        CHECK(sock_error(*target, fd) == EPIPE);
    }
}

TEST_CASE("engine target: a SYN before any socket builds the stack and is refused",
          "[drill][engine_target]") {
    const std::string engine = GENERATE("tcp_utcp", "tcp_classic");
    INFO(engine);
    auto target = make_engine_target(options_for(engine));
    target->run_until(2 * kSecond);
    CHECK(!target->next_packet(3 * kSecond));
    CHECK(target->now_us() == 3 * kSecond);
    Peer peer{*target};
    peer.send(flag::syn, 0, 1460);
    const Segment rst = peer.expect();
    CHECK(rst.has(flag::rst));
    CHECK(rst.ack == 1001);
    CHECK(rst.at_us == 3 * kSecond);  // at once: the ARP exchange takes no virtual time
}

TEST_CASE("engine target: blocking calls run the clock", "[drill][engine_target]") {
    const std::string engine = GENERATE("tcp_utcp", "tcp_classic");
    INFO(engine);
    SECTION("blocking connect times out") {
        auto target = make_engine_target(options_for(engine));
        REQUIRE(target->socket(AF_INET, SOCK_STREAM, 0).value == 3);
        const CallResult c = target->connect(3, false);
        CHECK(c.error == ETIMEDOUT);
        CHECK(target->now_us() >= 75 * kSecond);
        CHECK(target->now_us() <= 128 * kSecond);
        CHECK(target->recv(3, 1, 0).error == ENOTCONN);  // sock_error disconnected it
    }
    SECTION("blocking accept with no peer never completes") {
        auto target = make_engine_target(options_for(engine));
        listen_on(*target);
        const CallResult a = target->accept(3);
        CHECK(a.unsupported == "blocking call never completes");
        CHECK(target->now_us() == kBlockingLimitUs);
    }
    SECTION("poll with a timeout") {
        auto target = make_engine_target(options_for(engine));
        Peer peer{*target};
        const int fd = passive_open(*target, peer);
        const std::int64_t before = target->now_us();
        std::vector<PollEntry> entries{{fd, POLLIN, 0}};
        CHECK(target->poll(entries, 250).value == 0);
        CHECK(target->now_us() == before + 250'000);
        CHECK(entries[0].revents == 0);
    }
    SECTION("a listener's unaccepted connection seen by poll is reset when it closes") {
        auto target = make_engine_target(options_for(engine));
        Peer peer{*target};
        listen_on(*target);
        peer.send(flag::syn, 0, 1460);
        const Segment syn_ack = peer.expect();
        peer.ack = syn_ack.seq + 1;
        peer.send(flag::ack);
        std::vector<PollEntry> entries{{3, POLLIN, 0}};
        CHECK(target->poll(entries, 0).value == 1);
        CHECK(entries[0].revents == POLLIN);
        REQUIRE(target->close(3).value == 0);
        const Segment rst = peer.expect_not_ack();
        CHECK(rst.has(flag::rst));
    }
}

TEST_CASE("engine target: connections nobody accepted make some counts unknown",
          "[drill][engine_target]") {
    const std::string engine = GENERATE("tcp_utcp", "tcp_classic");
    INFO(engine);
    auto target = make_engine_target(options_for(engine));
    Peer peer{*target};
    listen_on(*target);
    CHECK(target->count_connections(3) == 0u);
    peer.send(flag::syn, 0, 1460);
    CHECK(!target->count_connections(3));  // SYN_RECV: the engine does not say
    CHECK(target->count_connections(10) == 1u);
    CHECK(target->count_connections(6) == 0u);
}

TEST_CASE("engine target: connect(AF_UNSPEC) resets and leaves the socket reusable",
          "[drill][engine_target]") {
    const std::string engine = GENERATE("tcp_utcp", "tcp_classic");
    INFO(engine);
    auto target = make_engine_target(options_for(engine));
    Peer peer{*target};
    const int fd = active_open(*target, peer);
    CHECK(target->connect(fd, false).value == 0);
    REQUIRE(target->connect(fd, true).value == 0);
    CHECK(peer.expect().has(flag::rst));
    CHECK(sock_error(*target, fd) == ECONNRESET);
    CHECK(target->recv(fd, 1, 0).error == ENOTCONN);
    CHECK(target->send(fd, 1, 0).error == EPIPE);
    CHECK(target->connect(fd, false).error == EINPROGRESS);
    CHECK(peer.expect().has(flag::syn));
}

TEST_CASE("engine target: a TIME-WAIT holds its port as Linux's bind sees it",
          "[drill][engine_target]") {
    const std::string engine = GENERATE("tcp_utcp", "tcp_classic");
    const bool reuse = GENERATE(false, true);
    INFO(engine << (reuse ? " with" : " without") << " SO_REUSEADDR on the first listener");
    auto target = make_engine_target(options_for(engine));
    OptionValue one;
    one.integer = 1;
    Peer peer{*target};
    REQUIRE(target->socket(AF_INET, SOCK_STREAM, 0).value == 3);
    if (reuse) REQUIRE(target->setsockopt(3, SOL_SOCKET, SO_REUSEADDR, one).value == 0);
    REQUIRE(target->bind(3).value == 0);
    REQUIRE(target->listen(3, 1).value == 0);
    peer.send(flag::syn, 0, 1460);
    peer.ack = peer.expect().seq + 1;
    peer.send(flag::ack);
    REQUIRE(target->accept(3).value == 4);
    REQUIRE(target->close(3).value == 0);
    REQUIRE(target->close(4).value == 0);
    const Segment fin = peer.expect_not_ack();
    peer.ack = fin.seq + 1;
    peer.send(flag::fin | flag::ack);
    REQUIRE(target->count_connections(6) == 1u);
    REQUIRE(target->socket(AF_INET, SOCK_STREAM, 0).value == 3);
    CHECK(target->bind(3).error == EADDRINUSE);
    REQUIRE(target->setsockopt(3, SOL_SOCKET, SO_REUSEADDR, one).value == 0);
    // inet_bind_conflict: both sockets must have SO_REUSEADDR (the TIME-WAIT keeps its flag).
    CHECK(target->bind(3).value == (reuse ? 0 : -1));
}

TEST_CASE("engine target: an fd whose connection is in TIME-WAIT sees CLOSE, as on Linux",
          "[drill][engine_target]") {
    const std::string engine = GENERATE("tcp_utcp", "tcp_classic");
    INFO(engine);
    auto target = make_engine_target(options_for(engine));
    Peer peer{*target};
    const int fd = passive_open(*target, peer);
    REQUIRE(target->shutdown(fd, SHUT_WR).value == 0);
    const Segment fin = peer.expect_not_ack();
    peer.ack = fin.seq + 1;
    peer.send(flag::fin | flag::ack);
    CHECK(target->tcp_info(fd)->state == 7);    // CLOSE
    CHECK(target->count_connections(6) == 1u);  // the engine's TIME-WAIT
    CHECK(target->shutdown(fd, SHUT_WR).error == ENOTCONN);
    CHECK(target->recv(fd, 10, 0).value == 0);
    std::vector<PollEntry> entries{{fd, POLLIN | POLLOUT | POLLRDHUP, 0}};
    CHECK(target->poll(entries, 0).value == 1);
    CHECK(entries[0].revents == (POLLIN | POLLOUT | POLLRDHUP | POLLHUP));
}
