// tap: needs root and /dev/net/tun; skipped (with a warning) otherwise. Creates a TAP interface,
// checks MTU and up state as the kernel reports them, and moves one frame each way.
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <catch2/catch.hpp>

#include "driver_test_support.hpp"
#include "skip.hpp"

using namespace netloom;
using namespace netloom::testing;
using drivers::TapDevice;
using drivers::TapOptions;

namespace {

const MacAddress kNetloom = mac_of("02:00:00:00:00:0a");

// Non-empty when this process cannot run the TAP tests: why, as a skip kind and a message.
struct TapUnavailable {
    netloom::test::SkipKind kind = netloom::test::SkipKind::root;
    std::string message;
    bool empty() const { return message.empty(); }
};

TapUnavailable tap_unavailable() {
    using netloom::test::SkipKind;
    if (::geteuid() != 0) return {SkipKind::root, "the TAP tests need root"};
    if (::access("/dev/net/tun", R_OK | W_OK) != 0) {
        return {SkipKind::device, "the TAP tests need a usable /dev/net/tun"};
    }
    return {};
}

std::string sysfs(const std::string& name, const std::string& entry) {
    std::ifstream in("/sys/class/net/" + name + "/" + entry);
    std::string value;
    in >> value;
    return value;
}

std::uint64_t stat(const std::string& name, const std::string& counter) {
    return std::stoull(sysfs(name, "statistics/" + counter));
}

std::string test_ifname() {
    return "nlt" + std::to_string(::getpid() % 100000);
}

}  // namespace

TEST_CASE("tap: creates an interface, sets its MTU, brings it up, moves frames both ways") {
    if (auto why = tap_unavailable(); !why.empty()) {
        netloom::test::record_skip(why.kind, why.message);
        return;
    }
    TapOptions o;
    o.name = test_ifname();
    o.mac = kNetloom;
    o.mtu = 1400;
    std::optional<TapDevice> device;
    try {
        device.emplace(o);
    } catch (const std::runtime_error& e) {
        NETLOOM_SKIP(device, "cannot create a TAP interface here: " << e.what());
    }
    CHECK(sysfs(o.name, "mtu") == "1400");
    const auto flags = std::stoul(sysfs(o.name, "flags"), nullptr, 16);
    CHECK((flags & IFF_UP) != 0);
    CHECK(device->describe() == "tap(" + o.name + ")");

    SECTION("netloom -> kernel: a written frame is counted by the interface") {
        const auto before = stat(o.name, "rx_packets");
        CHECK(device->transmit(make_frame(MacAddress::broadcast(), kNetloom, 1, 200)));
        CHECK(stat(o.name, "rx_packets") == before + 1);
        CHECK(counter(*device, "tx_frames") == 1);
        CHECK(counter(*device, "tx_bytes") == 200);
        CHECK_FALSE(device->transmit(make_frame(MacAddress::broadcast(), kNetloom, 2, 1400 + 15)));
        CHECK(counter(*device, "tx_dropped_too_big") == 1);
    }

    SECTION("kernel -> netloom: a frame sent on the interface is returned by poll") {
        int sock = ::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
        REQUIRE(sock >= 0);
        sockaddr_ll to{};
        to.sll_family = AF_PACKET;
        to.sll_ifindex = static_cast<int>(::if_nametoindex(o.name.c_str()));
        to.sll_halen = 6;
        std::memcpy(to.sll_addr, kNetloom.bytes.data(), 6);
        Packet frame = make_frame(kNetloom, mac_of("02:00:00:00:00:0b"), 0xfeed, 300);
        const Bytes sent = bytes_of(frame);
        REQUIRE(::sendto(sock, frame.data(), frame.size(), 0, reinterpret_cast<sockaddr*>(&to),
                         sizeof to) == static_cast<ssize_t>(frame.size()));
        ::close(sock);

        // The kernel may also send its own frames (IPv6 DAD, MLD): look for ours.
        bool found = false;
        for (int attempt = 0; attempt < 20 && !found; ++attempt) {
            pollfd p{device->fd(), POLLIN, 0};
            if (::poll(&p, 1, 1000) <= 0) break;  // readiness wait, not a sleep
            device->poll(64, [&](Packet&& got) {
                if (bytes_of(got) == sent) found = true;
            });
        }
        CHECK(found);
        CHECK(counter(*device, "rx_frames") >= 1);
    }

    device.reset();
    CHECK_FALSE(std::filesystem::exists("/sys/class/net/" + o.name));  // not persistent: gone
}

TEST_CASE("tap: an interface name taken by another kind of device is a clear error") {
    if (auto why = tap_unavailable(); !why.empty()) {
        netloom::test::record_skip(why.kind, why.message);
        return;
    }
    TapOptions o;
    o.name = "lo";
    o.mac = kNetloom;
    try {
        TapDevice device(o);
        FAIL("attaching a TAP to 'lo' should fail");
    } catch (const std::runtime_error& e) {
        CHECK_THAT(e.what(), Catch::StartsWith("tap(lo): "));
    }
}
