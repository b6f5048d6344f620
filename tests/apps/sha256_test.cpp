// SHA-256 against the FIPS 180-4 / NIST example vectors and against sha256sum and Python's
// hashlib on a large pseudo-random buffer; DataStream's stream is independent of chunking.
#include <catch2/catch.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "data_stream.hpp"
#include "sha256.hpp"
#include "skip.hpp"

using netloom::apps::DataStream;
using netloom::apps::Sha256;

namespace {

std::span<const std::uint8_t> bytes_of(const std::string& text) {
    return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

std::string hex_of(const std::string& text) {
    return Sha256::hex(Sha256::of(bytes_of(text)));
}

std::vector<std::uint8_t> generated(std::uint64_t seed, std::size_t size) {
    std::vector<std::uint8_t> out(size);
    DataStream(seed).fill(out);
    return out;
}

// First line of a command's output, trimmed at the first space/newline.
std::string first_word_of_command(const std::string& command) {
    std::FILE* pipe = ::popen(command.c_str(), "r");
    REQUIRE(pipe != nullptr);
    char line[256] = {};
    const bool got = std::fgets(line, sizeof line, pipe) != nullptr;
    const int status = ::pclose(pipe);
    REQUIRE(got);
    REQUIRE(status == 0);
    std::string word(line);
    return word.substr(0, word.find_first_of(" \n"));
}

}  // namespace

TEST_CASE("SHA-256: FIPS 180-4 example messages") {
    // FIPS 180-4 examples (NIST CSRC "SHA256.pdf", "SHA2_Additional.pdf").
    CHECK(hex_of("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CHECK(hex_of("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    CHECK(hex_of("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
          "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    CHECK(hex_of("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnop"
                 "qklmnopqrlmnopqrsmnopqrstnopqrstu") ==
          "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
    CHECK(hex_of(std::string(1'000'000, 'a')) ==
          "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST_CASE("SHA-256: padding boundaries 55, 56, 63, 64 bytes agree between piecewise and whole") {
    for (std::size_t size : {55u, 56u, 57u, 63u, 64u, 65u, 119u, 120u, 128u}) {
        const auto data = generated(size, size);
        Sha256 piecewise;
        for (std::uint8_t byte : data) piecewise.update({&byte, 1});
        CHECK(piecewise.final() == Sha256::of(data));
    }
}

TEST_CASE("SHA-256: incremental updates of any sizes give the one-shot digest") {
    const auto data = generated(7, 1 << 20);
    const Sha256::Digest whole = Sha256::of(data);
    Sha256 hash;
    std::size_t offset = 0, step = 1;
    while (offset < data.size()) {
        const std::size_t n = std::min(step, data.size() - offset);
        hash.update(std::span<const std::uint8_t>(data).subspan(offset, n));
        offset += n;
        step = step * 3 % 1000 + 1;  // 1, 4, 13, 40, ... sizes that straddle block edges
    }
    CHECK(hash.final() == whole);
    // final() resets: the object hashes a new message from scratch.
    hash.update(bytes_of("abc"));
    CHECK(Sha256::hex(hash.final()) == hex_of("abc"));
}

TEST_CASE("SHA-256: SHA-NI is used exactly when the CPU has it") {
    const bool sha_ni = netloom::apps::detail::sha256_cpu_has_sha_ni();
    CHECK(std::string(Sha256::implementation()) == (sha_ni ? "sha-ni" : "portable"));
}

TEST_CASE("SHA-256: the SHA-NI and portable block functions agree") {
    if (!netloom::apps::detail::sha256_cpu_has_sha_ni()) {
        NETLOOM_SKIP(cpu,
                     "this CPU has no SHA extensions (SHA-NI): the portable code is tested alone");
    }
    const auto data = generated(99, 64 * 1000);
    for (std::size_t blocks : {1u, 2u, 17u, 1000u}) {
        std::uint32_t portable[8] = {1, 2, 3, 4, 5, 6, 7, 8};
        std::uint32_t accelerated[8] = {1, 2, 3, 4, 5, 6, 7, 8};
        netloom::apps::detail::sha256_blocks_portable(portable, data.data(), blocks);
        netloom::apps::detail::sha256_blocks_sha_ni(accelerated, data.data(), blocks);
        CHECK(std::equal(portable, portable + 8, accelerated));
    }
}

TEST_CASE("SHA-256: 24 MiB + 13 bytes agree with sha256sum and Python hashlib") {
    const auto data = generated(2026, (24u << 20) + 13);
    const auto path = std::filesystem::temp_directory_path() /
                      ("netloom_sha256_test_" + std::to_string(::getpid()) + ".bin");
    {
        std::ofstream out(path, std::ios::binary);
        out.write(reinterpret_cast<const char*>(data.data()),
                  static_cast<std::streamsize>(data.size()));
        REQUIRE(out.good());
    }
    const std::string ours = Sha256::hex(Sha256::of(data));
    const std::string coreutils = first_word_of_command("sha256sum '" + path.string() + "'");
    const std::string python = first_word_of_command(
        "python3 -c 'import hashlib,sys; print(hashlib.sha256(open(sys.argv[1],\"rb\").read())"
        ".hexdigest())' '" +
        path.string() + "'");
    std::filesystem::remove(path);
    CHECK(ours == coreutils);
    CHECK(ours == python);
}

TEST_CASE("DataStream: the stream does not depend on how it is cut, and seeds differ") {
    const auto whole = generated(42, 10'000);
    DataStream pieces(42);
    std::vector<std::uint8_t> joined;
    for (std::size_t size : {1u, 7u, 8u, 9u, 3u, 64u, 1000u, 5u, 8903u}) {
        std::vector<std::uint8_t> piece(size);
        pieces.fill(piece);
        joined.insert(joined.end(), piece.begin(), piece.end());
    }
    REQUIRE(joined.size() == whole.size());
    CHECK(joined == whole);
    CHECK(pieces.position() == whole.size());
    CHECK(generated(43, 10'000) != whole);
}

TEST_CASE("DataStream: seed 0 starts with SplitMix64's published first output") {
    // SplitMix64 seeded with 0 first returns 0xe220a8397b1dcdaf (the reference sequence of
    // Vigna's splitmix64.c); the stream lays it out least significant byte first.
    const auto bytes = generated(0, 8);
    std::uint64_t word = 0;
    for (int i = 7; i >= 0; --i) word = (word << 8) | bytes[i];
    CHECK(word == 0xe220a8397b1dcdafULL);
}
