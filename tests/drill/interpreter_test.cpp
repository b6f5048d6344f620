// The interpreter's own rules, checked against a scripted fake target (no stack, no kernel): the
// clock starts after the init command, and outbound segments a TSO/GSO split could have made are
// joined to match a bigger `>` line unless --strict_segments (upstream packetdrill's behaviour);
// and the symbol table covers the names upstream's Linux corpus uses.
#include <catch2/catch.hpp>

#include <deque>

#include "drill/interpreter.hpp"
#include "drill/packet_codec.hpp"
#include "drill/parser.hpp"
#include "drill/symbols.hpp"

namespace {

using namespace netloom::drill;

constexpr std::uint32_t kLocal = 0xc0a80001;   // 192.168.0.1
constexpr std::uint32_t kRemote = 0xc0000201;  // 192.0.2.1
constexpr std::uint32_t kIsn = 5000;

// A virtual-clock target that answers a SYN with a SYN-ACK and sends each write as the segments
// `split` lists (contiguous; PSH on the last), each `piece_gap_us` after the previous one.
class FakeTarget final : public Target {
public:
    std::int64_t now = 0;
    std::int64_t sysctl_cost_us = 0;  ///< each sysctl takes this long (a /proc write, a shell)
    std::vector<std::uint32_t> split;
    std::vector<std::uint32_t> seq_gaps;  ///< bytes skipped before each piece (0: contiguous)
    std::int64_t piece_gap_us = 100;
    std::vector<std::uint16_t> syn_ports;  ///< source port of every SYN injected

    std::string name() const override { return "fake"; }
    std::int64_t now_us() override { return now; }
    void run_until(std::int64_t t) override { now = std::max(now, t); }
    std::optional<CapturedPacket> next_packet(std::int64_t deadline) override {
        if (queue_.empty()) {
            now = std::max(now, deadline);
            return std::nullopt;
        }
        CapturedPacket p = std::move(queue_.front());
        queue_.pop_front();
        now = std::max(now, p.at_us);
        return p;
    }
    void inject(std::span<const std::uint8_t> datagram) override {
        std::string error;
        auto p = decode_ipv4(datagram, error);
        if (!p || !(p->tcp.flags & 0x02)) return;
        peer_port_ = p->tcp.source_port;
        syn_ports.push_back(peer_port_);
        peer_next_ = p->tcp.seq + 1;
        send_segment(0x12, kIsn, 0);
        snd_next_ = kIsn + 1;
    }
    std::string set_sysctl(const std::string&, const std::string&) override {
        now += sysctl_cost_us;
        return "";
    }
    std::optional<std::size_t> count_connections(std::uint8_t) override { return std::nullopt; }
    CallResult socket(int, int, int) override { return CallResult::ok(3); }
    CallResult bind(int) override { return CallResult::ok(); }
    CallResult listen(int, int) override { return CallResult::ok(); }
    CallResult accept(int) override { return CallResult::ok(4); }
    CallResult connect(int, bool) override { return CallResult::not_supported("connect"); }
    CallResult recv(int, std::size_t, int) override { return CallResult::not_supported("recv"); }
    CallResult send(int, std::size_t length, int) override {
        std::int64_t at = now;
        for (std::size_t i = 0; i < split.size(); ++i) {
            if (i < seq_gaps.size()) snd_next_ += seq_gaps[i];
            const bool last = i + 1 == split.size();
            send_segment(last ? 0x18 : 0x10, snd_next_, split[i], at);
            snd_next_ += split[i];
            at += piece_gap_us;
        }
        return CallResult::ok(static_cast<std::int64_t>(length));
    }
    CallResult shutdown(int, int) override { return CallResult::ok(); }
    CallResult close(int) override { return CallResult::ok(); }
    CallResult getsockopt(int, int, int, OptionValue& value) override {
        value.is_int = true;  // every option is one int, -1 (as TCP_NOTSENT_LOWAT's default)
        value.integer = -1;
        value.bytes = {0xff, 0xff, 0xff, 0xff};
        return CallResult::ok();
    }
    CallResult setsockopt(int, int, int, const OptionValue&) override { return CallResult::ok(); }
    CallResult fcntl(int, int, std::int64_t) override { return CallResult::ok(); }
    CallResult ioctl(int, unsigned long, std::int64_t&) override {
        return CallResult::not_supported("ioctl");
    }
    CallResult poll(std::vector<PollEntry>&, int) override {
        return CallResult::not_supported("poll");
    }
    std::optional<TcpInfoSnapshot> tcp_info(int) override { return std::nullopt; }
    void close_all() override {}

private:
    void send_segment(std::uint8_t flags, std::uint32_t seq, std::uint32_t length,
                      std::int64_t at = -1) {
        Ipv4Fields ip;
        ip.source = kLocal;
        ip.destination = kRemote;
        ip.ttl = 64;
        TcpFields tcp;
        tcp.source_port = 8080;
        tcp.destination_port = peer_port_;
        tcp.seq = seq;
        tcp.ack = peer_next_;
        tcp.flags = flags;
        tcp.window = 1000;
        tcp.payload_length = length;
        queue_.push_back({at < 0 ? now : at, build_tcp(ip, tcp)});
    }
    std::deque<CapturedPacket> queue_;
    std::uint16_t peer_port_ = 0;
    std::uint32_t peer_next_ = 0, snd_next_ = 0;
};

constexpr const char* kHandshake = R"(
0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0 bind(3, ..., ...) = 0
+0 listen(3, 1) = 0
+0 < S 0:0(0) win 1000
+0 > S. 0:0(0) ack 1
+0 < . 1:1(0) ack 1 win 1000
+0 accept(3, ..., ...) = 4
)";

ScriptResult run(const std::string& text, FakeTarget& target, RunSettings settings = {}) {
    return run_script(parse_script(text, "t.pkt"), target, settings);
}

}  // namespace

TEST_CASE("the script clock starts after the untimed init command, as upstream's does") {
    FakeTarget target;
    target.sysctl_cost_us = 3000;  // three sysctls: 9 ms, more than the 4 ms tolerance
    const std::string script =
        "`sysctl -w net.ipv4.tcp_sack=1\nsysctl -w net.ipv4.tcp_dsack=1\n"
        "sysctl -w net.ipv4.tcp_fack=0`\n" +
        std::string(kHandshake);
    const ScriptResult r = run(script, target);
    INFO(r.message);
    CHECK(r.outcome == Outcome::pass);
}

TEST_CASE("segments a TSO split could have made are joined to match one bigger line") {
    FakeTarget target;
    target.split = {1000, 1000, 500};
    const std::string script = std::string(kHandshake) +
                               "+0 write(4, ..., 2500) = 2500\n"
                               "+0 > P. 1:2501(2500) ack 1 win 1000\n";
    ScriptResult r = run(script, target);
    INFO(r.message);
    CHECK(r.outcome == Outcome::pass);

    SECTION("not with --strict_segments") {
        FakeTarget strict;
        strict.split = {1000, 1000, 500};
        RunSettings settings;
        settings.strict_segments = true;
        r = run(script, strict, settings);
        CHECK(r.outcome == Outcome::fail);
        CHECK(r.message.find("tcp_psh") != std::string::npos);
    }
    SECTION("not when a middle piece is smaller than the one before") {
        FakeTarget uneven;
        uneven.split = {1000, 500, 1000};
        r = run(script, uneven);
        CHECK(r.outcome == Outcome::fail);
        CHECK(r.message.find("fragment payload") != std::string::npos);
    }
    SECTION("not across a gap in sequence numbers") {
        FakeTarget gap;
        gap.split = {1000, 1500};
        gap.seq_gaps = {0, 10};
        r = run(script, gap);
        CHECK(r.outcome == Outcome::fail);
        CHECK(r.message.find("does not continue") != std::string::npos);
    }
    SECTION("a line that lists every segment still matches one at a time") {
        FakeTarget each;
        each.split = {1000, 1000, 500};
        r = run(std::string(kHandshake) +
                    "+0 write(4, ..., 2500) = 2500\n"
                    "+0 > . 1:1001(1000) ack 1 win 1000\n"
                    "+0 > . 1001:2001(1000) ack 1 win 1000\n"
                    "+0 > P. 2001:2501(500) ack 1 win 1000\n",
                each);
        INFO(r.message);
        CHECK(r.outcome == Outcome::pass);
    }
    SECTION("the joined segment is on time when its last piece is") {
        FakeTarget late;
        late.split = {1000, 1000, 500};
        late.piece_gap_us = 20'000;  // the last piece 40 ms after the first
        r = run(script, late);
        CHECK(r.outcome == Outcome::fail);
        CHECK(r.message.find("timing error") != std::string::npos);
    }
}

TEST_CASE("symbols of upstream's Linux corpus are known, with the kernel's values") {
    CHECK(lookup_symbol("SO_ZEROCOPY") == 60);
    CHECK(lookup_symbol("TCP_INQ") == 36);
    CHECK(lookup_symbol("TCP_CM_INQ") == 36);
    CHECK(lookup_symbol("IP_FREEBIND") == 15);
    CHECK(lookup_symbol("SO_EE_ORIGIN_ZEROCOPY") == 5);
    CHECK(lookup_symbol("SOF_TIMESTAMPING_OPT_ID") == 128);
    CHECK(lookup_symbol("EPOLLEXCLUSIVE") == (1 << 28));
    CHECK(lookup_symbol("ENOMSG") == 42);
}

TEST_CASE("a buffer argument other than ... is unsupported, never silently replaced") {
    for (const char* call : {"+0 write(4, NULL, 1000) = -1 EFAULT (Bad address)\n",
                             "+0 recv(4, NULL, 1000, 0) = -1 EFAULT (Bad address)\n"}) {
        FakeTarget target;
        const ScriptResult r = run(std::string(kHandshake) + call, target);
        INFO(r.message);
        CHECK(r.outcome == Outcome::unsupported);
        CHECK(r.message.find("buffer") != std::string::npos);
    }
}

TEST_CASE("each passive open comes from a peer port of its own, as upstream's does") {
    // The first connection stays open: a second SYN from its 4-tuple would be a segment of it.
    FakeTarget target;
    const std::string second = R"(
+0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 5
+0 bind(5, ..., ...) = 0
+0 listen(5, 1) = 0
+0 < S 0:0(0) win 1000
+0 > S. 0:0(0) ack 1
)";
    const ScriptResult r = run(std::string(kHandshake) + second, target);
    INFO(r.message);
    CHECK(r.outcome == Outcome::pass);
    REQUIRE(target.syn_ports.size() == 2);
    CHECK(target.syn_ports[0] != target.syn_ports[1]);
}

TEST_CASE("sendmsg with MSG_ZEROCOPY over several iovecs is unsupported (one buffer is sent)") {
    FakeTarget target;
    const ScriptResult r =
        run(std::string(kHandshake) +
                "+0 sendmsg(4, {msg_name(...)=..., msg_iov(2)=[{..., 1}, {..., 1}], "
                "msg_flags=0}, MSG_ZEROCOPY) = 2\n",
            target);
    INFO(r.message);
    CHECK(r.outcome == Outcome::unsupported);
    CHECK(r.message.find("MSG_ZEROCOPY") != std::string::npos);
}

TEST_CASE("an int option compares as 32 bits: 4294967295 is the -1 the kernel returns") {
    FakeTarget target;
    ScriptResult r =
        run(std::string(kHandshake) +
                "+0 getsockopt(4, SOL_TCP, TCP_NOTSENT_LOWAT, [4294967295], [4]) = 0\n",
            target);
    INFO(r.message);
    CHECK(r.outcome == Outcome::pass);
    FakeTarget other;
    r = run(
        std::string(kHandshake) + "+0 getsockopt(4, SOL_TCP, TCP_NOTSENT_LOWAT, [5], [4]) = 0\n",
        other);
    CHECK(r.outcome == Outcome::fail);
}
