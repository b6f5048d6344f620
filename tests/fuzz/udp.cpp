// Fuzzes UdpView::parse and UdpRepr (host/include/netloom/wire/udp.hpp) with arbitrary IP
// payloads. Checks: acceptance is exactly RFC 768's "8 <= length field <= bytes given"; the
// view covers exactly length() bytes; the stack's checksum and a bytewise reference agree;
// Repr -> emit gives back the datagram but for its checksum, which is never 0 and verifies.
#include <cstdint>
#include <span>
#include <vector>

#include "fast_checksum.hpp"
#include "fuzz_check.hpp"
#include "wire_dissect.hpp"

using namespace netloom::wire;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const netloom::checksum::FastChecksum fast;
    const Ipv4Address source(192, 0, 2, 1), destination(198, 51, 100, 2);
    const std::span<const std::uint8_t> bytes(data, size);
    const auto view = UdpView::parse(bytes);
    const std::size_t length = size >= 8 ? std::size_t(data[4] << 8 | data[5]) : 0;
    FUZZ_CHECK(view.ok() == (size >= 8 && length >= 8 && length <= size));
    if (!view) return 0;
    wire_test::read_all(*view);
    FUZZ_CHECK(view->bytes().size() == length && view->bytes().data() == data);
    FUZZ_CHECK(view->verify_checksum(fast, source, destination) ==
               view->verify_checksum(wire_test::checksum(), source, destination));
    const auto repr = UdpRepr::parse(*view);
    FUZZ_CHECK(repr.ok());
    std::vector<std::uint8_t> out(repr->buffer_len());
    FUZZ_CHECK(repr->emit(out, source, destination, fast) == length);
    for (std::size_t i = 0; i < length; ++i)
        if (i != 6 && i != 7) FUZZ_CHECK(out[i] == data[i]);
    const auto again = UdpView::parse(out);
    FUZZ_CHECK(again.ok() && again->checksum() != 0);
    FUZZ_CHECK(again->verify_checksum(fast, source, destination));
    return 0;
}
