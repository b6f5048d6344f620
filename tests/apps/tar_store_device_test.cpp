// tar store over a block device: BlockReadAhead's request shape, order, errors and buffer
// lifetimes on MemoryBlockDevice; TarStore's index build (through the device, read errors,
// 10^6 tiny members in bounded time and memory); archives written by GNU tar.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "manual_scheduler.hpp"
#include "memory_block_device.hpp"
#include "netloom/task.hpp"
#include "sanitizers.hpp"
#include "tar_store.hpp"
#include "tar_writer.hpp"
#include "task_scope.hpp"

using netloom::Task;
using netloom::apps::BlockReadAhead;
using netloom::apps::ReadAheadShape;
using netloom::apps::TarExtent;
using netloom::apps::TarStore;
using netloom::apps::TarStoreOptions;
using netloom::testing::ManualScheduler;
using netloom::testing::MemoryBlockDevice;
using netloom::testing::tar_header;
using netloom::testing::TarWriter;
namespace fs = std::filesystem;

namespace {

std::vector<std::uint8_t> pattern(std::size_t n) {
    std::vector<std::uint8_t> v(n);
    for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<std::uint8_t>(i * 7 + i / 511);
    return v;
}

struct ReadAll {
    std::vector<std::uint8_t> bytes;
    std::optional<std::uint64_t> first;  ///< offset of the first chunk
    bool contiguous = true;              ///< every chunk began where the previous ended
    int error = 0;
    std::uint64_t error_at = 0;
    bool finished = false;
};

// Reads at most `chunks` chunks (all by default) into `out`.
Task<void> read_all(BlockReadAhead& ahead, ReadAll& out, int chunks = INT32_MAX) {
    for (int n = 0; n < chunks; ++n) {
        const BlockReadAhead::Chunk c = co_await ahead.next();
        if (c.error != 0) {
            out.error = c.error;
            out.error_at = c.offset;
            break;
        }
        if (c.bytes.empty()) break;
        if (!out.first) out.first = c.offset;
        out.contiguous = out.contiguous && c.offset == *out.first + out.bytes.size();
        out.bytes.insert(out.bytes.end(), c.bytes.begin(), c.bytes.end());
    }
    out.finished = true;
}

std::unique_ptr<TarStore> built_store(MemoryBlockDevice& device, ManualScheduler& sched,
                                      TarStoreOptions options = {}) {
    options.block = "disk0";
    auto log = std::make_shared<spdlog::logger>("test");
    auto store = std::make_unique<TarStore>(device, options, log);
    sched.spawn(store->build());
    sched.run_until_idle();
    REQUIRE(store->ready());
    return store;
}

std::string read_file(TarStore& store, ManualScheduler& sched, const TarExtent& e) {
    auto reader = store.open(e, 0, e.size);
    ReadAll out;
    sched.spawn(read_all(*reader, out));
    sched.run_until_idle();
    REQUIRE(out.finished);
    REQUIRE(out.error == 0);
    return std::string(out.bytes.begin(), out.bytes.end());
}

}  // namespace

TEST_CASE("read-ahead: any range in order, read_size sectors per request, in_flight ahead") {
    ManualScheduler sched;
    const auto image = pattern(300 * 512);
    MemoryBlockDevice device(sched, image);
    device.reverse = GENERATE(false, true);  // completions out of order change nothing
    const ReadAheadShape shape{8, 3};
    BlockReadAhead ahead(device, shape);
    for (const auto& [first, end] :
         std::vector<std::pair<std::uint64_t, std::uint64_t>>{{0, 300 * 512},
                                                              {1, 2},
                                                              {511, 513},
                                                              {1000, 50'000},
                                                              {4096, 4096},
                                                              {140'000, 999'999}}) {
        ahead.start(first, end);
        ReadAll out;
        sched.spawn(read_all(ahead, out));
        sched.run_until_idle();
        REQUIRE(out.finished);
        const std::uint64_t last = std::min<std::uint64_t>(end, image.size());
        CHECK(out.bytes == std::vector<std::uint8_t>(image.begin() + first, image.begin() + last));
        CHECK(out.contiguous);
    }
    const std::uint64_t requests = device.requests;
    ahead.start(777, 777);  // empty: no request at all
    ReadAll empty;
    sched.spawn(read_all(ahead, empty));
    sched.run_until_idle();
    CHECK((empty.finished && empty.bytes.empty() && device.requests == requests));
    CHECK(device.largest_request == 8);
    CHECK(device.in_flight_peak == 3);
    CHECK(ahead.buffer_bytes() <= 3 * 8 * 512);
    CHECK(device.refused == 0);
}

TEST_CASE("read-ahead: a failed request ends the range with its errno at its offset") {
    ManualScheduler sched;
    MemoryBlockDevice device(sched, pattern(64 * 512));
    device.bad_sectors = {20};
    BlockReadAhead ahead(device, {4, 4});
    ahead.start(100, 64 * 512);
    ReadAll out;
    sched.spawn(read_all(ahead, out));
    sched.run_until_idle();
    REQUIRE(out.finished);
    CHECK(out.error == EIO);
    CHECK(out.error_at == 20 * 512);  // the request of sectors 20..23
    CHECK(out.bytes.size() == 20 * 512 - 100);
    ReadAll after;  // the range is abandoned
    sched.spawn(read_all(ahead, after));
    sched.run_until_idle();
    CHECK(after.bytes.empty());
    CHECK(after.error == 0);
}

TEST_CASE("read-ahead: restarts and destruction never let a late completion hit freed memory") {
    ManualScheduler sched;
    netloom::apps::TaskScope scope(sched);
    const auto image = pattern(256 * 512);
    MemoryBlockDevice device(sched, image);
    auto ahead = std::make_unique<BlockReadAhead>(device, ReadAheadShape{4, 2});
    ahead->start(0, image.size());
    ReadAll first;
    scope.spawn(read_all(*ahead, first, 1));  // both slots requested, chunk 0 returned
    sched.run_until_idle();
    REQUIRE(first.bytes.size() == 4 * 512);
    device.hold = true;  // completions now wait for release()
    ReadAll second;
    scope.spawn(read_all(*ahead, second, 1));  // chunk 2 requested into slot 0; chunk 1 returned
    sched.run_until_idle();
    REQUIRE(second.bytes.size() == 4 * 512);
    CHECK(device.held() == 1);
    // A new range while slot 0's request is in flight: slot 0 comes back only once it completes
    // (the device writes the old range's bytes into it late), then serves the new range.
    ahead->start(100 * 512 + 7, 110 * 512);
    ReadAll third;
    scope.spawn(read_all(*ahead, third));
    sched.run_until_idle();
    CHECK_FALSE(third.finished);
    device.release();
    sched.run_until_idle();
    REQUIRE(third.finished);
    CHECK(third.bytes ==
          std::vector<std::uint8_t>(image.begin() + 100 * 512 + 7, image.begin() + 110 * 512));
    // The reader and its coroutine destroyed with requests in flight: the completions find the
    // buffers alive (ASan) and resume nothing.
    device.hold = true;
    ahead->start(0, image.size());
    ReadAll fourth;
    auto waiting = std::make_unique<netloom::apps::TaskScope>(sched);
    waiting->spawn(read_all(*ahead, fourth));
    sched.run_until_idle();
    CHECK(device.held() == 2);
    waiting.reset();
    ahead.reset();
    device.release();
    sched.run_until_idle();
    CHECK(device.in_flight == 0);
    CHECK_FALSE(fourth.finished);
}

TEST_CASE("tar store: the index built through the device, files read back") {
    ManualScheduler sched;
    TarWriter w;
    w.file("index.html", "<h1>store</h1>\n");
    const auto big = pattern(200'000);
    w.file("dir/big.bin", std::string(big.begin(), big.end()));
    w.member("dir/link", '2', "");
    w.file("last.txt", "last");
    w.end();
    MemoryBlockDevice device(sched, w.bytes());
    TarStoreOptions options;
    options.shape = {16, 4};
    auto store = built_store(device, sched, options);
    CHECK_FALSE(store->refused());
    CHECK(store->index().files() == 3);
    CHECK(store->counts().skipped_links == 1);
    // The big file's data was skipped, not read: one request (ramping up from one) at each
    // place the headers are.
    CHECK(device.sectors_read <= 2 * 16);  // the second ends with the device
    CHECK(read_file(*store, sched, *store->find("index.html")) == "<h1>store</h1>\n");
    CHECK(read_file(*store, sched, *store->find("dir/big.bin")) ==
          std::string(big.begin(), big.end()));
    CHECK(read_file(*store, sched, *store->find("last.txt")) == "last");
    CHECK(store->reader_bytes() == 4 * 16 * 512);
}

TEST_CASE("tar store: a read error while indexing refuses the archive") {
    ManualScheduler sched;
    TarWriter w;
    w.file("a", std::string(5000, 'a'));
    const std::size_t second = w.offset();
    w.file("b", "b");
    w.end();
    MemoryBlockDevice device(sched, w.bytes());
    device.bad_sectors = {second / 512};
    auto store = built_store(device, sched);
    CHECK(store->refused());
    CHECK(store->index().files() == 0);
    CHECK_FALSE(store->find("a"));
}

TEST_CASE("tar store: 10^6 tiny members indexed within the limits, or stopped at them") {
    ManualScheduler sched;
    // 30 s at -O0 under ASan (the sort and the header checks), 1 s otherwise: a fifth there.
    constexpr std::uint64_t kMembers = NETLOOM_ASAN ? 200'000 : 1'000'000;
    // Generated on the fly: member i is an empty file "f<i>" (7 digits) in block i; zeros after.
    // One header made once, its name's digits and checksum patched per block.
    const auto base = tar_header("f0000000", '0', 0);
    unsigned base_sum = 0;
    for (std::size_t i = 0; i < 512; ++i) base_sum += (i >= 148 && i < 156) ? ' ' : base[i];
    MemoryBlockDevice device(
        sched, (kMembers + 2) * 512, [&](std::uint64_t offset, std::span<std::uint8_t> out) {
            for (std::size_t at = 0; at < out.size(); at += 512) {
                std::uint8_t* h = out.data() + at;
                const std::uint64_t block = (offset + at) / 512;
                if (block >= kMembers) {
                    std::fill_n(h, 512, 0);
                    continue;
                }
                std::copy(base.begin(), base.end(), h);
                unsigned sum = base_sum;
                std::uint64_t n = block;
                for (int i = 7; i >= 1; --i, n /= 10) {
                    h[i] = static_cast<std::uint8_t>('0' + n % 10);
                    sum += static_cast<unsigned>(n % 10);
                }
                std::snprintf(reinterpret_cast<char*>(h) + 148, 8, "%06o", sum);
            }
        });
    TarStoreOptions defaults;
    auto stopped = built_store(device, sched, defaults);
    CHECK(stopped->counts().index_truncated == 1);
    CHECK(stopped->index().files() == defaults.limits.max_entries);
    CHECK(stopped->find("f0099999"));
    CHECK_FALSE(stopped->find("f0100000"));
    stopped.reset();

    TarStoreOptions roomy;
    roomy.limits.max_entries = 2'000'000;
    roomy.limits.max_index_bytes = 40u << 20;
    const auto start = std::chrono::steady_clock::now();
    auto all = built_store(device, sched, roomy);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    CHECK(all->counts().index_truncated == 0);
    CHECK(all->index().files() == kMembers);
    CHECK(all->index().memory_bytes() <= roomy.limits.max_index_bytes);
    CHECK(all->find("f0" + std::to_string(kMembers - 1)));
    WARN(kMembers << " members indexed in " << seconds << " s, index "
                  << all->index().memory_bytes() << " B");
}

TEST_CASE("tar store: archives written by GNU tar, gnu and pax formats") {
    if (std::system("tar --version >/dev/null 2>&1") != 0) {
        WARN("GNU tar is not installed: skipped");
        return;
    }
    const fs::path dir = fs::temp_directory_path() / ("netloom_tar_" + std::to_string(::getpid()));
    fs::remove_all(dir);
    const std::string long_dir(120, 'd'), long_file(180, 'f');
    fs::create_directories(dir / "site" / long_dir);
    const auto big = pattern(70'000);
    std::ofstream(dir / "site" / "index.html") << "<h1>gnu tar</h1>\n";
    std::ofstream(dir / "site" / long_dir / long_file, std::ios::binary)
        .write(reinterpret_cast<const char*>(big.data()), static_cast<std::streamsize>(big.size()));
    fs::create_symlink("index.html", dir / "site" / "link.html");
    for (const std::string format : {"gnu", "pax"}) {
        const fs::path archive = dir / (format + ".tar");
        const std::string command = "tar --format=" + format + " -C " + (dir / "site").string() +
                                    " -cf " + archive.string() + " .";
        REQUIRE(std::system(command.c_str()) == 0);
        std::ifstream in(archive, std::ios::binary);
        std::vector<std::uint8_t> image((std::istreambuf_iterator<char>(in)), {});
        ManualScheduler sched;
        MemoryBlockDevice device(sched, image);
        auto store = built_store(device, sched);
        INFO(format);
        REQUIRE_FALSE(store->refused());
        CHECK(store->index().files() == 2);
        CHECK(store->counts().skipped_links == 1);
        CHECK(read_file(*store, sched, *store->find("index.html")) == "<h1>gnu tar</h1>\n");
        const auto e = store->find(long_dir + "/" + long_file);
        REQUIRE(e);
        CHECK(read_file(*store, sched, *e) == std::string(big.begin(), big.end()));
    }
    fs::remove_all(dir);
}
