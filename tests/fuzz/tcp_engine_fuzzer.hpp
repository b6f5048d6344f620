// tcp_engine_fuzzer.hpp — drives one TCP engine (by plugin name) from a structured fuzz input and
// checks invariants after every step; tcp_utcp.cpp and tcp_classic.cpp are its two targets.
//
// The engine runs on a CaptureIp (an IpLayer that keeps what the engine sends) under a
// ManualScheduler, built by tests/support/tcp_engine_factory.hpp as the engine tests build it.
// A hand-driven peer at 10.1.0.1 (port 40000, or 5000 when the engine connects) stands in for the
// network. The input decodes as:
//   - setup: passive (the engine listens on port 80) or active (it connects to the peer), and
//     the peer's initial sequence number;
//   - then steps until the input runs out: an inbound segment built from fields (flags, seq and
//     ack as signed offsets from the peer's next sequence number and the highest one the engine
//     sent, so they land near the windows; window; MSS, window scale, SACK-permitted,
//     timestamps and SACK options; payload length, its bytes a function of their sequence
//     number), an app call (send, recv, shutdown_write, close, abort), an ICMP error about the
//     connection, or a clock advance.
// Invariants, after every step: every segment the engine sends parses with a good checksum and
// its data is what the app sent at that stream offset; the bytes the app reads are the peer's,
// in order (consistent with one of the peer's SYNs as the ISN); TcpInfo is sane (acked <= sent,
// bytes in flight within what is unacknowledged, window scales <= 14, MSS within 1..MTU-40);
// the engine's counters stay within bounds (at most one connection for the one 4-tuple, memory
// within a budget per connection). At the end everything is closed and 20 minutes pass: no
// connection and no buffered memory may remain.
#pragma once

#include <fuzzer/FuzzedDataProvider.h>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "fast_checksum.hpp"
#include "fuzz_check.hpp"
#include "manual_scheduler.hpp"
#include "netloom/config.hpp"
#include "netloom/ip.hpp"
#include "netloom/tcp.hpp"
#include "netloom/wire/tcp.hpp"
#include "tcp_engine_factory.hpp"

namespace netloom::fuzz {

using namespace std::chrono_literals;
using wire::Ipv4Address;
namespace flag = wire::tcp_flag;

/// An IpLayer for one engine: keeps every segment it is given; nothing reaches a wire.
class CaptureIp final : public IpLayer {
public:
    Ipv4Cidr address() const noexcept override { return {Ipv4Address(10, 1, 0, 2), 24}; }
    std::uint32_t mtu() const noexcept override { return 1500; }
    const Checksum& checksum() const noexcept override { return checksum_; }
    void start() override {}
    void register_transport(IpProtocol protocol, Transport* transport) override {
        if (protocol == IpProtocol::tcp) tcp = transport;
    }
    IpSendStatus output(Ipv4Address destination, IpProtocol protocol, Packet&& payload,
                        const IpSendOptions&) override {
        FUZZ_CHECK(protocol == IpProtocol::tcp);
        FUZZ_CHECK(destination == Ipv4Address(10, 1, 0, 1));
        sent.emplace_back(payload.bytes().begin(), payload.bytes().end());
        return IpSendStatus::sent;
    }
    std::unique_ptr<UdpSocket> udp_bind(std::uint16_t) override { return nullptr; }
    IpSendStatus send_echo_request(Ipv4Address, std::uint16_t, std::uint16_t,
                                   std::span<const std::uint8_t>) override {
        return IpSendStatus::no_route;
    }
    void on_echo_reply(std::uint16_t, std::function<void(const EchoReply&)>) override {}
    void visit_counters(const CounterVisitor&) const override {}

    Transport* tcp = nullptr;
    std::vector<std::vector<std::uint8_t>> sent;

private:
    checksum::FastChecksum checksum_;
};

class EngineFuzzer {
public:
    static constexpr std::uint32_t kBuffer = 16 * 1024;  // sndbuf and rcvbuf
    static constexpr std::uint16_t kPeerPort = 40000, kListenPort = 80;

    EngineFuzzer(std::string_view engine, const std::uint8_t* data, std::size_t size)
        : input_(data, size),
          engine_(testing::make_tcp_engine(
              engine, Config::load_string("sndbuf: 16KiB\nrcvbuf: 16KiB\n", "tcp.yaml"), ip_,
              scheduler_, null_logger(), 2)) {
        engine_->start();
        FUZZ_CHECK(ip_.tcp != nullptr);
    }

    ~EngineFuzzer() {
        connection_.reset();
        listener_.reset();
        engine_.reset();
    }

    void run() {
        const bool passive = input_.ConsumeBool();
        peer_next_ = input_.ConsumeIntegral<std::uint32_t>();
        if (passive) {
            listener_ = engine_->listen(kListenPort, 0);
            local_port_ = kListenPort;
        } else {
            peer_port_ = 5000;
            connection_ = engine_->connect({peer_, peer_port_});
            FUZZ_CHECK(connection_ != nullptr);
            settle();  // the SYN tells us the engine's port
        }
        while (input_.remaining_bytes() > 0) {
            step();
            settle();
        }
        finish();
    }

private:
    static std::shared_ptr<spdlog::logger> null_logger() {
        static auto logger = std::make_shared<spdlog::logger>(
            "tcp", std::make_shared<spdlog::sinks::null_sink_mt>());
        return logger;
    }

    /// The byte the peer sends at sequence number `seq` (whatever its ISN).
    static std::uint8_t peer_byte(std::uint32_t seq) {
        seq ^= seq >> 15;
        seq *= 0x2c1b3c6du;
        seq ^= seq >> 12;
        return static_cast<std::uint8_t>(seq);
    }
    /// The byte the app sends at stream offset `offset`.
    static std::uint8_t app_byte(std::uint64_t offset) {
        return static_cast<std::uint8_t>(offset * 131 + (offset >> 8));
    }

    void step() {
        switch (input_.ConsumeIntegralInRange<int>(0, 9)) {
            case 0:
            case 1:
            case 2:
            case 3: inbound_segment(); break;
            case 4: app_send(); break;
            case 5: app_recv(); break;
            case 6: app_close(); break;
            case 7: icmp_error(); break;
            default: advance_clock(); break;
        }
    }

    void inbound_segment() {
        wire::TcpRepr repr;
        repr.source_port = peer_port_;
        repr.destination_port =
            input_.ConsumeBool() ? local_port_ : input_.ConsumeIntegral<std::uint16_t>();
        repr.flags = input_.ConsumeIntegral<std::uint8_t>();
        const auto seq_offset = input_.ConsumeIntegral<std::int16_t>();
        const auto ack_offset = input_.ConsumeIntegral<std::int16_t>();
        repr.sequence_number = peer_next_ + static_cast<std::uint32_t>(seq_offset);
        repr.acknowledgment_number = engine_max_end_ + static_cast<std::uint32_t>(ack_offset);
        repr.window = input_.ConsumeIntegral<std::uint16_t>();
        repr.urgent_pointer = input_.ConsumeBool() ? input_.ConsumeIntegral<std::uint16_t>() : 0;
        const auto options = input_.ConsumeIntegral<std::uint8_t>();
        if (options & 0x01) repr.options.mss = input_.ConsumeIntegral<std::uint16_t>();
        if (options & 0x02)
            repr.options.window_scale = input_.ConsumeIntegralInRange<std::uint8_t>(0, 16);
        if (options & 0x04) repr.options.sack_permitted = true;
        if (options & 0x08) {
            const auto echo_offset = input_.ConsumeIntegral<std::int16_t>();
            repr.options.timestamps = wire::TcpTimestamps{
                ts_value_ += input_.ConsumeIntegralInRange<std::uint32_t>(0, 1000) - 10,
                engine_ts_ + static_cast<std::uint32_t>(echo_offset)};
        }
        if (options & 0x10) {
            repr.options.sack_count = input_.ConsumeIntegralInRange<std::uint8_t>(1, 3);
            for (std::uint8_t i = 0; i < repr.options.sack_count; ++i) {
                const auto left = input_.ConsumeIntegral<std::int16_t>();
                const auto length = input_.ConsumeIntegral<std::int16_t>();
                repr.options.sack_blocks[i] = {
                    engine_max_end_ + static_cast<std::uint32_t>(left),
                    engine_max_end_ + static_cast<std::uint32_t>(left + length)};
            }
        }
        const std::size_t length = input_.ConsumeIntegralInRange<std::size_t>(0, 3000);
        std::vector<std::uint8_t> payload(length);
        const std::uint32_t first = repr.sequence_number + ((repr.flags & flag::syn) ? 1 : 0);
        for (std::size_t i = 0; i < length; ++i)
            payload[i] = peer_byte(first + static_cast<std::uint32_t>(i));
        repr.payload = payload;

        if (repr.flags & flag::syn) isn_candidates_.push_back(repr.sequence_number);
        const std::uint32_t end =
            first + static_cast<std::uint32_t>(length) + ((repr.flags & flag::fin) ? 1 : 0);
        if (seq_offset <= 0 && static_cast<std::int32_t>(end - peer_next_) > 0) peer_next_ = end;

        Packet packet = Packet::allocate(repr.buffer_len());
        auto bytes = packet.append(repr.buffer_len());
        FUZZ_CHECK(repr.emit(bytes, peer_, ip_.address().address, ip_.checksum()) != 0);
        if (input_.ConsumeIntegralInRange<int>(0, 15) == 0 && !bytes.empty()) {
            bytes[input_.ConsumeIntegralInRange<std::size_t>(0, bytes.size() - 1)] ^=
                input_.ConsumeIntegral<std::uint8_t>();
        }
        IpMeta meta;
        meta.source = peer_;
        meta.destination = ip_.address().address;
        meta.ttl = 64;
        ip_.tcp->ip_input(meta, std::move(packet));
    }

    void app_send() {
        if (!connection_) return;
        const std::size_t want = input_.ConsumeIntegralInRange<std::size_t>(0, 40000);
        std::vector<std::uint8_t> data(want);
        for (std::size_t i = 0; i < want; ++i) data[i] = app_byte(app_sent_ + i);
        const std::size_t space = connection_->send_space();
        const std::size_t taken = connection_->send(data);
        FUZZ_CHECK(taken <= want);
        FUZZ_CHECK(taken <= kBuffer);
        (void)space;
        app_sent_ += taken;
    }

    void app_recv() {
        if (!connection_) return;
        std::vector<std::uint8_t> out(input_.ConsumeIntegralInRange<std::size_t>(1, 40000));
        const std::size_t readable = connection_->readable_bytes();
        const std::size_t n = connection_->recv(out);
        FUZZ_CHECK(n <= out.size());
        FUZZ_CHECK(n <= readable || readable == 0);
        // The bytes are the peer's, in order, from one of its SYNs' sequence numbers on.
        std::vector<std::uint32_t> still;
        for (std::uint32_t isn : isn_candidates_) {
            bool same = true;
            for (std::size_t i = 0; i < n && same; ++i)
                same = out[i] == peer_byte(isn + 1 + static_cast<std::uint32_t>(app_read_ + i));
            if (same) still.push_back(isn);
        }
        FUZZ_CHECK(n == 0 || !still.empty());
        if (n) isn_candidates_ = std::move(still);
        app_read_ += n;
    }

    void app_close() {
        if (!connection_) return;
        switch (input_.ConsumeIntegralInRange<int>(0, 3)) {
            case 0: connection_->shutdown_write(); break;
            case 1: connection_->close(); break;
            case 2: connection_->abort(); break;
            default: connection_.reset(); break;  // the app drops its handle
        }
    }

    void icmp_error() {
        IcmpErrorReport report;
        report.type = input_.ConsumeBool() ? 3 : input_.ConsumeIntegral<std::uint8_t>();
        report.code = input_.ConsumeIntegralInRange<std::uint8_t>(0, 5);
        report.reporter = Ipv4Address(10, 1, 0, 254);
        report.source = ip_.address().address;
        report.destination = peer_;
        report.protocol = IpProtocol::tcp;
        report.source_port = local_port_;
        report.destination_port = peer_port_;
        report.quoted_word =
            engine_max_end_ + static_cast<std::uint32_t>(input_.ConsumeIntegral<std::int16_t>());
        report.next_hop_mtu = input_.ConsumeIntegral<std::uint16_t>();
        ip_.tcp->ip_error(report);
    }

    void advance_clock() {
        const auto amount = input_.ConsumeIntegral<std::uint16_t>();
        scheduler_.advance(input_.ConsumeBool() ? Time(std::chrono::milliseconds(amount))
                                                : Time(std::chrono::seconds(amount % 600)));
    }

    /// Runs what is due, reads what the engine sent, accepts, and checks the invariants.
    void settle() {
        scheduler_.run_until_idle();
        if (listener_) {
            while (auto accepted = listener_->accept()) {
                connection_ = std::move(accepted);  // a new connection: its own streams
                app_sent_ = app_read_ = 0;
                last_ = {};
            }
        }
        for (const auto& segment : ip_.sent) check_sent(segment);
        if (trace_) print_trace();
        ip_.sent.clear();
        check_state();
    }

    /// NETLOOM_FUZZ_TRACE=1: one line per step (to read what a crashing input does).
    void print_trace() const {
        std::fprintf(stderr, "t=%lldms sent=%zu",
                     static_cast<long long>(scheduler_.now().count() / 1000000), ip_.sent.size());
        for (const auto& bytes : ip_.sent) {
            const auto view = wire::TcpView::parse(bytes);
            if (view)
                std::fprintf(stderr, " [flags %02x seq %u ack %u len %zu]", view->flags(),
                             view->sequence_number(), view->acknowledgment_number(),
                             view->payload().size());
        }
        if (connection_) {
            const TcpInfo i = connection_->info();
            std::fprintf(stderr, " | %s app_sent %llu acked %llu received %llu read %llu",
                         std::string(to_string(i.state)).c_str(),
                         static_cast<unsigned long long>(app_sent_),
                         static_cast<unsigned long long>(i.bytes_acked),
                         static_cast<unsigned long long>(i.bytes_received),
                         static_cast<unsigned long long>(app_read_));
        }
        std::fprintf(stderr, "\n");
    }

    void check_sent(const std::vector<std::uint8_t>& bytes) {
        const auto view = wire::TcpView::parse(bytes);
        FUZZ_CHECK(view.ok());
        FUZZ_CHECK(view->verify_checksum(ip_.checksum(), ip_.address().address, peer_));
        const auto repr = wire::TcpRepr::parse(*view);
        FUZZ_CHECK(repr.ok());
        FUZZ_CHECK(bytes.size() <= ip_.mtu() - 20);
        if (local_port_ == 0 && repr->has(flag::syn)) local_port_ = repr->source_port;
        FUZZ_CHECK(repr->source_port == local_port_ || repr->has(flag::rst));
        if (repr->has(flag::syn)) {
            if (engine_iss_ && *engine_iss_ != repr->sequence_number) ++engine_isns_;
            engine_iss_ = repr->sequence_number;
        }
        if (repr->options.timestamps) engine_ts_ = repr->options.timestamps->value;
        const std::uint32_t end =
            repr->sequence_number + static_cast<std::uint32_t>(view->sequence_length());
        if (!repr->has(flag::rst) &&
            (!engine_sent_ || static_cast<std::int32_t>(end - engine_max_end_) > 0)) {
            engine_max_end_ = end;
            engine_sent_ = true;
        }
        // Data the engine sends is what this connection's app gave it, at the same offset.
        if (!repr->payload.empty() && engine_iss_ && engine_isns_ == 0 && connection_) {
            const std::uint32_t offset = repr->sequence_number - (*engine_iss_ + 1);
            FUZZ_CHECK(std::uint64_t{offset} + repr->payload.size() <= app_sent_);
            for (std::size_t i = 0; i < repr->payload.size(); ++i)
                FUZZ_CHECK(repr->payload[i] == app_byte(offset + i));
        }
    }

    void check_state() {
        std::uint64_t connections = 0, memory = 0;
        engine_->visit_counters([&](std::string_view name, std::uint64_t value) {
            if (name == "connections_current") connections = value;
            if (name == "memory_bytes_current") memory = value;
        });
        // One 4-tuple: one connection at most (the peer's port never changes; a SYN to
        // another port of ours finds no listener).
        FUZZ_CHECK(connections <= 1);
        FUZZ_CHECK(memory == engine_->memory_in_use());
        // Buffers, plus the per-connection state and stored segments' overhead.
        FUZZ_CHECK(memory <= connections * 8 * kBuffer + 64 * 1024);
        if (!connection_) return;
        const TcpInfo info = connection_->info();
        FUZZ_CHECK(info.bytes_acked <= app_sent_);
        FUZZ_CHECK(info.bytes_in_flight <= app_sent_ - info.bytes_acked + 2);  // + SYN and FIN
        FUZZ_CHECK(info.snd_wscale <= 14 && info.rcv_wscale <= 14);
        FUZZ_CHECK(info.rcv_wnd <= kBuffer + 65535);
        if (info.mss != 0) FUZZ_CHECK(info.mss <= ip_.mtu() - 40);
        FUZZ_CHECK(info.bytes_received >= app_read_);
        FUZZ_CHECK(info.bytes_received >= last_.bytes_received);
        FUZZ_CHECK(info.bytes_acked >= last_.bytes_acked);
        FUZZ_CHECK(info.bytes_received - app_read_ <= kBuffer + 65535);
        FUZZ_CHECK(connection_->readable_bytes() <= info.bytes_received - app_read_);
        FUZZ_CHECK(connection_->send_space() <= kBuffer);
        last_ = info;
    }

    void finish() {
        if (connection_) connection_->abort();
        connection_.reset();
        listener_.reset();
        settle();
        scheduler_.advance(20min);
        settle();
        std::uint64_t connections = 1, memory = 1;
        engine_->visit_counters([&](std::string_view name, std::uint64_t value) {
            if (name == "connections_current") connections = value;
            if (name == "memory_bytes_current") memory = value;
        });
        FUZZ_CHECK(connections == 0);
        FUZZ_CHECK(memory <= 4096);
    }

    FuzzedDataProvider input_;
    const bool trace_ = std::getenv("NETLOOM_FUZZ_TRACE") != nullptr;
    testing::ManualScheduler scheduler_;
    CaptureIp ip_;
    std::unique_ptr<TcpEngine> engine_;
    std::unique_ptr<TcpListener> listener_;
    std::unique_ptr<TcpConnection> connection_;
    const Ipv4Address peer_{10, 1, 0, 1};
    std::uint16_t local_port_ = 0;
    std::uint16_t peer_port_ = kPeerPort;

    std::uint32_t peer_next_ = 0;       ///< the peer's next sequence number, as it sees it
    std::uint32_t engine_max_end_ = 0;  ///< highest sequence number the engine sent, plus one
    bool engine_sent_ = false;          ///< engine_max_end_ is set
    std::optional<std::uint32_t> engine_iss_;
    std::uint32_t engine_isns_ = 0;  ///< ISNs the engine changed to after its first
    std::uint32_t ts_value_ = 1000, engine_ts_ = 0;
    std::vector<std::uint32_t> isn_candidates_;
    std::uint64_t app_sent_ = 0, app_read_ = 0;
    TcpInfo last_;
};

}  // namespace netloom::fuzz
