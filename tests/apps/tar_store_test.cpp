// tar store: header fields, pax records and names against hostile input (pure); the scanner's
// policy on hand-built archives, well-formed and hostile (bad checksums, sizes past the end,
// unsafe names, links, duplicates, truncated images, limits, random damage); archives written
// by GNU tar itself; 10^6 tiny members through the block device within bounds.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "manual_scheduler.hpp"
#include "memory_block_device.hpp"
#include "tar_header.hpp"
#include "tar_scanner.hpp"
#include "tar_store.hpp"
#include "tar_writer.hpp"

using netloom::apps::TarExtent;
using netloom::apps::TarIndex;
using netloom::apps::TarLimits;
using netloom::apps::TarScanCounts;
using netloom::apps::TarScanner;
using netloom::testing::pax_record;
using netloom::testing::tar_header;
using netloom::testing::TarBlock;
using netloom::testing::TarFormat;
using netloom::testing::TarWriter;
namespace tar = netloom::apps::tar;

namespace {

struct Scanned {
    TarIndex index;
    TarScanCounts counts;
    std::string refusal;
};

// Drives the scanner over bytes in memory, checking it only asks for bytes inside them.
Scanned scan(const std::vector<std::uint8_t>& image, const TarLimits& limits = {}) {
    TarScanner scanner(image.size(), limits);
    std::uint64_t last = 0;
    while (const auto need = scanner.need()) {
        REQUIRE(need->offset >= last);  // forward only
        REQUIRE(need->offset + need->bytes <= image.size());
        last = need->offset;
        scanner.supply({image.data() + need->offset, need->bytes});
    }
    Scanned out{scanner.take_index(), scanner.counts(), scanner.refusal()};
    CHECK(out.counts.refused == (out.refusal.empty() ? 0u : 1u));
    return out;
}

std::string content(const std::vector<std::uint8_t>& image, const TarExtent& e) {
    return std::string(image.begin() + static_cast<std::ptrdiff_t>(e.offset),
                       image.begin() + static_cast<std::ptrdiff_t>(e.offset + e.size));
}

std::string served(const Scanned& s, const std::vector<std::uint8_t>& image, const char* name) {
    const auto e = s.index.find(name);
    return e ? content(image, *e) : "<none>";
}

std::span<const std::uint8_t> bytes(std::string_view s) {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

void fix_checksum(std::vector<std::uint8_t>& image, std::size_t header_at) {
    std::memset(image.data() + header_at + 148, ' ', 8);
    unsigned sum = 0;
    for (std::size_t i = 0; i < 512; ++i) sum += image[header_at + i];
    char check[8];
    std::snprintf(check, sizeof check, "%06o", sum);
    std::memcpy(image.data() + header_at + 148, check, 6);
    image[header_at + 154] = 0;
}

TarBlock refreshed(TarBlock block) {
    std::vector<std::uint8_t> v(block.begin(), block.end());
    fix_checksum(v, 0);
    std::copy(v.begin(), v.end(), block.begin());
    return block;
}

}  // namespace

TEST_CASE("tar numbers: octal with spaces and NULs, base-256, and garbage") {
    const auto n = [](std::string_view s) { return tar::parse_number(bytes(s)); };
    CHECK(n("00000000017\0") == 15u);
    CHECK(n("   17 \0\0") == 15u);
    CHECK(n(std::string_view("\0\0\0\0", 4)) == 0u);
    CHECK(n("17") == 15u);
    CHECK_FALSE(n("0000001800\0"));  // 8 is not octal
    CHECK_FALSE(n("12x\0"));
    CHECK_FALSE(n("-1\0"));
    CHECK(n("777777777777") == 68719476735u);  // 12 digits fill 36 bits
    const std::uint8_t big[12] = {0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2};
    CHECK(tar::parse_number(big) == 258u);
    const std::uint8_t negative[12] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                       0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    CHECK_FALSE(tar::parse_number(negative));
    const std::uint8_t huge[12] = {0x80, 0, 0, 0x80, 0, 0, 0, 0, 0, 0, 0, 0};  // 2^71
    CHECK_FALSE(tar::parse_number(huge));
}

TEST_CASE("tar headers: ustar with a prefix, GNU, checksums, magic, size") {
    const TarBlock posix = tar_header("file.txt", '0', 1234, TarFormat::posix, "a/b");
    auto p = tar::parse_header(posix);
    REQUIRE(p.status == tar::HeaderStatus::ok);
    CHECK(p.header.name == "a/b/file.txt");
    CHECK(p.header.type == '0');
    CHECK(p.header.size == 1234);
    // GNU's prefix area holds other fields: never read as a prefix.
    TarBlock gnu = tar_header("g.txt", '0', 5, TarFormat::gnu);
    std::memcpy(gnu.data() + 345, "junk", 4);
    p = tar::parse_header(refreshed(gnu));
    REQUIRE(p.status == tar::HeaderStatus::ok);
    CHECK(p.header.name == "g.txt");
    CHECK(tar::parse_header(TarBlock{}).status == tar::HeaderStatus::zero);
    CHECK(tar::parse_header(tar_header("x", '0', 1, TarFormat::posix, {}, 1)).status ==
          tar::HeaderStatus::bad_checksum);
    TarBlock old_type = tar_header("x", '0', 1);
    old_type[156] = 0;  // pre-POSIX regular file
    CHECK(tar::parse_header(refreshed(old_type)).header.type == '0');
    TarBlock v7 = tar_header("x", '0', 1);
    std::memset(v7.data() + 257, 0, 8);
    CHECK(tar::parse_header(refreshed(v7)).status == tar::HeaderStatus::bad_magic);
    TarBlock bad_size = tar_header("x", '0', 1);
    std::memcpy(bad_size.data() + 124, "9999", 4);
    CHECK(tar::parse_header(refreshed(bad_size)).status == tar::HeaderStatus::bad_number);
    // A signed checksum (old writers, bytes >= 0x80 in a name) is accepted too.
    TarBlock high = tar_header("\xe9t\xe9", '0', 1);
    unsigned usum = 0;
    int ssum = 0;
    std::memset(high.data() + 148, ' ', 8);
    for (const std::uint8_t c : high) {
        usum += c;
        ssum += static_cast<std::int8_t>(c);
    }
    char check[8];
    std::snprintf(check, sizeof check, "%06o", static_cast<unsigned>(ssum));
    std::memcpy(high.data() + 148, check, 7);
    CHECK(usum != static_cast<unsigned>(ssum));
    CHECK(tar::parse_header(high).status == tar::HeaderStatus::ok);
}

TEST_CASE("tar pax records: path, size, sparse, padding and malformed records") {
    tar::PaxFields f;
    REQUIRE(tar::parse_pax_records(
        bytes(pax_record("path", std::string(300, 'p')) + pax_record("size", "123") +
              pax_record("mtime", "1.5") + pax_record("path", "b=c")),
        f));
    CHECK(f.path == "b=c");  // a later record wins; '=' in a value is fine
    CHECK(f.size == 123u);
    CHECK_FALSE(f.sparse);
    REQUIRE(tar::parse_pax_records(
        bytes(pax_record("GNU.sparse.major", "1") + std::string(20, '\0')), f));
    CHECK(f.sparse);
    for (const std::string& bad :
         {std::string("5 path\n"), std::string("0 path=x\n"), std::string("99 path=x\n"),
          std::string("9 path=x\n") + "junk", std::string("11 path=abc"), std::string("x path=a\n"),
          std::string("10 =value\n"), pax_record("size", "12a"),
          pax_record("size", "99999999999999999999"), pax_record("size", "-1"),
          pax_record("path", "a") + std::string(3, '\0') + "x",
          std::string("184467440737095516150 path=a\n")}) {
        tar::PaxFields g;
        CHECK_FALSE(tar::parse_pax_records(bytes(bad), g));
    }
    tar::PaxFields empty_size;
    empty_size.size = 7;
    REQUIRE(tar::parse_pax_records(bytes(pax_record("size", "")), empty_size));
    CHECK_FALSE(empty_size.size);
}

TEST_CASE("tar names: normalised, and absolute or climbing names refused") {
    const auto n = [](std::string_view s) { return tar::normalize_member_name(s); };
    CHECK(n("./a//b/./c/").name == "a/b/c");
    CHECK(n("a").name == "a");
    CHECK(n("./").check == tar::NameCheck::empty);
    CHECK(n("").check == tar::NameCheck::empty);
    CHECK(n("/etc/passwd").check == tar::NameCheck::unsafe);
    CHECK(n("a/../../etc/passwd").check == tar::NameCheck::unsafe);
    CHECK(n("..").check == tar::NameCheck::unsafe);
    CHECK(n("a/..").check == tar::NameCheck::unsafe);
    CHECK(n(std::string_view("a\0b", 3)).check == tar::NameCheck::unsafe);
    CHECK(n("..a/b..").name == "..a/b..");  // only a whole ".." segment climbs
}

TEST_CASE("tar scanner: files, directories, pax and GNU long names, extents on the data") {
    TarWriter w;
    w.member("./", '5', "");
    w.file("./index.html", "<h1>hi</h1>\n");
    w.member("./sub/", '5', "");
    w.file("./sub/a.txt", std::string(1000, 'a'));
    const std::string long_name = "deep/" + std::string(200, 'n') + "/file.bin";
    w.pax(pax_record("path", long_name) + pax_record("mtime", "1700000000.5"));
    w.file("PaxHeaders/short", "pax content");  // the header's own name loses to the pax path
    w.pax(pax_record("size", "600"));  // the data is 600 bytes whatever the size field says
    w.member("sized.bin", '0', std::string(600, 's'), 0);
    const std::string gnu_name = std::string(150, 'g') + ".txt";
    w.long_name(gnu_name);
    w.block(tar_header(gnu_name.substr(0, 100), '0', 3, TarFormat::gnu));
    w.data("gnu");
    w.file("empty", "");
    w.end();
    auto& image = w.bytes();
    const Scanned s = scan(image);
    REQUIRE(s.refusal.empty());
    CHECK(s.index.files() == 6);
    CHECK(served(s, image, "index.html") == "<h1>hi</h1>\n");
    CHECK(served(s, image, "sub/a.txt") == std::string(1000, 'a'));
    CHECK(served(s, image, long_name.c_str()) == "pax content");
    CHECK_FALSE(s.index.find("PaxHeaders/short"));
    CHECK(served(s, image, "sized.bin") == std::string(600, 's'));
    CHECK(served(s, image, gnu_name.c_str()) == "gnu");
    CHECK(served(s, image, "empty").empty());
    CHECK_FALSE(s.index.find("sub"));  // directories are not files
    CHECK(s.counts.directories == 2);
    CHECK(s.counts.members == 12);
    CHECK(s.index.memory_bytes() > 0);
}

TEST_CASE("tar scanner: unsafe names, links, devices and other types are not served") {
    TarWriter w;
    w.file("/etc/passwd", "root:x");
    w.file("../../etc/shadow", "secret");
    w.file("a/../../b", "climb");
    w.file("ok.txt", "ok");
    w.member("link", '2', "");
    w.member("hard", '1', "");
    w.member("dev", '3', "");
    w.member("blk", '4', "");
    w.member("fifo", '6', "");
    w.member("vendor", 'Z', "vendor data, skipped whole");
    w.pax(pax_record("GNU.sparse.major", "1") + pax_record("GNU.sparse.minor", "0"));
    w.file("sparse.img", "map and data");
    w.file("after.txt", "after");
    w.end();
    const Scanned s = scan(w.bytes());
    REQUIRE(s.refusal.empty());
    CHECK(s.counts.skipped_unsafe_names == 3);
    CHECK(s.counts.skipped_links == 2);
    CHECK(s.counts.skipped_special == 3);
    CHECK(s.counts.skipped_other == 2);
    CHECK(s.index.files() == 2);
    CHECK(served(s, w.bytes(), "ok.txt") == "ok");
    CHECK(served(s, w.bytes(), "after.txt") == "after");
    for (const char* hidden :
         {"etc/passwd", "link", "hard", "dev", "fifo", "vendor", "sparse.img"}) {
        CHECK_FALSE(s.index.find(hidden));
    }
}

TEST_CASE("tar scanner: links and devices store no data, whatever their size field says") {
    // POSIX: no data records for types 1-6. A reader that skipped 1024 bytes here would take
    // the smuggled header for a member.
    TarWriter w;
    w.member("link", '2', "", 1024);
    w.file("real.txt", "real");
    w.file("smuggled", "x");
    w.end();
    const Scanned s = scan(w.bytes());
    REQUIRE(s.refusal.empty());
    CHECK(served(s, w.bytes(), "real.txt") == "real");
    CHECK(served(s, w.bytes(), "smuggled") == "x");
}

TEST_CASE("tar scanner: duplicate names, the last member wins as in extraction") {
    TarWriter w;
    w.file("a.txt", "first");
    w.file("b.txt", "b1");
    w.file("./a.txt", "second");
    w.file("c.txt", "c1");
    w.member("c.txt", '2', "");  // a later symlink replaces the file
    w.member("d", '5', "");
    w.file("d", "a file after the directory of that name");
    w.end();
    const Scanned s = scan(w.bytes());
    REQUIRE(s.refusal.empty());
    CHECK(served(s, w.bytes(), "a.txt") == "second");
    CHECK(served(s, w.bytes(), "b.txt") == "b1");
    CHECK_FALSE(s.index.find("c.txt"));
    CHECK(served(s, w.bytes(), "d") == "a file after the directory of that name");
    CHECK(s.counts.duplicate_names == 3);
    CHECK(s.index.files() == 3);
}

TEST_CASE("tar scanner: structural damage refuses the whole archive") {
    SECTION("a bad checksum in the middle") {
        TarWriter w;
        w.file("a", "a");
        const std::size_t at = w.offset();
        w.block(tar_header("b", '0', 1, TarFormat::posix, {}, 7));
        w.data("b");
        w.file("c", "c");
        w.end();
        const Scanned s = scan(w.bytes());
        CHECK(s.refusal == "bad header checksum at byte " + std::to_string(at));
        CHECK(s.index.files() == 0);  // "a" was fine, but nothing is served
    }
    SECTION("not a tar archive") {
        std::vector<std::uint8_t> image(4096, 'x');
        CHECK(scan(image).refusal.starts_with("bad header checksum at byte 0"));
    }
    SECTION("a truncated image: data past the end") {
        TarWriter w;
        w.file("a", "a");
        w.file("big", std::string(5000, 'b'));
        auto image = w.bytes();
        image.resize(image.size() - 2048);
        const Scanned s = scan(image);
        CHECK(s.refusal.find("past the end of the device") != std::string::npos);
        CHECK(s.index.files() == 0);
    }
    SECTION("a size field far past the end, and at the 2^63 bound") {
        for (const std::uint64_t size : {std::uint64_t{1} << 40, (std::uint64_t{1} << 63) - 1}) {
            TarWriter w;
            w.block(tar_header("huge", '0', size));
            w.end();
            CHECK(scan(w.bytes()).refusal.find("past the end") != std::string::npos);
        }
    }
    SECTION("a pax header over the limit, malformed pax data, a GNU sparse member") {
        TarWriter big;
        big.pax(std::string(TarScanner::kMaxPaxBytes + 1, '\n'));
        big.end();
        CHECK(scan(big.bytes()).refusal.find("pax extended header of") != std::string::npos);
        TarWriter bad;
        bad.pax("12 path=abc");
        bad.file("x", "x");
        bad.end();
        CHECK(scan(bad.bytes()).refusal.starts_with("malformed pax"));
        TarWriter sparse;
        sparse.member("s", 'S', "data");
        sparse.end();
        CHECK(scan(sparse.bytes()).refusal.find("sparse") != std::string::npos);
    }
}

TEST_CASE("tar scanner: the end of the device on a header boundary ends the archive") {
    TarWriter w;
    w.file("a", "a");
    w.file("b", std::string(512, 'b'));  // no end blocks, no padding needed
    const Scanned s = scan(w.bytes());
    REQUIRE(s.refusal.empty());
    CHECK(s.index.files() == 2);
    const Scanned empty = scan(std::vector<std::uint8_t>(8192, 0));
    CHECK(empty.refusal.empty());
    CHECK(empty.index.files() == 0);
    CHECK(scan({}).index.files() == 0);
}

TEST_CASE("tar scanner: names over max_name_bytes are skipped, from every source") {
    TarLimits limits;
    limits.max_name_bytes = 50;
    TarWriter w;
    w.file(std::string(60, 'u'), "ustar");
    w.pax(pax_record("path", std::string(60, 'p')));
    w.file("p", "pax");
    w.long_name(std::string(60, 'l'));  // its data is not even read
    w.block(tar_header("l", '0', 1, TarFormat::gnu));
    w.data("l");
    w.file(std::string(50, 'k'), "kept");
    w.end();
    const Scanned s = scan(w.bytes(), limits);
    REQUIRE(s.refusal.empty());
    CHECK(s.counts.skipped_long_names == 3);
    CHECK(s.index.files() == 1);
    CHECK(served(s, w.bytes(), std::string(50, 'k').c_str()) == "kept");
}

TEST_CASE("tar scanner: max_entries and max_index_bytes stop indexing within bounds") {
    TarWriter w;
    for (int i = 0; i < 100; ++i) w.file("f" + std::to_string(1000 + i), std::to_string(i));
    w.end();
    TarLimits by_count;
    by_count.max_entries = 10;
    Scanned s = scan(w.bytes(), by_count);
    REQUIRE(s.refusal.empty());
    CHECK(s.counts.index_truncated == 1);
    CHECK(s.index.files() == 10);
    CHECK(served(s, w.bytes(), "f1009") == "9");
    CHECK_FALSE(s.index.find("f1010"));
    TarLimits by_bytes;
    by_bytes.max_index_bytes = 20 * (5 + sizeof(TarIndex::Entry));
    s = scan(w.bytes(), by_bytes);
    CHECK(s.counts.index_truncated == 1);
    CHECK(s.index.files() == 20);
    CHECK(s.index.memory_bytes() <= by_bytes.max_index_bytes);
}

TEST_CASE("tar scanner: random damage to a valid archive never escapes the device") {
    TarWriter w;
    w.file("a.txt", "alpha");
    w.pax(pax_record("path", "long/" + std::string(120, 'x')) + pax_record("size", "700"));
    w.member("p", '0', std::string(700, 'p'), 0);
    w.long_name(std::string(130, 'g'));
    w.block(tar_header("g", '0', 3, TarFormat::gnu));
    w.data("gnu");
    w.member("dir/", '5', "");
    w.file("dir/b.bin", std::string(3000, 'b'));
    w.end();
    const std::vector<std::uint8_t> valid = w.bytes();
    std::mt19937_64 random(14);
    int refused = 0, served_some = 0;
    for (int round = 0; round < 3000; ++round) {
        std::vector<std::uint8_t> image = valid;
        const int flips = 1 + static_cast<int>(random() % 8);
        for (int i = 0; i < flips; ++i) image[random() % image.size()] = random() & 0xff;
        // Hostile writers fix their checksums: make the damage reach the parser.
        if (round % 2 == 0) {
            for (std::size_t at = 0; at < image.size(); at += 512) {
                if (tar::parse_header(std::span<const std::uint8_t, 512>(image.data() + at, 512))
                        .status == tar::HeaderStatus::bad_checksum) {
                    fix_checksum(image, at);
                }
            }
        }
        if (round % 3 == 0) image.resize(512 * (random() % (image.size() / 512 + 1)));
        const Scanned s = scan(image);
        refused += s.counts.refused ? 1 : 0;
        served_some += s.index.files() > 0 ? 1 : 0;
        for (std::size_t i = 0; i < s.index.files(); ++i) {
            const auto e = s.index.find(s.index.name(i));
            REQUIRE(e);
            REQUIRE(e->offset + e->size <= image.size());
            REQUIRE(tar::normalize_member_name(s.index.name(i)).name == s.index.name(i));
        }
    }
    CHECK(refused > 0);
    CHECK(served_some > 0);
}
