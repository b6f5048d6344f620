// tcp_raw_client.hpp — RawTcpClient: a hand-driven TCP client standing in for a node's TCP
// engine (registered as its IP layer's TCP transport), for segment-level tests of an engine
// through its real IP layer: the test opens a connection by hand, sends exactly the segments
// it wants (data, RSTs, stale timestamps) and checks every segment the engine answers with.
//
// Contract: open() sends a SYN (MSS 1460, timestamps if asked; no scaling, no SACK) and answers
// the SYN-ACK the engine sends back with an ACK; `snd_nxt` / `rcv_nxt` then track the
// connection, `ts_val` is the TSval the client puts on its segments (when timestamps are on),
// and `received` holds every segment the engine sent (payload size kept, not the bytes).
// send_data() sends `length` bytes at `seq` (default: SND.NXT, which it advances).
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "netloom/ip.hpp"
#include "netloom/wire/tcp.hpp"
#include "tcp_segment_out.hpp"

namespace netloom::testing {

class RawTcpClient final : public Transport {
public:
    struct Received {
        std::uint32_t seq = 0, ack = 0;
        std::uint8_t flags = 0;
        std::uint16_t window = 0;
        std::uint32_t length = 0;
        std::optional<wire::TcpTimestamps> timestamps;
        bool has(std::uint8_t flag) const noexcept { return (flags & flag) != 0; }
    };

    explicit RawTcpClient(IpLayer& ip) : ip_(ip) { ip_.register_transport(IpProtocol::tcp, this); }
    ~RawTcpClient() override { ip_.register_transport(IpProtocol::tcp, nullptr); }
    RawTcpClient(const RawTcpClient&) = delete;
    RawTcpClient& operator=(const RawTcpClient&) = delete;

    std::vector<Received> received;
    std::uint32_t snd_nxt = 5000, rcv_nxt = 0;
    bool timestamps = false;
    std::uint32_t ts_val = 1000;

    /// Sends the SYN; the ACK completing the handshake follows the engine's SYN-ACK.
    void open(Ipv4Address remote, std::uint16_t remote_port, std::uint16_t local_port,
              bool with_timestamps) {
        remote_ = remote;
        remote_port_ = remote_port;
        local_port_ = local_port;
        timestamps = with_timestamps;
        wire::TcpRepr syn = base(wire::tcp_flag::syn, snd_nxt, 0);
        syn.options.mss = 1460;
        if (timestamps) syn.options.timestamps = wire::TcpTimestamps{ts_val, 0};
        ++snd_nxt;
        send(syn);
    }

    void send_data(std::uint32_t length, std::optional<std::uint32_t> seq = std::nullopt,
                   std::optional<std::uint32_t> tsval = std::nullopt) {
        const std::uint32_t at = seq.value_or(snd_nxt);
        wire::TcpRepr repr = base(wire::tcp_flag::ack | wire::tcp_flag::psh, at, rcv_nxt);
        payload_.assign(length, 0x61);
        repr.payload = payload_;
        if (timestamps) repr.options.timestamps = wire::TcpTimestamps{tsval.value_or(ts_val), 0};
        if (!seq) snd_nxt += length;
        send(repr);
    }

    /// A segment with only these flags (RST, ACK...) at `seq`.
    void send_control(std::uint8_t flags, std::uint32_t seq) {
        wire::TcpRepr repr = base(flags, seq, rcv_nxt);
        if (timestamps && !(flags & wire::tcp_flag::rst))
            repr.options.timestamps = wire::TcpTimestamps{ts_val, 0};
        send(repr);
    }

    /// Segments received with the ACK flag and no payload (our data's acknowledgments).
    std::size_t pure_acks() const {
        std::size_t n = 0;
        for (const Received& r : received)
            if (r.length == 0 && r.flags == wire::tcp_flag::ack) ++n;
        return n;
    }

    void ip_input(const IpMeta& meta, Packet&& packet) override {
        auto view = wire::TcpView::parse(packet.bytes());
        if (!view || meta.source != remote_) return;
        auto repr = wire::TcpRepr::parse(*view);
        if (!repr || repr->destination_port != local_port_) return;
        received.push_back({repr->sequence_number, repr->acknowledgment_number, repr->flags,
                            repr->window, static_cast<std::uint32_t>(repr->payload.size()),
                            repr->options.timestamps});
        if (repr->has(wire::tcp_flag::syn) && repr->has(wire::tcp_flag::ack)) {
            rcv_nxt = repr->sequence_number + 1;
            send_control(wire::tcp_flag::ack, snd_nxt);
        }
    }
    void ip_error(const IcmpErrorReport&) override {}

private:
    wire::TcpRepr base(std::uint8_t flags, std::uint32_t seq, std::uint32_t ack) const {
        wire::TcpRepr repr = segment_to(local_port_, remote_port_, flags, seq, ack);
        repr.window = 65535;
        return repr;
    }
    void send(const wire::TcpRepr& repr) { send_segment(ip_, remote_, repr); }

    IpLayer& ip_;
    Ipv4Address remote_;
    std::uint16_t remote_port_ = 0, local_port_ = 0;
    std::vector<std::uint8_t> payload_;
};

}  // namespace netloom::testing
