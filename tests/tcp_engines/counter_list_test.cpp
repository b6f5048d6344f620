// Both engines report exactly the counters of the one list (tcp_common/engine_counters.hpp), in
// its order, and count a segment dropped by the shared input checks under its drop reason.
#include <catch2/catch.hpp>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "engine.hpp"
#include "ip_test_support.hpp"
#include "netloom/tcp_common/drop_reason.hpp"
#include "netloom/tcp_common/engine_counters.hpp"
#include "shell/engine.hpp"

using namespace netloom;
using namespace netloom::testing;

namespace {

std::vector<std::string> reported_names(const TcpEngine& engine) {
    std::vector<std::string> names;
    engine.visit_counters([&](std::string_view name, std::uint64_t) { names.emplace_back(name); });
    return names;
}

/// Builds the engine a test case names, tcp_utcp or tcp_classic, on `host` (not started: the
/// tests hand it segments directly).
std::unique_ptr<TcpEngine> make_engine(const std::string& which, HostUnderTest& host) {
    const Config section = Config::load_string("{}", "tcp.yaml");
    if (which == "tcp_utcp")
        return std::make_unique<utcp::Engine>(utcp::read_engine_config(section), *host.layer,
                                              host.scheduler, host.env.logger("tcp"));
    return std::make_unique<classic::Engine>(classic::read_engine_config(section), *host.layer,
                                             host.scheduler, host.env.logger("tcp"));
}

const Ipv4Address kLocal = ip4("10.0.0.2");  // HostUnderTest's
const Ipv4Address kPeer = ip4("10.0.0.1");

/// A SYN from the peer to port 80, checksum right; `edit` changes the header first.
template <typename Edit>
Packet syn_segment(HostUnderTest& host, Ipv4Address destination, Edit edit) {
    wire::TcpRepr repr;
    repr.source_port = 40000;
    repr.destination_port = 80;
    repr.sequence_number = 1000;
    repr.flags = wire::tcp_flag::syn;
    repr.window = 65535;
    repr.options.mss = 1460;
    edit(repr);
    Packet packet = Packet::allocate(repr.buffer_len());
    REQUIRE(repr.emit(packet.append(repr.buffer_len()), kPeer, destination,
                      host.layer->checksum()) > 0);
    return packet;
}

}  // namespace

TEST_CASE("the counter list names each counter once", "[tcp_engines][counters]") {
    const std::set<std::string_view> unique(tcp::kCounterNames.begin(), tcp::kCounterNames.end());
    CHECK(unique.size() == tcp::kCounterNames.size());
}

TEST_CASE("both engines report exactly the names of the one counter list",
          "[tcp_engines][counters]") {
    const std::vector<std::string> expected(tcp::kCounterNames.begin(), tcp::kCounterNames.end());
    for (const std::string which : {"tcp_utcp", "tcp_classic"}) {
        INFO(which);
        HostUnderTest host;
        const auto engine = make_engine(which, host);
        CHECK(reported_names(*engine) == expected);
    }
}

TEST_CASE("both engines count each dropped segment under its drop reason",
          "[tcp_engines][counters]") {
    struct Case {
        const char* what;
        tcp::DropReason reason;
    };
    const Case cases[] = {
        {"shorter than a header", tcp::DropReason::malformed},
        {"bad checksum", tcp::DropReason::bad_checksum},
        {"option length 0", tcp::DropReason::bad_options},
        {"source port 0", tcp::DropReason::port_zero},
        {"to the broadcast address", tcp::DropReason::not_unicast},
        {"SYN and FIN", tcp::DropReason::syn_fin},
    };
    for (const std::string which : {"tcp_utcp", "tcp_classic"}) {
        HostUnderTest host;
        const auto engine = make_engine(which, host);
        auto& transport = dynamic_cast<Transport&>(*engine);
        const auto listener = engine->listen(80);
        for (const Case& c : cases) {
            INFO(which << ": " << c.what);
            Ipv4Address destination = kLocal;
            Packet packet;
            switch (c.reason) {
                case tcp::DropReason::malformed:
                    packet = Packet::copy_of(std::vector<std::uint8_t>(10, 0));
                    break;
                case tcp::DropReason::bad_checksum:
                    packet = syn_segment(host, kLocal, [](wire::TcpRepr&) {});
                    packet.bytes()[4] ^= 1;  // the sequence number, after the checksum
                    break;
                case tcp::DropReason::bad_options:
                    packet = syn_segment(host, kLocal, [](wire::TcpRepr&) {});
                    packet.bytes()[21] = 0;  // the MSS option's length
                    packet.set_flag(Packet::kChecksumVerified);
                    break;
                case tcp::DropReason::port_zero:
                    packet = syn_segment(host, kLocal, [](wire::TcpRepr& r) { r.source_port = 0; });
                    break;
                case tcp::DropReason::not_unicast:
                    destination = ip4("10.0.0.255");
                    packet = syn_segment(host, destination, [](wire::TcpRepr&) {});
                    break;
                case tcp::DropReason::syn_fin:
                    packet = syn_segment(host, kLocal,
                                         [](wire::TcpRepr& r) { r.flags |= wire::tcp_flag::fin; });
                    break;
            }
            const std::string_view name =
                tcp::kCounterNames[static_cast<std::size_t>(tcp::counter_for(c.reason))];
            const std::uint64_t before = counter(*engine, name);
            const std::uint64_t sent_before = counter(*engine, "segments_sent");
            IpMeta meta;
            meta.source = kPeer;
            meta.destination = destination;
            transport.ip_input(meta, std::move(packet));
            host.scheduler.run_until_idle();
            CHECK(counter(*engine, name) == before + 1);
            CHECK(counter(*engine, "segments_sent") == sent_before);  // dropped, not answered
            CHECK(counter(*engine, "connections_current") == 0);
        }
        CHECK(counter(*engine, "segments_received") == std::size(cases));
    }
}
