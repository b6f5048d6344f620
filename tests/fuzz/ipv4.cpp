// Fuzzes Ipv4View::parse and Ipv4Repr (host/include/netloom/wire/ipv4.hpp) with arbitrary
// datagrams. Checks: acceptance is exactly RFC 791's "version 4, IHL >= 5, IHL*4 <= total length
// <= buffer"; the view covers exactly total_length() bytes and its header, options and payload
// lie inside them (ASan reads every accessor); the stack's checksum and a bytewise reference
// agree; Repr -> emit writes a header whose checksum verifies and that parses back to the same
// Repr, and that equals the original header but for the checksum when it had no options.
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include "fast_checksum.hpp"
#include "fuzz_check.hpp"
#include "wire_dissect.hpp"

using namespace netloom::wire;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const netloom::checksum::FastChecksum fast;
    const std::span<const std::uint8_t> bytes(data, size);
    const auto view = Ipv4View::parse(bytes);
    bool acceptable = false;
    if (size >= 20 && (data[0] >> 4) == 4) {
        const std::size_t ihl = data[0] & 0x0f, total = data[2] << 8 | data[3];
        acceptable = ihl >= 5 && ihl * 4 <= total && total <= size;
    }
    FUZZ_CHECK(view.ok() == acceptable);
    if (!view) return 0;
    wire_test::read_all(*view);
    FUZZ_CHECK(view->bytes().size() == view->total_length());
    FUZZ_CHECK(view->header_length() + view->payload().size() == view->total_length());
    FUZZ_CHECK(wire_test::within(view->options(), bytes) &&
               wire_test::within(view->payload(), bytes));
    FUZZ_CHECK(view->verify_checksum(fast) == view->verify_checksum(wire_test::checksum()));

    const auto repr = Ipv4Repr::parse(*view);
    FUZZ_CHECK(repr.ok());
    std::uint8_t out[20];
    // emit refuses a total length past 65535 (the payload length is as received, so it cannot
    // pass it) and nothing else a parsed header can carry.
    FUZZ_CHECK(repr->emit(out, fast));
    std::vector<std::uint8_t> datagram(out, out + 20);
    datagram.insert(datagram.end(), view->payload().begin(), view->payload().end());
    const auto again = Ipv4View::parse(datagram);
    FUZZ_CHECK(again.ok() && again->verify_checksum(fast));
    FUZZ_CHECK(Ipv4Repr::parse(*again).value() == *repr);
    if (view->header_length() == 20 && !view->reserved_flag()) {
        FUZZ_CHECK(std::memcmp(out, data, 10) == 0 && std::memcmp(out + 12, data + 12, 8) == 0);
    }
    return 0;
}
