// harness.hpp — two tcp_classic engines on real ipv4 layers joined by a `wire` link, optionally
// through an `impair` decorator on the client (loss and reordering both ways), driven by a
// ManualScheduler in virtual time. Each node's device sits behind a FilterDevice whose `drop`
// predicate lets a test lose chosen frames. Helpers to pump bytes through a connection and to
// send a hand-made segment from a node's IP layer (bypassing its engine).
#pragma once

#include <catch2/catch.hpp>
#include <chrono>
#include <memory>
#include <string>

#include "engine.hpp"
#include "filter_device.hpp"
#include "impair_device.hpp"
#include "ip_test_support.hpp"
#include "wire_device.hpp"

namespace netloom::classic::test {

using namespace netloom::testing;
using namespace std::chrono_literals;

/// A TCP segment in an Ethernet frame (IPv4 without options, as the stacks send it).
struct FrameTcp {
    bool is_tcp = false;
    std::uint16_t ip_length = 0;
    std::uint32_t seq = 0;
    std::uint8_t flags = 0;
    std::size_t payload = 0;
};
inline FrameTcp parse_frame(std::span<const std::uint8_t> f) {
    FrameTcp t;
    if (f.size() < 14 + 20 + 20 || f[12] != 0x08 || f[13] != 0x00 || f[23] != 6) return t;
    const std::size_t ihl = (f[14] & 0x0f) * 4u;
    t.ip_length = static_cast<std::uint16_t>(f[16] << 8 | f[17]);
    const std::size_t tcp = 14 + ihl;
    if (f.size() < tcp + 20) return t;
    t.is_tcp = true;
    t.seq = std::uint32_t{f[tcp + 4]} << 24 | std::uint32_t{f[tcp + 5]} << 16 |
            std::uint32_t{f[tcp + 6]} << 8 | f[tcp + 7];
    t.flags = f[tcp + 13];
    const std::size_t data_offset = (f[tcp + 12] >> 4) * 4u;
    t.payload = t.ip_length - ihl - data_offset;
    return t;
}

struct Node {
    Node(ManualScheduler& scheduler, const std::string& link, const char* mac_text,
         const std::string& address, const std::string& tcp_yaml,
         const drivers::ImpairParameters* impair = nullptr, std::uint64_t seed = 1)
        : wire(std::make_shared<drivers::WireDevice>(options(link, mac_text), scheduler)),
          filter(std::make_shared<FilterDevice>(wrap(wire, scheduler, impair, seed))),
          device(filter),
          env(scheduler, test_checksum(), *device),
          layer(make_layer(env, "address: " + address + "\n")),
          engine(read_engine_config(Config::load_string(tcp_yaml, "tcp.yaml")), *layer, scheduler,
                 env.logger("tcp")) {}

    static drivers::WireOptions options(const std::string& link, const char* mac_text) {
        drivers::WireOptions o;
        o.link = link;
        o.mac = mac(mac_text);
        return o;
    }
    static std::shared_ptr<NetDevice> wrap(std::shared_ptr<NetDevice> inner, Scheduler& scheduler,
                                           const drivers::ImpairParameters* impair,
                                           std::uint64_t seed) {
        if (!impair) return inner;
        drivers::ImpairOptions o;
        o.seed = seed;
        o.parameters = *impair;
        return std::make_shared<drivers::ImpairDevice>(o, std::move(inner), scheduler);
    }

    std::shared_ptr<drivers::WireDevice> wire;
    std::shared_ptr<FilterDevice> filter;
    std::shared_ptr<NetDevice> device;
    IpTestEnv env;
    std::unique_ptr<ip::Ipv4Layer> layer;
    Engine engine;
};

struct Net {
    explicit Net(const std::string& link, const std::string& server_yaml = "{}",
                 const std::string& client_yaml = "{}",
                 const drivers::ImpairParameters* client_impair = nullptr, std::uint64_t seed = 1)
        : client(scheduler, link, "02:00:00:00:00:0a", "10.1.0.1/24", client_yaml, client_impair,
                 seed),
          server(scheduler, link, "02:00:00:00:00:0b", "10.1.0.2/24", server_yaml) {
        client.layer->start();
        server.layer->start();
        client.engine.start();
        server.engine.start();
        scheduler.run_until_idle();
    }
    /// Runs the network until `done()` or `limit` of virtual time passed.
    template <typename Predicate>
    bool run_until(Predicate done, Time limit = 60s) {
        const Time end = scheduler.now() + limit;
        while (!done()) {
            scheduler.run_until_idle();
            if (done()) break;
            if (scheduler.now() >= end) return false;
            scheduler.advance(1ms);
        }
        return true;
    }
    ManualScheduler scheduler;
    Node client, server;
};

inline const Ipv4Address kServer = ip4("10.1.0.2");
inline const Ipv4Address kClient = ip4("10.1.0.1");

inline std::uint64_t counter_of(const CounterSource& source, std::string_view name) {
    std::uint64_t value = UINT64_MAX;
    source.visit_counters([&](std::string_view n, std::uint64_t v) {
        if (n == name) value = v;
    });
    return value;
}

inline Bytes generated(std::size_t size, std::uint32_t seed) {
    Bytes bytes(size);
    std::uint32_t x = seed * 2654435761u + 1;
    for (auto& b : bytes) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        b = static_cast<std::uint8_t>(x);
    }
    return bytes;
}

/// Pumps `data` into `connection` (then half-closes) and drains what arrives into `received`.
struct Pump {
    TcpConnection& connection;
    const Bytes& data;
    std::size_t sent = 0;
    Bytes received;
    bool shut = false;
    bool reading = true;
    void step() {
        while (sent < data.size()) {
            const std::size_t n = connection.send(std::span(data).subspan(sent));
            if (n == 0) break;
            sent += n;
        }
        if (sent == data.size() && !shut) {
            connection.shutdown_write();
            shut = true;
        }
        std::uint8_t buffer[16384];
        while (reading)
            if (std::size_t n = connection.recv(buffer)) {
                received.insert(received.end(), buffer, buffer + n);
            } else {
                break;
            }
    }
};

/// Emits `repr` (checksum filled) from `from`'s IP layer to `to`, as a peer's engine would.
inline void inject(Node& from, Ipv4Address to, const wire::TcpRepr& repr) {
    Packet packet = Packet::allocate(repr.buffer_len());
    auto bytes = packet.append(repr.buffer_len());
    REQUIRE(repr.emit(bytes, from.layer->address().address, to, from.layer->checksum()) > 0);
    from.layer->output(to, IpProtocol::tcp, std::move(packet));
}

inline wire::TcpRepr segment_to(std::uint16_t source_port, std::uint16_t destination_port,
                                std::uint8_t flags, std::uint32_t seq, std::uint32_t ack = 0) {
    wire::TcpRepr repr;
    repr.source_port = source_port;
    repr.destination_port = destination_port;
    repr.sequence_number = seq;
    repr.acknowledgment_number = ack;
    repr.flags = flags;
    repr.window = 4096;
    return repr;
}

}  // namespace netloom::classic::test
