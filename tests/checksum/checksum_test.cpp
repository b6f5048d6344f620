// Property tests of the checksum implementations (ref, fast, simd-avx2, simd-avx512).
//
// The reference is itself checked against the textbook RFC 1071 loop (16-bit sum with the carry
// folded back after every word); every other implementation must then fold to exactly the
// reference's 16 bits on every input: all lengths 0..4096 at every start offset 0..7, arbitrary
// incoming accumulators, chained even-length pieces, buffers against PROT_NONE guard pages (no
// read outside the span), all-0xff buffers (carry stress) and all-zero ones. Inputs come from a
// seeded PRNG, so a failure reproduces. The simd paths run only where the CPU has them.
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdint>
#include <limits>
#include <random>
#include <span>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "fast_checksum.hpp"
#include "netloom/checksum.hpp"
#include "ref_checksum.hpp"
#include "simd_checksum.hpp"
#include "skip.hpp"

namespace {

using netloom::Checksum;
using netloom::checksum::FastChecksum;
using netloom::checksum::RefChecksum;
using netloom::checksum::SimdChecksum;
using netloom::checksum::SimdCpuFeatures;
using netloom::checksum::SimdPath;
using Bytes = std::vector<std::uint8_t>;

constexpr std::size_t kMaxLength = 4096;
constexpr std::size_t kMaxOffset = 7;

std::vector<std::uint8_t> random_bytes(std::mt19937_64& rng, std::size_t size) {
    std::vector<std::uint8_t> bytes(size);
    for (auto& byte : bytes) byte = static_cast<std::uint8_t>(rng());
    return bytes;
}

/// RFC 1071 §4.1 as printed: add 16-bit big-endian words, folding the carry back after each one.
/// Independent of every implementation under test (and of Checksum::fold).
std::uint16_t textbook_sum(std::span<const std::uint8_t> bytes, std::uint16_t start = 0) {
    std::uint32_t sum = start;
    for (std::size_t i = 0; i < bytes.size(); i += 2) {
        const std::uint32_t high = bytes[i];
        const std::uint32_t low = i + 1 < bytes.size() ? bytes[i + 1] : 0;
        sum += high << 8 | low;
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return static_cast<std::uint16_t>(sum);
}

std::string hex(std::uint64_t value) {
    std::ostringstream out;
    out << "0x" << std::hex << value;
    return out.str();
}

/// Counts disagreements with the reference, reporting the first few in detail (a loop of
/// thousands of REQUIREs would drown the one message that matters).
class Disagreements {
public:
    explicit Disagreements(const Checksum& candidate) : candidate_(candidate) {}

    void compare(std::span<const std::uint8_t> bytes, std::uint64_t acc, const std::string& where) {
        const std::uint16_t expected = Checksum::fold(reference_.partial(bytes, acc));
        const std::uint16_t actual = Checksum::fold(candidate_.partial(bytes, acc));
        if (actual == expected) return;
        if (++count_ <= 5) {
            FAIL_CHECK(candidate_.variant()
                       << " disagrees with ref at " << where << " (length " << bytes.size()
                       << ", acc " << hex(acc) << "): " << hex(actual) << " != " << hex(expected));
        }
    }
    int count() const { return count_; }

private:
    const Checksum& candidate_;
    RefChecksum reference_;
    int count_ = 0;
};

/// A read/write region with an inaccessible page on each side: a read one byte outside it
/// faults, so spans placed flush against either edge prove the code stays inside them.
class GuardedRegion {
public:
    explicit GuardedRegion(std::size_t pages) : page_(static_cast<std::size_t>(getpagesize())) {
        size_ = pages * page_;
        void* mapping = mmap(nullptr, size_ + 2 * page_, PROT_READ | PROT_WRITE,
                             MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (mapping == MAP_FAILED) throw std::runtime_error("mmap failed");
        mapping_ = static_cast<std::uint8_t*>(mapping);
        if (mprotect(mapping_, page_, PROT_NONE) != 0 ||
            mprotect(mapping_ + page_ + size_, page_, PROT_NONE) != 0) {
            throw std::runtime_error("mprotect failed");
        }
    }
    ~GuardedRegion() { munmap(mapping_, size_ + 2 * page_); }
    GuardedRegion(const GuardedRegion&) = delete;
    GuardedRegion& operator=(const GuardedRegion&) = delete;

    std::uint8_t* begin() const { return mapping_ + page_; }
    std::uint8_t* end() const { return begin() + size_; }
    std::size_t size() const { return size_; }

private:
    std::size_t page_;
    std::size_t size_;
    std::uint8_t* mapping_ = nullptr;
};

void store_be16(std::uint8_t* at, std::uint16_t value) {
    at[0] = static_cast<std::uint8_t>(value >> 8);
    at[1] = static_cast<std::uint8_t>(value);
}

std::uint16_t load_be16(const std::uint8_t* at) {
    return static_cast<std::uint16_t>(at[0] << 8 | at[1]);
}

std::uint32_t load_be32(const std::uint8_t* at) {
    return std::uint32_t{load_be16(at)} << 16 | load_be16(at + 2);
}

/// Every property, for one implementation, as sections of the calling TEST_CASE.
void check_against_reference(const Checksum& candidate) {
    std::mt19937_64 rng(0x6e65746c6f6f6dULL);  // fixed seed: failures reproduce
    Disagreements disagreements(candidate);

    SECTION("every length 0..4096 at every start offset 0..7, random contents") {
        for (std::size_t length = 0; length <= kMaxLength; ++length) {
            const Bytes buffer = random_bytes(rng, length + kMaxOffset);
            for (std::size_t offset = 0; offset <= kMaxOffset; ++offset) {
                const std::span<const std::uint8_t> bytes(buffer.data() + offset, length);
                disagreements.compare(bytes, 0, "offset " + std::to_string(offset));
            }
        }
        REQUIRE(disagreements.count() == 0);
    }

    SECTION("arbitrary incoming accumulators, up to 2^64 - 1") {
        const std::uint64_t edge_accs[] = {1,
                                           0xffff,
                                           0x10000,
                                           0xffffffff,
                                           0x100000000,
                                           std::numeric_limits<std::uint64_t>::max(),
                                           std::numeric_limits<std::uint64_t>::max() - 0xffff};
        for (int trial = 0; trial < 2000; ++trial) {
            const Bytes buffer = random_bytes(rng, rng() % (kMaxLength + 1) + kMaxOffset);
            const std::size_t offset = rng() % (kMaxOffset + 1);
            const std::span<const std::uint8_t> bytes(buffer.data() + offset,
                                                      buffer.size() - offset);
            const std::uint64_t acc = trial < 7 ? edge_accs[trial] : rng();
            disagreements.compare(bytes, acc, "trial " + std::to_string(trial));
        }
        REQUIRE(disagreements.count() == 0);
    }

    SECTION("chained partials of even-length pieces equal the whole") {
        RefChecksum reference;
        int mismatches = 0;
        for (int trial = 0; trial < 3000; ++trial) {
            const Bytes message = random_bytes(rng, rng() % (kMaxLength + 1));
            const std::uint64_t start_acc = trial % 2 == 0 ? 0 : rng();
            std::uint64_t acc = start_acc;
            std::size_t at = 0;
            while (at < message.size()) {
                // Even piece lengths (zero included) so each piece starts at an even offset;
                // the last piece takes whatever is left, odd or not.
                std::size_t piece = (rng() % 200) * 2;
                if (piece > message.size() - at) piece = message.size() - at;
                acc = candidate.partial({message.data() + at, piece}, acc);
                at += piece;
            }
            const std::uint16_t whole = Checksum::fold(reference.partial(message, start_acc));
            if (Checksum::fold(acc) != whole && ++mismatches <= 5) {
                FAIL_CHECK("chain of length " << message.size() << ": " << hex(Checksum::fold(acc))
                                              << " != " << hex(whole));
            }
        }
        REQUIRE(mismatches == 0);
    }

    SECTION("copy_partial copies the bytes and sums them like partial") {
        RefChecksum reference;
        for (int trial = 0; trial < 3000; ++trial) {
            const std::size_t length =
                trial < 200 ? static_cast<std::size_t>(trial) : rng() % (kMaxLength + 1);
            const Bytes source = random_bytes(rng, length + kMaxOffset);
            const std::size_t from = rng() % (kMaxOffset + 1), to = rng() % (kMaxOffset + 1);
            Bytes destination(length + kMaxOffset + 1, 0xee);
            const std::uint64_t acc = trial % 3 == 0 ? 0 : rng();
            const std::span<const std::uint8_t> piece(source.data() + from, length);
            const std::uint64_t sum =
                candidate.copy_partial({destination.data() + to, length}, piece, acc);
            REQUIRE(std::equal(piece.begin(), piece.end(), destination.begin() + to));
            REQUIRE(destination[to + length] == 0xee);  // nothing written past the copy
            REQUIRE(Checksum::fold(sum) == Checksum::fold(reference.partial(piece, acc)));
        }
    }

    SECTION("pieces of any length chain with add_at_odd_offset") {
        RefChecksum reference;
        for (int trial = 0; trial < 2000; ++trial) {
            const Bytes message = random_bytes(rng, rng() % (kMaxLength + 1));
            std::uint64_t acc = 0;
            std::size_t at = 0;
            while (at < message.size()) {
                const std::size_t piece = std::min<std::size_t>(rng() % 300, message.size() - at);
                const std::span<const std::uint8_t> bytes(message.data() + at, piece);
                acc = at % 2 == 0 ? candidate.partial(bytes, acc)
                                  : Checksum::add_at_odd_offset(acc, candidate.partial(bytes));
                at += piece;
            }
            REQUIRE(Checksum::fold(acc) == Checksum::fold(reference.partial(message)));
        }
    }

    SECTION("no read outside the span (guard pages on both sides)") {
        GuardedRegion region(2);
        for (std::size_t i = 0; i < region.size(); ++i)
            region.begin()[i] = static_cast<std::uint8_t>(rng());
        for (std::size_t length = 0; length <= kMaxLength; ++length) {
            // Flush against the trailing guard page (any start parity), then the leading one.
            disagreements.compare({region.end() - length, length}, 0, "end of mapping");
            disagreements.compare({region.begin(), length}, 0, "start of mapping");
        }
        REQUIRE(disagreements.count() == 0);
    }

    SECTION("all-0xff buffers: maximal carries, across internal block sizes") {
        constexpr std::size_t KiB = 1024, MiB = 1024 * KiB;
        // Around vector widths and unrolled steps, then past the simd blocks (128 KiB for AVX2,
        // 256 KiB for AVX-512) and far past where a 32-bit lane would wrap without them.
        std::vector<std::size_t> lengths = {1,   2,   3,   31,  32,  33,   63,   64,    65,
                                            127, 128, 255, 256, 257, 1500, 9000, 65535, 65536};
        lengths.insert(lengths.end(), {128 * KiB + 1, 256 * KiB + 3, MiB + 1, 17 * MiB + 3});
        for (const std::size_t length : lengths) {
            const Bytes ones(length + 1, 0xff);
            disagreements.compare({ones.data(), length}, 0, "aligned");
            disagreements.compare({ones.data() + 1, length}, 0, "odd start");
            disagreements.compare({ones.data(), length}, std::numeric_limits<std::uint64_t>::max(),
                                  "max acc");
        }
        REQUIRE(disagreements.count() == 0);
    }

    SECTION("all-zero buffers fold to zero, so finish gives 0xffff") {
        for (const std::size_t length : {0, 1, 2, 63, 64, 1500, 65536}) {
            const Bytes zeros(length, 0);
            CHECK(Checksum::fold(candidate.partial(zeros)) == 0);
            CHECK(candidate.finish(zeros) == 0xffff);
        }
    }

    SECTION("finish is ~fold(partial), and a stored checksum verifies") {
        for (int trial = 0; trial < 1000; ++trial) {
            Bytes message = random_bytes(rng, 12 + 2 * (rng() % 750));  // even, with a field at 10
            store_be16(message.data() + 10, 0);
            const std::uint16_t checksum = candidate.finish(message);
            REQUIRE(checksum ==
                    static_cast<std::uint16_t>(~Checksum::fold(candidate.partial(message))));
            store_be16(message.data() + 10, checksum);
            // RFC 1071 §1: the receiver's sum over data and checksum is all ones.
            REQUIRE(Checksum::fold(candidate.partial(message)) == 0xffff);
            REQUIRE(candidate.finish(message) == 0);
        }
    }

    SECTION("RFC 1624 incremental update equals recomputation") {
        for (int trial = 0; trial < 2000; ++trial) {
            Bytes message = random_bytes(rng, 20 + 2 * (rng() % 740));
            const std::uint16_t before = candidate.finish(message);
            const std::size_t field = 2 * (rng() % (message.size() / 2 - 1));  // field + 4 fits
            if (trial % 2 == 0) {
                const std::uint16_t old_word = load_be16(message.data() + field);
                const auto new_word = static_cast<std::uint16_t>(rng());
                store_be16(message.data() + field, new_word);
                REQUIRE(Checksum::update16(before, old_word, new_word) ==
                        candidate.finish(message));
            } else {
                const std::uint32_t old_value = load_be32(message.data() + field);
                const auto new_value = static_cast<std::uint32_t>(rng());
                store_be16(message.data() + field, static_cast<std::uint16_t>(new_value >> 16));
                store_be16(message.data() + field + 2, static_cast<std::uint16_t>(new_value));
                REQUIRE(Checksum::update32(before, old_value, new_value) ==
                        candidate.finish(message));
            }
        }
    }
}

/// Known answers every implementation must give (facts from the RFCs and a classic header).
void check_known_vectors(const Checksum& candidate) {
    INFO("implementation " << candidate.variant());
    // RFC 1071 §3: the words 0001 f203 f4f5 f6f7 sum to 2ddf0, which folds to ddf2.
    const Bytes rfc1071_example = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
    CHECK(Checksum::fold(candidate.partial(rfc1071_example)) == 0xddf2);
    CHECK(candidate.finish(rfc1071_example) == static_cast<std::uint16_t>(~0xddf2));

    // An IPv4 header (20 bytes, checksum field zeroed) whose checksum is b861.
    Bytes ipv4_header = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
                         0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};
    CHECK(candidate.finish(ipv4_header) == 0xb861);
    store_be16(ipv4_header.data() + 10, 0xb861);
    CHECK(candidate.finish(ipv4_header) == 0);

    // RFC 1624 §4: other words summing to cd7a, field m = 5555 -> 3285. The old checksum is
    // dd2f, eqn. 3 gives 0000, and so does recomputing.
    Bytes message = {0xcd, 0x7a, 0x55, 0x55};
    const std::uint16_t before = candidate.finish(message);
    CHECK(before == 0xdd2f);
    store_be16(message.data() + 2, 0x3285);
    CHECK(Checksum::update16(before, 0x5555, 0x3285) == 0x0000);
    CHECK(candidate.finish(message) == 0x0000);

    // Odd length: the last byte is the high half of a zero-padded word.
    const Bytes odd = {0x12, 0x34, 0x56};
    CHECK(Checksum::fold(candidate.partial(odd)) == 0x1234 + 0x5600);
}

bool simd_path_available(SimdPath path) {
    return netloom::checksum::supports(netloom::checksum::detect_simd_features(), path);
}

}  // namespace

TEST_CASE("ref agrees with the textbook RFC 1071 loop", "[checksum][ref]") {
    std::mt19937_64 rng(1071);
    RefChecksum reference;
    int mismatches = 0;
    for (std::size_t length = 0; length <= kMaxLength; ++length) {
        const Bytes buffer = random_bytes(rng, length + kMaxOffset);
        for (std::size_t offset = 0; offset <= kMaxOffset; ++offset) {
            const std::span<const std::uint8_t> bytes(buffer.data() + offset, length);
            const std::uint64_t acc = offset == 0 ? 0 : rng();
            const std::uint16_t expected = textbook_sum(bytes, Checksum::fold(acc));
            const std::uint16_t actual = Checksum::fold(reference.partial(bytes, acc));
            if (actual != expected && ++mismatches <= 5) {
                FAIL_CHECK("length " << length << " offset " << offset << ": " << hex(actual)
                                     << " != " << hex(expected));
            }
        }
    }
    REQUIRE(mismatches == 0);
    REQUIRE(std::string(reference.variant()) == "ref");
}

TEST_CASE("known vectors", "[checksum]") {
    check_known_vectors(RefChecksum{});
    check_known_vectors(FastChecksum{});
    // The simd paths: in their own cases below, which skip on a CPU that lacks them.
}

TEST_CASE("fast agrees with ref", "[checksum][fast]") {
    const FastChecksum fast;
    check_against_reference(fast);
}

TEST_CASE("simd avx2 path agrees with ref", "[checksum][simd]") {
    if (!simd_path_available(SimdPath::avx2)) {
        NETLOOM_SKIP(cpu, "this CPU lacks AVX2, the simd avx2 path cannot run here");
    }
    const SimdChecksum simd(SimdPath::avx2);
    REQUIRE(std::string(simd.variant()) == "avx2");
    check_known_vectors(simd);
    check_against_reference(simd);
}

TEST_CASE("simd avx512 path agrees with ref", "[checksum][simd]") {
    if (!simd_path_available(SimdPath::avx512)) {
        NETLOOM_SKIP(cpu, "this CPU lacks AVX-512F/BW, the simd avx512 path cannot run here");
    }
    const SimdChecksum simd(SimdPath::avx512);
    REQUIRE(std::string(simd.variant()) == "avx512");
    check_known_vectors(simd);
    check_against_reference(simd);
}

TEST_CASE("simd path choice follows the CPU features", "[checksum][simd]") {
    using netloom::checksum::choose_simd_path;
    using netloom::checksum::simd_unavailable_reason;
    using netloom::checksum::supported_simd_paths;
    const SimdCpuFeatures none{false, false}, avx2_only{true, false}, both{true, true};

    CHECK_FALSE(choose_simd_path("auto", none));
    CHECK_FALSE(choose_simd_path("avx2", none));
    CHECK_FALSE(choose_simd_path("avx512", none));
    REQUIRE(simd_unavailable_reason(none) != nullptr);
    CHECK(std::string(simd_unavailable_reason(none)) ==
          "simd checksum needs AVX2; this CPU lacks it");
    CHECK(supported_simd_paths(none) == "none");

    CHECK(choose_simd_path("auto", avx2_only) == SimdPath::avx2);
    CHECK(choose_simd_path("avx2", avx2_only) == SimdPath::avx2);
    CHECK_FALSE(choose_simd_path("avx512", avx2_only));
    CHECK(simd_unavailable_reason(avx2_only) == nullptr);
    CHECK(supported_simd_paths(avx2_only) == "auto, avx2");

    CHECK(choose_simd_path("auto", both) == SimdPath::avx512);
    CHECK(choose_simd_path("avx2", both) == SimdPath::avx2);
    CHECK(choose_simd_path("avx512", both) == SimdPath::avx512);
    CHECK(supported_simd_paths(both) == "auto, avx2, avx512");

    CHECK_FALSE(choose_simd_path("sse2", both));
}

TEST_CASE("simd refuses to build a path this CPU lacks", "[checksum][simd]") {
    for (const SimdPath path : {SimdPath::avx2, SimdPath::avx512}) {
        if (simd_path_available(path)) {
            CHECK_NOTHROW(SimdChecksum{path});
        } else {
            CHECK_THROWS_AS(SimdChecksum{path}, std::invalid_argument);
        }
    }
}
