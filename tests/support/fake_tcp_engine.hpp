// fake_tcp_engine.hpp — FakeTcpEngine: an in-memory loopback TcpEngine for app tests, with small
// buffers so partial sends and writable events happen, and hooks to corrupt the byte stream;
// TcpAppTestEnv, an Env that hands it to app factories.
//
// Contract: connect() to the engine's own address and a port with a listener gives a pair of
// connections (the listener's side waits in accept()); any other address fails with
// `unreachable`, a port without listener with `refused`. The handshake, every byte and every
// FIN cross after `latency` in steps of at most `chunk` bytes, bounded by the receiver's free
// `rcvbuf` (flow control); `send` takes at most the free `sndbuf`. Events are posted through
// the scheduler, never raised inside the call that caused them, as tcp.hpp requires. States
// follow RFC 9293 closely enough for apps: a FIN is acknowledged as soon as it arrives, the side
// that sent the first FIN ends in TIME-WAIT, the other in CLOSED. abort() (and destroying a
// connection, or closing one, with unread data) resets the peer: its error() becomes `reset`
// and its queues are dropped. `mangle` sees each chunk before it lands (it may flip bytes).
// Single-threaded; destroy every connection and listener before the engine.
#pragma once

#include <algorithm>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

#include "netloom/env.hpp"
#include "netloom/scheduler.hpp"
#include "netloom/tcp.hpp"

namespace netloom::testing {

struct FakeTcpOptions {
    std::size_t sndbuf = 4000;
    std::size_t rcvbuf = 3000;
    std::size_t chunk = 1400;  ///< most bytes moved per direction per step (a "segment")
    Time latency = std::chrono::microseconds(50);
    std::uint64_t info_retransmits = 0;  ///< reported in TcpInfo, to check reports carry it
};

class FakeTcpEngine final : public TcpEngine {
public:
    using Options = FakeTcpOptions;
    /// `from_client`: the byte travels from the connecting side; `offset` is the stream offset
    /// of chunk[0].
    using Mangle =
        std::function<void(bool from_client, std::uint64_t offset, std::span<std::uint8_t>)>;

    FakeTcpEngine(Scheduler& scheduler, Ipv4Address own, Options options = {})
        : scheduler_(scheduler), own_(own), options_(options) {}

    Mangle mangle;

    void start() override { started_ = true; }
    bool started() const noexcept { return started_; }

    std::unique_ptr<TcpListener> listen(std::uint16_t port, std::uint32_t backlog) override;
    std::unique_ptr<TcpConnection> connect(const TcpEndpoint& remote,
                                           const TcpConnectOptions& options) override;
    std::size_t memory_in_use() const noexcept override {
        std::size_t total = 0;
        for (const auto& weak : links_) {
            if (auto link = weak.lock()) total += link->memory();
        }
        return total;
    }
    void visit_counters(const CounterVisitor& visit) const override {
        visit("connections_current", live_links());
        visit("memory_bytes_current", memory_in_use());
        visit("connects", connects_);
    }
    /// Most connects at once whose handshake had not completed (to check pacing).
    std::size_t connecting_peak() const noexcept { return connecting_peak_; }
    std::size_t live_links() const noexcept {
        std::size_t n = 0;
        for (const auto& weak : links_) n += weak.expired() ? 0 : 1;
        return n;
    }

private:
    struct Side {
        TcpEndpoint local, remote;
        std::deque<std::uint8_t> send_queue;  ///< accepted by send(), not yet delivered
        std::deque<std::uint8_t> recv_queue;  ///< delivered, not yet read
        bool connecting = true;
        bool write_shut = false;    ///< shutdown_write/close called: FIN after the queue
        bool read_shut = false;     ///< close called: later data is discarded
        bool fin_sent = false;      ///< our FIN reached the peer (and was acknowledged)
        bool fin_received = false;  ///< the peer's FIN arrived
        bool fin_sent_first = false;
        TcpError error = TcpError::none;
        std::uint64_t delivered = 0;  ///< stream offset of the next byte to cross
        std::uint64_t bytes_sent = 0, bytes_received = 0;
        std::function<void(std::uint32_t)> callback;
        std::uint32_t pending_events = 0;
        bool event_posted = false;
        bool attached = true;  ///< a TcpConnection object exists for this side
    };

    struct Link {
        Side sides[2];  // 0: the connecting side, 1: the listener's side
        bool step_scheduled = false;
        std::size_t memory() const noexcept {
            return sizeof(Link) + sides[0].send_queue.size() + sides[0].recv_queue.size() +
                   sides[1].send_queue.size() + sides[1].recv_queue.size();
        }
    };

    struct ListenerState {
        std::deque<std::unique_ptr<TcpConnection>> ready;
        std::function<void()> on_acceptable;
        bool posted = false;
    };

    class Connection;
    class Listener;

    static TcpState state_of(const Side& s) noexcept {
        if (s.error != TcpError::none) return TcpState::closed;
        if (s.connecting) return TcpState::syn_sent;
        if (s.fin_sent && s.fin_received) {
            return s.fin_sent_first ? TcpState::time_wait : TcpState::closed;
        }
        if (s.fin_sent) return TcpState::fin_wait_2;
        if (s.write_shut) return s.fin_received ? TcpState::last_ack : TcpState::fin_wait_1;
        if (s.fin_received) return TcpState::close_wait;
        return TcpState::established;
    }

    void raise(const std::shared_ptr<Link>& link, int index, std::uint32_t events) {
        Side& side = link->sides[index];
        side.pending_events |= events;
        if (side.event_posted) return;
        side.event_posted = true;
        std::weak_ptr<Link> weak = link;
        scheduler_.post([weak, index] {
            auto alive = weak.lock();
            if (!alive) return;
            Side& s = alive->sides[index];
            s.event_posted = false;
            const std::uint32_t bits = std::exchange(s.pending_events, 0);
            // A copy: the callback may replace itself or destroy the connection.
            auto callback = s.callback;
            if (callback && bits != 0) callback(bits);
        });
    }

    void schedule_step(const std::shared_ptr<Link>& link) {
        if (link->step_scheduled) return;
        link->step_scheduled = true;
        std::weak_ptr<Link> weak = link;
        scheduler_.add_timer(scheduler_.now() + options_.latency, [this, weak] {
            if (auto alive = weak.lock()) step(alive);
        });
    }

    // Moves one chunk (and a FIN when the queue is empty) each way, then re-arms if needed.
    void step(const std::shared_ptr<Link>& link) {
        link->step_scheduled = false;
        bool more = false;
        for (int from = 0; from < 2; ++from) {
            Side& s = link->sides[from];
            Side& peer = link->sides[1 - from];
            if (s.error != TcpError::none || peer.error != TcpError::none) continue;
            const std::size_t room =
                options_.rcvbuf - std::min(options_.rcvbuf, peer.recv_queue.size());
            const std::size_t n = std::min({options_.chunk, s.send_queue.size(), room});
            if (n > 0) {
                std::vector<std::uint8_t> bytes(s.send_queue.begin(), s.send_queue.begin() + n);
                s.send_queue.erase(s.send_queue.begin(), s.send_queue.begin() + n);
                if (mangle) mangle(from == 0, s.delivered, bytes);
                s.delivered += n;
                if (!peer.read_shut) {
                    peer.recv_queue.insert(peer.recv_queue.end(), bytes.begin(), bytes.end());
                    peer.bytes_received += n;
                    raise(link, 1 - from, kTcpReadable);
                }
                raise(link, from, kTcpWritable);
            }
            if (s.send_queue.empty() && s.write_shut && !s.fin_sent) {
                s.fin_sent = true;
                s.fin_sent_first = !s.fin_received;
                peer.fin_received = true;
                raise(link, 1 - from, kTcpReadable | (tcp_done(peer) ? kTcpClosed : 0u));
                if (tcp_done(s)) raise(link, from, kTcpClosed);
            }
            more = more || !s.send_queue.empty() || (s.write_shut && !s.fin_sent);
        }
        // Blocked only by a full receive buffer: the reader's recv() re-arms the step.
        if (more && can_move(*link)) schedule_step(link);
    }

    bool can_move(const Link& link) const noexcept {
        for (int from = 0; from < 2; ++from) {
            const Side& s = link.sides[from];
            const Side& peer = link.sides[1 - from];
            if (s.error != TcpError::none || peer.error != TcpError::none) continue;
            if (!s.send_queue.empty() && peer.recv_queue.size() < options_.rcvbuf) return true;
            if (s.send_queue.empty() && s.write_shut && !s.fin_sent) return true;
        }
        return false;
    }

    static bool tcp_done(const Side& s) noexcept {
        const TcpState st = state_of(s);
        return st == TcpState::closed || st == TcpState::time_wait;
    }

    // Drops both sides' data; the peer learns of it as a reset (RFC 9293 3.10.7.4).
    void reset_from(const std::shared_ptr<Link>& link, int index, TcpError own_error) {
        Side& s = link->sides[index];
        Side& peer = link->sides[1 - index];
        s.error = own_error;
        s.send_queue.clear();
        s.recv_queue.clear();
        if (peer.error == TcpError::none && !tcp_done(peer)) {
            peer.error = TcpError::reset;
            peer.send_queue.clear();
            peer.recv_queue.clear();
            raise(link, 1 - index, kTcpError);
        }
    }

    Scheduler& scheduler_;
    Ipv4Address own_;
    Options options_;
    bool started_ = false;
    std::map<std::uint16_t, std::shared_ptr<ListenerState>> listeners_;
    std::vector<std::weak_ptr<Link>> links_;
    std::uint16_t next_port_ = 40000;
    std::uint64_t connects_ = 0;
    std::size_t connecting_now_ = 0, connecting_peak_ = 0;
};

class FakeTcpEngine::Connection final : public TcpConnection {
public:
    Connection(FakeTcpEngine& engine, std::shared_ptr<Link> link, int index)
        : engine_(engine), link_(std::move(link)), index_(index) {}
    ~Connection() override {
        Side& s = side();
        s.callback = nullptr;
        s.attached = false;
        // tcp.hpp: destroying an open connection closes it, or resets it if data is unread.
        if (s.error == TcpError::none && !tcp_done(s)) {
            if (!s.recv_queue.empty()) {
                engine_.reset_from(link_, index_, TcpError::aborted);
            } else {
                s.write_shut = s.read_shut = true;
                engine_.schedule_step(link_);
            }
        }
    }

    TcpEndpoint local() const noexcept override { return side().local; }
    TcpEndpoint remote() const noexcept override { return side().remote; }
    TcpState state() const noexcept override { return state_of(side()); }
    TcpError error() const noexcept override { return side().error; }

    std::size_t send(std::span<const std::uint8_t> data) override {
        Side& s = side();
        if (s.error != TcpError::none || s.write_shut || s.connecting) return 0;
        const std::size_t n = std::min(data.size(), send_space());
        s.send_queue.insert(s.send_queue.end(), data.begin(), data.begin() + n);
        s.bytes_sent += n;
        if (n > 0) engine_.schedule_step(link_);
        return n;
    }
    std::size_t send_space() const noexcept override {
        const Side& s = side();
        if (s.error != TcpError::none || s.write_shut || s.connecting) return 0;
        return engine_.options_.sndbuf - std::min(engine_.options_.sndbuf, s.send_queue.size());
    }
    std::size_t recv(std::span<std::uint8_t> out) override {
        Side& s = side();
        const std::size_t n = std::min(out.size(), s.recv_queue.size());
        std::copy_n(s.recv_queue.begin(), n, out.begin());
        s.recv_queue.erase(s.recv_queue.begin(), s.recv_queue.begin() + n);
        if (n > 0) engine_.schedule_step(link_);  // room for the peer's queued bytes
        return n;
    }
    std::size_t readable_bytes() const noexcept override { return side().recv_queue.size(); }
    bool eof() const noexcept override { return side().fin_received && side().recv_queue.empty(); }

    void shutdown_write() override {
        Side& s = side();
        if (s.error != TcpError::none || s.write_shut) return;
        s.write_shut = true;
        engine_.schedule_step(link_);
    }
    void close() override {
        Side& s = side();
        if (s.error != TcpError::none) return;
        if (!s.recv_queue.empty()) {  // RFC 2525 2.17: unread data on close is a reset
            engine_.reset_from(link_, index_, TcpError::aborted);
            return;
        }
        s.read_shut = true;
        shutdown_write();
    }
    void abort() override {
        if (side().error != TcpError::none) return;
        engine_.reset_from(link_, index_, TcpError::aborted);
    }
    void set_nodelay(bool) override {}

    void on_event(std::function<void(std::uint32_t)> callback) override {
        side().callback = std::move(callback);
    }
    TcpInfo info() const override {
        const Side& s = side();
        TcpInfo info;
        info.state = state_of(s);
        info.mss = static_cast<std::uint32_t>(engine_.options_.chunk);
        info.bytes_sent = s.bytes_sent;
        info.bytes_received = s.bytes_received;
        info.bytes_acked = link_->sides[1 - index_].bytes_received;  // delivered counts as acked
        info.retransmits = engine_.options_.info_retransmits;
        return info;
    }

private:
    Side& side() const noexcept { return link_->sides[index_]; }

    FakeTcpEngine& engine_;
    std::shared_ptr<Link> link_;
    int index_;
};

class FakeTcpEngine::Listener final : public TcpListener {
public:
    Listener(FakeTcpEngine& engine, std::uint16_t port, std::shared_ptr<ListenerState> state)
        : engine_(engine), port_(port), state_(std::move(state)) {}
    ~Listener() override { engine_.listeners_.erase(port_); }  // queued connections die too
    std::uint16_t port() const noexcept override { return port_; }
    std::unique_ptr<TcpConnection> accept() override {
        if (state_->ready.empty()) return nullptr;
        auto connection = std::move(state_->ready.front());
        state_->ready.pop_front();
        return connection;
    }
    void on_acceptable(std::function<void()> callback) override {
        state_->on_acceptable = std::move(callback);
    }

private:
    FakeTcpEngine& engine_;
    std::uint16_t port_;
    std::shared_ptr<ListenerState> state_;
};

inline std::unique_ptr<TcpListener> FakeTcpEngine::listen(std::uint16_t port,
                                                          std::uint32_t /*backlog*/) {
    if (listeners_.count(port) != 0) {
        throw std::runtime_error("port " + std::to_string(port) + " is already listening");
    }
    auto state = std::make_shared<ListenerState>();
    listeners_[port] = state;
    return std::make_unique<Listener>(*this, port, state);
}

inline std::unique_ptr<TcpConnection> FakeTcpEngine::connect(const TcpEndpoint& remote,
                                                             const TcpConnectOptions& options) {
    ++connects_;
    connecting_peak_ = std::max(connecting_peak_, ++connecting_now_);
    auto link = std::make_shared<Link>();
    links_.push_back(link);
    std::erase_if(links_, [](const std::weak_ptr<Link>& w) { return w.expired(); });
    const std::uint16_t port = options.local_port != 0 ? options.local_port : next_port_++;
    link->sides[0].local = {own_, port};
    link->sides[0].remote = remote;
    link->sides[1].local = remote;
    link->sides[1].remote = {own_, port};
    link->sides[1].connecting = false;
    link->sides[1].attached = false;
    auto client = std::make_unique<Connection>(*this, link, 0);
    std::weak_ptr<Link> weak = link;
    // The handshake takes one round trip.
    scheduler_.add_timer(scheduler_.now() + 2 * options_.latency, [this, weak, remote] {
        --connecting_now_;
        auto alive = weak.lock();
        if (!alive || alive->sides[0].error != TcpError::none) return;
        Side& client_side = alive->sides[0];
        const auto listener = listeners_.find(remote.port);
        if (remote.address != own_ || listener == listeners_.end()) {
            client_side.error = remote.address != own_ ? TcpError::unreachable : TcpError::refused;
            raise(alive, 0, kTcpError);
            return;
        }
        client_side.connecting = false;
        raise(alive, 0, kTcpConnected | kTcpWritable);
        alive->sides[1].attached = true;
        std::shared_ptr<ListenerState> state = listener->second;
        state->ready.push_back(std::make_unique<Connection>(*this, alive, 1));
        if (!state->posted) {
            state->posted = true;
            std::weak_ptr<ListenerState> weak_state = state;
            scheduler_.post([weak_state] {
                auto s = weak_state.lock();
                if (!s) return;
                s->posted = false;
                auto callback = s->on_acceptable;
                if (callback && !s->ready.empty()) callback();
            });
        }
    });
    return client;
}

/// An Env for app factories: the scheduler and a TCP engine (no IP layer).
class TcpAppTestEnv final : public Env {
public:
    TcpAppTestEnv(Scheduler& scheduler, TcpEngine* tcp) : scheduler_(scheduler), tcp_(tcp) {}
    std::shared_ptr<spdlog::logger> logger(std::string_view component) override {
        return std::make_shared<spdlog::logger>(std::string(component),
                                                std::make_shared<spdlog::sinks::null_sink_mt>());
    }
    Scheduler& scheduler() override { return scheduler_; }
    Checksum& checksum() override { throw std::logic_error("apps do not use a checksum"); }
    const std::string& stack_name() const override { return name_; }
    std::shared_ptr<NetDevice> make_device(const Config&) override {
        throw std::logic_error("apps build no device");
    }
    TcpEngine& tcp() override {
        if (!tcp_) throw std::logic_error("this stack has no TCP engine");
        return *tcp_;
    }

private:
    Scheduler& scheduler_;
    TcpEngine* tcp_;
    std::string name_ = "test";
};

}  // namespace netloom::testing
