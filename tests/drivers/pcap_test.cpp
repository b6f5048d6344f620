// pcap: the file's bytes (global header, records, timestamps, snaplen), periodic flushing, and
// tshark reading it without complaint.
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <catch2/catch.hpp>

#include "driver_test_support.hpp"
#include "manual_scheduler.hpp"
#include "skip.hpp"

using namespace netloom;
using namespace netloom::testing;
using drivers::PcapDevice;
using drivers::PcapOptions;
using namespace std::chrono_literals;

namespace {

const MacAddress kDstMac = mac_of("02:00:00:00:00:0b");
const MacAddress kSrcMac = mac_of("02:00:00:00:00:0a");

std::string temp_path(const std::string& name) {
    return (std::filesystem::temp_directory_path() /
            ("netloom-" + std::to_string(::getpid()) + "-" + name))
        .string();
}

Bytes read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::uint32_t u32(const Bytes& b, std::size_t at) {
    std::uint32_t v;
    std::memcpy(&v, b.data() + at, 4);
    return v;
}
std::uint16_t u16(const Bytes& b, std::size_t at) {
    std::uint16_t v;
    std::memcpy(&v, b.data() + at, 2);
    return v;
}

struct Record {
    std::uint32_t seconds, micros, captured, original;
    Bytes data;
};

// Parses the file as classic pcap, checking the global header on the way.
std::vector<Record> parse_pcap(const Bytes& file, std::uint32_t expect_snaplen) {
    REQUIRE(file.size() >= 24);
    CHECK(u32(file, 0) == 0xa1b2c3d4);
    CHECK(u16(file, 4) == 2);
    CHECK(u16(file, 6) == 4);
    CHECK(u32(file, 8) == 0);
    CHECK(u32(file, 12) == 0);
    CHECK(u32(file, 16) == expect_snaplen);
    CHECK(u32(file, 20) == 1);  // LINKTYPE_ETHERNET
    std::vector<Record> records;
    std::size_t at = 24;
    while (at < file.size()) {
        REQUIRE(file.size() - at >= 16);
        Record r{u32(file, at), u32(file, at + 4), u32(file, at + 8), u32(file, at + 12), {}};
        at += 16;
        REQUIRE(r.captured <= r.original);
        REQUIRE(file.size() - at >= r.captured);
        r.data.assign(file.begin() + static_cast<long>(at),
                      file.begin() + static_cast<long>(at + r.captured));
        at += r.captured;
        records.push_back(std::move(r));
    }
    return records;
}

struct CaptureRig {
    ManualScheduler sched;
    std::shared_ptr<RecordingDevice> inner = std::make_shared<RecordingDevice>();
    std::unique_ptr<PcapDevice> device;
    std::string path;

    explicit CaptureRig(const std::string& name, std::uint32_t snaplen = 65535)
        : path(temp_path(name)) {
        PcapOptions o;
        o.file = path;
        o.snaplen = snaplen;
        device =
            std::make_unique<PcapDevice>(o, inner, sched, TestEnv(sched).logger("driver.pcap"));
        device->attach(sched, [] {});
    }
    ~CaptureRig() {
        device.reset();
        std::remove(path.c_str());
    }
};

}  // namespace

TEST_CASE("pcap: records both directions with virtual-clock timestamps, bytes intact") {
    CaptureRig rig("both.pcap");
    std::vector<Bytes> expected;
    std::vector<Time> times;
    for (std::uint32_t i = 0; i < 6; ++i) {
        rig.sched.advance(1'234'567us);
        times.push_back(rig.sched.now());
        Packet frame = make_frame(kDstMac, kSrcMac, i, 60 + i * 200);
        expected.push_back(bytes_of(frame));
        if (i % 2 == 0) {
            CHECK(rig.device->transmit(std::move(frame)));
        } else {
            rig.inner->inject(std::move(frame));
            auto got = drain(*rig.device);
            REQUIRE(got.size() == 1);
            CHECK(bytes_of(got[0]) == expected.back());  // the stack still gets the frame
        }
    }
    CHECK(rig.inner->sent.size() == 3);  // transmitted frames reached the inner device
    CHECK(counter(*rig.device, "pcap_records") == 6);
    CHECK_THROWS(counter(*rig.device, "recorder_sent"));  // the host lists the inner device
    rig.device.reset();                                   // flushes

    auto records = parse_pcap(read_file(rig.path), 65535);
    REQUIRE(records.size() == expected.size());
    for (std::size_t i = 0; i < records.size(); ++i) {
        CHECK(records[i].data == expected[i]);
        CHECK(records[i].captured == expected[i].size());
        CHECK(records[i].original == expected[i].size());
        const auto ns = times[i].count();
        CHECK(records[i].seconds == ns / 1'000'000'000);
        CHECK(records[i].micros == ns % 1'000'000'000 / 1000);
    }
}

TEST_CASE("pcap: frames longer than snaplen are cut, their length kept") {
    CaptureRig rig("snap.pcap", 64);
    rig.device->transmit(make_frame(kDstMac, kSrcMac, 1, 1000));
    const Bytes whole = rig.inner->sent.at(0);
    rig.device.reset();
    auto records = parse_pcap(read_file(rig.path), 64);
    REQUIRE(records.size() == 1);
    CHECK(records[0].captured == 64);
    CHECK(records[0].original == 1000);
    CHECK(records[0].data == Bytes(whole.begin(), whole.begin() + 64));
}

TEST_CASE("pcap: buffered records reach the file after flush_interval, without closing") {
    CaptureRig rig("flush.pcap");
    rig.device->transmit(make_frame(kDstMac, kSrcMac, 1));
    CHECK(read_file(rig.path).size() == 24);  // only the global header so far
    rig.sched.advance(100ms);
    CHECK(read_file(rig.path).size() == 24 + 16 + 64);
    rig.sched.advance(1s);  // idle: no timer re-armed for nothing
    CHECK(rig.sched.pending_timers() == 0);
}

TEST_CASE("pcap: a write failing part-way never leaves a torn record") {
    // RLIMIT_FSIZE makes the kernel take part of a write, then refuse (EFBIG, like a full
    // disk): the writer must cut the file back to its last whole record.
    const std::string path = temp_path("torn.pcap");
    rlimit saved{};
    REQUIRE(::getrlimit(RLIMIT_FSIZE, &saved) == 0);
    const auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
    constexpr std::size_t kFrame = 100, kRecord = 16 + kFrame, kPerFlush = 8;
    const Bytes frame(kFrame, 0x5a);
    {
        drivers::PcapWriter writer(path, 65535, kPerFlush * kRecord);
        rlimit limit = saved;
        limit.rlim_cur = 24 + kPerFlush * kRecord + kRecord * 3 + kRecord / 2;  // mid-record
        REQUIRE(::setrlimit(RLIMIT_FSIZE, &limit) == 0);
        for (int i = 0; i < 3 * static_cast<int>(kPerFlush); ++i) writer.write(frame, 0);
        CHECK_FALSE(writer.flush());
        CHECK(writer.write_errors() >= 1);
        REQUIRE(::setrlimit(RLIMIT_FSIZE, &saved) == 0);
        CHECK(parse_pcap(read_file(path), 65535).size() == kPerFlush);  // the first flush only
        writer.write(frame, 0);  // later records follow the last whole one cleanly
        CHECK(writer.flush());
    }
    std::signal(SIGXFSZ, old_handler);
    CHECK(parse_pcap(read_file(path), 65535).size() == kPerFlush + 1);
    std::remove(path.c_str());
}

TEST_CASE("pcap: an unwritable path is a clear error") {
    ManualScheduler sched;
    PcapOptions o;
    o.file = "/nonexistent-dir/x.pcap";
    auto inner = std::make_shared<RecordingDevice>();
    try {
        PcapDevice device(o, inner, sched, TestEnv(sched).logger("driver.pcap"));
        FAIL("expected an exception");
    } catch (const std::runtime_error& e) {
        CHECK_THAT(e.what(), Catch::Contains("/nonexistent-dir/x.pcap"));
    }
}

TEST_CASE("pcap: tshark reads the capture without warnings") {
    if (std::system("command -v tshark >/dev/null 2>&1") != 0) {
        NETLOOM_SKIP(tool, "tshark is not installed (run scripts/setup.sh)");
    }
    const std::string err_path = temp_path("tshark.err");
    const std::string out_path = temp_path("tshark.out");
    std::string pcap_path;
    {
        CaptureRig rig("tshark.pcap");
        pcap_path = rig.path;
        for (std::uint32_t i = 0; i < 50; ++i) {
            rig.sched.advance(1ms);
            rig.device->transmit(
                make_frame(i % 2 ? kDstMac : MacAddress::broadcast(), kSrcMac, i, 60 + i * 20));
            rig.inner->inject(make_frame(kSrcMac, kDstMac, 1000 + i, 1514 - i));
            drain(*rig.device);
        }
        rig.device.reset();
        const std::string command =
            "tshark -n -r '" + pcap_path + "' >'" + out_path + "' 2>'" + err_path + "'";
        const int status = std::system(command.c_str());
        CHECK(WIFEXITED(status));
        CHECK(WEXITSTATUS(status) == 0);
    }
    // tshark always warns when run as root; that line says nothing about the file.
    std::ifstream err(err_path);
    std::string line, complaints;
    while (std::getline(err, line)) {
        if (line.rfind("Running as user \"root\"", 0) == 0) continue;
        complaints += line + "\n";
    }
    CHECK(complaints.empty());
    std::ifstream out(out_path);
    std::size_t packets = 0;
    while (std::getline(out, line)) ++packets;
    CHECK(packets == 100);
    std::remove(err_path.c_str());
    std::remove(out_path.c_str());
}
