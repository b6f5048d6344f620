// blk_uring against real files: data read and written through the ring equal the file's bytes,
// requests split at max_sectors and queue beyond queue_depth, O_DIRECT on a disk file system
// and the logged fallback on tmpfs, bounce buffers for misaligned memory, registered buffers,
// refusals, flush, and destruction with operations in the kernel.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>

#include <catch2/catch.hpp>

#include "netloom/config.hpp"
#include "uring_device.hpp"
#include "uring_test_support.hpp"

using namespace netloom;
using namespace netloom::testing;
using block::UringDevice;
using block::UringOptions;

namespace {

constexpr const char* kDisk = "/var/tmp";  // a disk file system where O_DIRECT works
constexpr const char* kTmpfs = "/dev/shm";

std::uint64_t counter(const BlockDevice& device, std::string_view name) {
    std::optional<std::uint64_t> value;
    device.visit_counters([&](std::string_view n, std::uint64_t v) {
        if (n == name) value = v;
    });
    if (!value) throw std::invalid_argument("no counter " + std::string(name));
    return *value;
}

// A device on a scheduler, and the results of the requests submitted through it.
struct Harness {
    sched::EpollScheduler sched;
    std::unique_ptr<UringDevice> device;
    std::vector<int> results;  // in completion order
    std::size_t outstanding = 0;
    bool inside_submit = false;
    bool completed_inline = false;

    explicit Harness(UringOptions options) {
        if (const char* why = block::uring_unavailable()) FAIL("io_uring unavailable: " << why);
        device = std::make_unique<UringDevice>(std::move(options), sched, null_logger());
    }
    void submit(BlockOp op, std::uint64_t sector, std::span<std::uint8_t> buffer,
                std::function<void(int)> then = {}) {
        ++outstanding;
        inside_submit = true;
        device->submit({op, sector, buffer}, [this, then](int error) {
            if (inside_submit) completed_inline = true;
            results.push_back(error);
            if (then) then(error);
            if (--outstanding == 0) sched.stop();
        });
        inside_submit = false;
    }
    void run() {
        REQUIRE(run_with_deadline(sched));
        CHECK_FALSE(completed_inline);
    }
    std::uint64_t count(std::string_view name) const { return counter(*device, name); }
};

UringOptions options_for(const ScratchFile& file, bool direct = true) {
    UringOptions o;
    o.path = file.path();
    o.direct = direct;
    return o;
}

}  // namespace

TEST_CASE("blk_uring: reads a file's sectors through registered buffers under O_DIRECT") {
    ScratchFile file(kDisk, 1 << 20, byte_at);
    Harness h(options_for(file));
    REQUIRE(h.device->direct());  // /var/tmp is a disk file system
    const BlockGeometry g = h.device->geometry();
    CHECK(g.sectors * g.sector_size == (1 << 20));
    CHECK(g.max_in_flight == 32);
    CHECK(h.device->describe().find("O_DIRECT") != std::string::npos);

    BlockBuffer buffer = h.device->allocate(8 * g.sector_size);
    h.submit(BlockOp::read, 5, buffer.span());
    h.run();
    REQUIRE(h.results == std::vector<int>{0});
    for (std::size_t i = 0; i < buffer.size(); ++i) {
        REQUIRE(buffer.data()[i] == byte_at(5 * g.sector_size + i));
    }
    if (h.device->fixed_buffers()) CHECK(h.count("operations_fixed") == 1);
    CHECK(h.count("registered_allocations") == 1);  // the region had room
    CHECK(h.count("bounced_operations") == 0);
}

TEST_CASE("blk_uring: writes reach the file, and a flush completes after them") {
    ScratchFile file(kDisk, 256 << 10, byte_at);
    Harness h(options_for(file));
    const std::uint32_t sector = h.device->geometry().sector_size;
    BlockBuffer buffer = h.device->allocate(3 * sector);
    std::memset(buffer.data(), 0xab, buffer.size());
    h.submit(BlockOp::write, 2, buffer.span(), [&](int error) {
        if (error == 0) h.submit(BlockOp::flush, 0, {});
    });
    h.run();
    REQUIRE(h.results == std::vector<int>{0, 0});
    const auto contents = file.contents();
    for (std::size_t i = 0; i < contents.size(); ++i) {
        const bool written = i >= 2 * sector && i < 5 * sector;
        REQUIRE(contents[i] == (written ? 0xab : byte_at(i)));
    }
    CHECK(h.count("write_requests") == 1);
    CHECK(h.count("flush_requests") == 1);
}

TEST_CASE("blk_uring: splits a request at max_sectors and queues beyond queue_depth") {
    ScratchFile file(kDisk, 512 << 10, byte_at);
    UringOptions o = options_for(file);
    o.max_sectors = 2;
    o.queue_depth = 2;
    Harness h(o);
    const std::uint32_t sector = h.device->geometry().sector_size;
    CHECK(h.device->geometry().max_sectors_per_request == 2);
    std::vector<BlockBuffer> buffers;
    for (int i = 0; i < 5; ++i) {
        buffers.push_back(h.device->allocate(7 * sector));
        h.submit(BlockOp::read, 10 * i, buffers.back().span());
    }
    h.run();
    REQUIRE(h.results == std::vector<int>(5, 0));
    for (int i = 0; i < 5; ++i) {
        for (std::size_t b = 0; b < buffers[i].size(); ++b) {
            REQUIRE(buffers[i].data()[b] == byte_at(10 * i * sector + b));
        }
    }
    CHECK(h.count("operations") == 5 * 4);  // 7 sectors: 2 + 2 + 2 + 1
    CHECK(h.count("requests_split") == 5);
    CHECK(h.count("in_flight_peak") == 2);
    CHECK(h.count("operations_queued") == 5 * 4 - 2);
    CHECK(h.count("waiting_peak") == 5 * 4 - 2);
    CHECK(h.count("in_flight_current") == 0);
}

TEST_CASE("blk_uring: each submit reaches the kernel before it returns, inside completions too") {
    // Resubmissions batched until the end of a reap kept a depth-8 reader in lockstep rounds
    // on a virtio disk (bench/block/README.md).
    ScratchFile file(kDisk, 256 << 10, byte_at);
    Harness h(options_for(file));
    const std::uint32_t sector = h.device->geometry().sector_size;
    BlockBuffer first = h.device->allocate(sector);
    BlockBuffer second = h.device->allocate(sector);
    std::optional<std::uint64_t> calls_before, calls_after;
    h.submit(BlockOp::read, 0, first.span(), [&](int) {
        calls_before = h.count("submit_calls");
        h.submit(BlockOp::read, 1, second.span());
        calls_after = h.count("submit_calls");
    });
    CHECK(h.count("submit_calls") == 1);
    h.run();
    REQUIRE(h.results == std::vector<int>{0, 0});
    REQUIRE(calls_before);
    CHECK(*calls_after == *calls_before + 1);
    CHECK(second.data()[0] == byte_at(sector));
}

TEST_CASE("blk_uring: completions already queued are reaped on the next loop turn, unwoken") {
    // Buffered reads of a file in the page cache complete inside io_uring_enter: the completion
    // is in the shared queue before submit returns, and the loop must not wait for a wake-up.
    ScratchFile file(kDisk, 64 << 10, byte_at);
    Harness h(options_for(file, /*direct=*/false));
    BlockBuffer warm = h.device->allocate(4096);
    h.submit(BlockOp::read, 0, warm.span());  // the file's page in the cache, whatever it was
    h.run();
    const std::uint64_t wakeups = h.count("wakeups");
    const std::uint64_t turn_reaps = h.count("turn_reaps");
    for (int i = 0; i < 8; ++i) h.submit(BlockOp::read, 0, warm.span());
    h.run();
    REQUIRE(h.results == std::vector<int>(9, 0));
    CHECK(h.count("turn_reaps") == turn_reaps + 1);  // all 8 in one reap
    CHECK(h.count("wakeups") == wakeups);
    CHECK(h.count("completions_reaped") == 9);
}

TEST_CASE("blk_uring: a flush, done by an io-wq worker, completes while the loop sleeps") {
    // IORING_OP_FSYNC always runs on an io-wq worker. Where the worker posts the completion
    // itself (Linux 6.1) nothing interrupts the loop's wait: only the ring's fd, watched by the
    // scheduler, wakes it. (Under Linux 6.18 the completion interrupted the wait, as those of
    // reads do, so there this passes without the fd too.) Dirty pages make the fsync outlast
    // the loop's first turn.
    ScratchFile file(kDisk, 1 << 20, byte_at);
    Harness h(options_for(file, /*direct=*/false));
    const std::vector<std::uint8_t> data(1 << 20, 0x3c);
    const int fd = ::open(file.path().c_str(), O_WRONLY | O_CLOEXEC);
    REQUIRE(fd >= 0);
    const bool written = ::pwrite(fd, data.data(), data.size(), 0) == ssize_t(data.size());
    ::close(fd);
    REQUIRE(written);
    h.submit(BlockOp::flush, 0, {});
    h.run();  // fails at the deadline if nothing woke the loop
    CHECK(h.results == std::vector<int>{0});
}

TEST_CASE("blk_uring: misaligned memory under O_DIRECT goes through a counted bounce buffer") {
    ScratchFile file(kDisk, 256 << 10, byte_at);
    Harness h(options_for(file));
    REQUIRE(h.device->direct());
    const std::uint32_t sector = h.device->geometry().sector_size;
    std::vector<std::uint8_t> storage(4 * sector + 1);
    std::span<std::uint8_t> odd(storage.data() + 1, 4 * sector);  // never 2-byte aligned
    h.submit(BlockOp::read, 3, odd);
    h.run();
    REQUIRE(h.results == std::vector<int>{0});
    for (std::size_t i = 0; i < odd.size(); ++i) REQUIRE(odd[i] == byte_at(3 * sector + i));
    CHECK(h.count("bounced_operations") == 1);
    CHECK(h.count("bounced_bytes") == 4 * sector);

    std::memset(odd.data(), 0x5a, odd.size());
    h.submit(BlockOp::write, 0, odd);
    h.run();
    REQUIRE(h.results == std::vector<int>{0, 0});
    CHECK(file.contents()[sector] == 0x5a);
    CHECK(h.count("bounced_operations") == 2);
}

TEST_CASE("blk_uring: refuses bad requests later, on the loop, never inside submit") {
    ScratchFile file(kDisk, 64 << 10, byte_at);
    UringOptions o = options_for(file);
    o.read_only = true;
    Harness h(o);
    const BlockGeometry g = h.device->geometry();
    std::vector<std::uint8_t> memory(4 * g.sector_size);
    h.submit(BlockOp::read, g.sectors - 1, std::span(memory).first(2 * g.sector_size));
    h.submit(BlockOp::read, 0, std::span(memory).first(g.sector_size + 1));
    h.submit(BlockOp::read, g.sectors + 5, std::span(memory).first(g.sector_size));
    h.submit(BlockOp::write, 0, std::span(memory).first(g.sector_size));
    h.submit(BlockOp::read, g.sectors - 1, std::span(memory).first(g.sector_size));  // the last
    h.run();
    CHECK(h.results == std::vector<int>{EINVAL, EINVAL, EINVAL, EROFS, 0});
    CHECK(h.count("refused_einval") == 3);
    CHECK(h.count("refused_erofs") == 1);
    CHECK(g.read_only);
}

TEST_CASE("blk_uring: a read past a file that shrank under the device is EIO") {
    ScratchFile file(kDisk, 64 << 10, byte_at);
    Harness h(options_for(file));
    const std::uint32_t sector = h.device->geometry().sector_size;
    REQUIRE(::truncate(file.path().c_str(), 8 * sector) == 0);
    BlockBuffer buffer = h.device->allocate(2 * sector);
    h.submit(BlockOp::read, 10, buffer.span());
    h.run();
    CHECK(h.results == std::vector<int>{EIO});
    CHECK(h.count("errors_eio") == 1);
}

TEST_CASE("blk_uring: the registered region starts on a huge-page boundary") {
    // So that transparent huge pages can back it: a 64 KiB buffer is then one physically
    // contiguous segment (bench/block/README.md: 64 KiB random reads 3x faster).
    ScratchFile file(kDisk, 64 << 10, byte_at);
    Harness h(options_for(file));
    BlockBuffer first = h.device->allocate(64 << 10);  // first fit: the region's start
    CHECK(h.count("registered_allocations") == 1);
    CHECK(reinterpret_cast<std::uintptr_t>(first.data()) % block::BufferPool::kHugePage == 0);
}

TEST_CASE("blk_uring: memory released while the kernel holds it stays alive until it is done") {
    ScratchFile file(kDisk, 1 << 20, byte_at);
    Harness h(options_for(file));
    const std::uint32_t sector = h.device->geometry().sector_size;
    for (int i = 0; i < 16; ++i) {
        BlockBuffer buffer = h.device->allocate(16 * sector);
        h.submit(BlockOp::read, 16 * i, buffer.span());
    }  // each buffer released right after its submit
    h.run();
    CHECK(h.results == std::vector<int>(16, 0));
    // All 16 went back to the region: one allocation of it all fits again.
    BlockBuffer whole = h.device->allocate(8 << 20);
    CHECK(h.count("heap_allocations") == 0);
}

TEST_CASE("blk_uring: destruction waits for the kernel and calls no completion") {
    ScratchFile file(kDisk, 4 << 20, byte_at);
    UringOptions o = options_for(file);
    o.queue_depth = 4;
    int called = 0;
    {
        Harness h(o);
        const std::uint32_t sector = h.device->geometry().sector_size;
        for (int i = 0; i < 12; ++i) {  // 4 in the kernel, 8 waiting
            BlockBuffer buffer = h.device->allocate(64 * sector);
            h.device->submit({BlockOp::read, std::uint64_t(64 * i), buffer.span()},
                             [&](int) { ++called; });
        }
        h.device->submit({BlockOp::read, ~std::uint64_t{0}, {}}, [&](int) { ++called; });
        CHECK(h.count("in_flight_current") == 4);
        h.device.reset();
        // The refusal was posted before the device went: it must not run now either.
        h.sched.post([&] { h.sched.stop(); });
        h.sched.run();
    }
    CHECK(called == 0);
}

TEST_CASE("blk_uring: falls back to buffered I/O, saying so, where O_DIRECT cannot serve") {
    // tmpfs refused O_DIRECT before Linux 6.6 and takes it (with page alignment) since; a
    // sector_size finer than the direct-I/O alignment is the fallback every kernel exercises.
    const bool have_tmpfs = std::filesystem::is_directory(kTmpfs);
    ScratchFile file(have_tmpfs ? kTmpfs : kDisk, 64 << 10, byte_at);
    std::uint32_t alignment = 0;
    {
        Harness probe(options_for(file));
        alignment = probe.device->geometry().sector_size;
        if (!probe.device->direct()) {
            CHECK(probe.device->describe().find("buffered: the file system") != std::string::npos);
            CHECK(alignment == 512);
        }
    }
    UringOptions o = options_for(file);
    o.sector_size = 512;
    Harness h(o);
    if (alignment > 512) {
        CHECK_FALSE(h.device->direct());
        CHECK(h.device->describe().find("buffered: sector_size 512 is finer than") !=
              std::string::npos);
    } else {
        WARN("direct I/O aligns to 512 bytes on " << file.path() << ": no finer sector to refuse");
    }
    if (h.device->direct()) return;
    std::vector<std::uint8_t> storage(2 * 512 + 1);
    std::span<std::uint8_t> odd(storage.data() + 1, 2 * 512);
    h.submit(BlockOp::read, 1, odd);
    h.run();
    REQUIRE(h.results == std::vector<int>{0});
    CHECK(odd[0] == byte_at(512));
    CHECK(odd[1023] == byte_at(1535));
    CHECK(h.count("bounced_operations") == 0);  // no alignment to meet
}

TEST_CASE("blk_uring: direct: false opens the file buffered, with no note") {
    ScratchFile file(kDisk, 64 << 10, byte_at);
    UringOptions o = options_for(file);
    o.direct = false;
    Harness h(o);
    CHECK_FALSE(h.device->direct());
    CHECK(h.device->describe() == "uring(" + file.path() + ", buffered, sector 512, depth 32)");
}

TEST_CASE("blk_uring: config keys and their errors") {
    const auto parse = [](const std::string& yaml) {
        return UringOptions::from_config(Config::load_string(yaml, "test.yaml"));
    };
    const UringOptions o = parse(
        "path: /x\nsector_size: 4KiB\nread_only: true\nqueue_depth: 8\nmax_sectors: 16\n"
        "registered_buffers: 1MiB\ndirect: false\n");
    CHECK(o.path == "/x");
    CHECK(o.sector_size == 4096);
    CHECK(o.read_only);
    CHECK(o.queue_depth == 8);
    CHECK(o.max_sectors == 16);
    CHECK(o.registered_bytes == (1 << 20));
    CHECK_FALSE(o.direct);
    CHECK_THROWS_AS(parse("path: /x\nsector_size: 1000\n"), ConfigError);
    CHECK_THROWS_AS(parse("path: /x\nqueue_depth: 0\n"), ConfigError);
    CHECK_THROWS_AS(parse("path: /x\nregistered_buffers: 2GiB\n"), ConfigError);
    CHECK_THROWS_AS(parse("sector_size: 512\n"), ConfigError);

    UringOptions missing;
    missing.path = "/nonexistent/netloom.img";
    sched::EpollScheduler sched;
    CHECK_THROWS_WITH(
        UringDevice(missing, sched, null_logger()),
        Catch::Contains("/nonexistent/netloom.img") && Catch::Contains("No such file"));
}
