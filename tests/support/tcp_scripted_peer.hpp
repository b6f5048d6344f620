// tcp_scripted_peer.hpp — ScriptedPeer: a minimal TCP client standing in for a node's TCP engine
// (registered as the IP layer's TCP transport), for tests that need a peer behaving in one
// exact way: a small embedded stack offering a 1 KiB window, or a receiver whose window
// shrinks to a few bytes. It speaks no options but MSS (no scaling, SACK or timestamps).
//
// Contract: connect() sends a SYN offering `syn_window`; the SYN-ACK is answered with an ACK
// offering the current window. In-order data inside the offered window is taken (the part past
// the right edge is dropped) and acknowledged `ack_delay` later (0: at once); out-of-order data
// gets an immediate duplicate ACK. The window offered is `buffer` minus the bytes not yet
// "read" (`reading`: the application reads everything at once), never moving the right edge
// left. Every data segment received is recorded with its arrival time.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <vector>

#include "netloom/ip.hpp"
#include "netloom/scheduler.hpp"
#include "netloom/wire/tcp.hpp"
#include "tcp_segment_out.hpp"

namespace netloom::testing {

class ScriptedPeer final : public Transport {
public:
    struct Arrival {
        Time at;
        std::uint32_t length;
    };

    ScriptedPeer(IpLayer& ip, Scheduler& scheduler) : ip_(ip), scheduler_(scheduler) {
        ip_.register_transport(IpProtocol::tcp, this);
    }
    ~ScriptedPeer() override { ip_.register_transport(IpProtocol::tcp, nullptr); }
    ScriptedPeer(const ScriptedPeer&) = delete;
    ScriptedPeer& operator=(const ScriptedPeer&) = delete;

    std::uint16_t syn_window = 65535;
    std::uint32_t buffer = 1024;  ///< receive buffer: the window when everything was read
    bool reading = true;
    Time ack_delay{0};

    bool established = false;
    std::uint64_t received = 0;  ///< in-order bytes taken
    std::uint32_t unread = 0;
    std::vector<Arrival> arrivals;

    void connect(Ipv4Address remote, std::uint16_t remote_port, std::uint16_t local_port) {
        remote_ = remote;
        remote_port_ = remote_port;
        local_port_ = local_port;
        wire::TcpRepr syn = base(wire::tcp_flag::syn);
        syn.sequence_number = iss_;
        syn.window = syn_window;
        syn.options.mss = 1460;
        send(syn);
    }

    /// The application reads what it had left unread (the window opens again).
    void read_all() {
        unread = 0;
        send_ack();
    }

    void ip_input(const IpMeta& meta, Packet&& packet) override {
        auto view = wire::TcpView::parse(packet.bytes());
        if (!view || meta.source != remote_) return;
        auto repr = wire::TcpRepr::parse(*view);
        if (!repr || repr->source_port != remote_port_ || repr->destination_port != local_port_)
            return;
        if (repr->has(wire::tcp_flag::syn) && repr->has(wire::tcp_flag::ack)) {
            rcv_nxt_ = repr->sequence_number + 1;
            right_edge_ = rcv_nxt_;
            established = true;
            send_ack();
            return;
        }
        if (!established || repr->payload.empty()) return;
        arrivals.push_back({scheduler_.now(), static_cast<std::uint32_t>(repr->payload.size())});
        if (repr->sequence_number != rcv_nxt_) {
            send_ack();  // out of order or a retransmission: a duplicate ACK at once
            return;
        }
        const std::uint32_t room = right_edge_ - rcv_nxt_;
        const auto taken = std::min<std::uint32_t>(room, repr->payload.size());
        rcv_nxt_ += taken;
        received += taken;
        if (!reading) unread += taken;
        if (ack_delay == Time{0}) {
            send_ack();
        } else {
            scheduler_.add_timer(scheduler_.now() + ack_delay, [this] { send_ack(); });
        }
    }
    void ip_error(const IcmpErrorReport&) override {}

private:
    wire::TcpRepr base(std::uint8_t flags) const {
        wire::TcpRepr repr;
        repr.source_port = local_port_;
        repr.destination_port = remote_port_;
        repr.flags = flags;
        return repr;
    }
    void send_ack() {
        wire::TcpRepr ack = base(wire::tcp_flag::ack);
        ack.sequence_number = iss_ + 1;
        ack.acknowledgment_number = rcv_nxt_;
        const std::uint32_t free = buffer > unread ? buffer - unread : 0;
        // Never move the right edge left (RFC 9293 3.8.6.2.2): offer at least what remains.
        const std::uint32_t offered = right_edge_ - rcv_nxt_;
        const std::uint32_t window = std::min<std::uint32_t>(std::max(free, offered), 65535);
        ack.window = static_cast<std::uint16_t>(window);
        right_edge_ = rcv_nxt_ + window;
        send(ack);
    }
    void send(const wire::TcpRepr& repr) { send_segment(ip_, remote_, repr); }

    IpLayer& ip_;
    Scheduler& scheduler_;
    Ipv4Address remote_;
    std::uint16_t remote_port_ = 0, local_port_ = 0;
    std::uint32_t iss_ = 1000;
    std::uint32_t rcv_nxt_ = 0;
    std::uint32_t right_edge_ = 0;
};

}  // namespace netloom::testing
