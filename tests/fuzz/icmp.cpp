// Fuzzes IcmpView::parse, IcmpView::quoted and IcmpRepr (host/include/netloom/wire/icmp.hpp)
// with arbitrary ICMP messages. Checks: acceptance is exactly "8 bytes or more"; a quote (error
// types only) is an IPv4 header of 20..60 bytes and 8 transport bytes, inside the message;
// Repr -> emit gives back the message but for its checksum, which then verifies; the stack's
// checksum and a bytewise reference agree; icmp_quote_length stays within what it was given.
#include <cstdint>
#include <span>
#include <vector>

#include "fast_checksum.hpp"
#include "fuzz_check.hpp"
#include "wire_dissect.hpp"

using namespace netloom::wire;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const netloom::checksum::FastChecksum fast;
    const std::span<const std::uint8_t> bytes(data, size);
    FUZZ_CHECK(icmp_quote_length(bytes) <= size);
    const auto view = IcmpView::parse(bytes);
    FUZZ_CHECK(view.ok() == (size >= 8));
    if (!view) return 0;
    wire_test::read_all(*view);
    FUZZ_CHECK(view->verify_checksum(fast) == view->verify_checksum(wire_test::checksum()));
    const auto quote = view->quoted();
    if (!is_icmp_error(view->type())) FUZZ_CHECK(!quote.ok());
    if (quote) {
        FUZZ_CHECK(wire_test::within(quote->header, bytes));
        FUZZ_CHECK(wire_test::within(quote->transport, bytes));
        FUZZ_CHECK(quote->header.size() >= 20 && quote->header.size() <= 60);
        FUZZ_CHECK(quote->transport.size() == 8);
        FUZZ_CHECK(quote->transport.data() == quote->header.data() + quote->header.size());
    }
    const auto repr = IcmpRepr::parse(*view);
    FUZZ_CHECK(repr.ok());
    std::vector<std::uint8_t> out(repr->buffer_len());
    const std::size_t written = repr->emit(out, fast);
    if (size > 65515) {
        FUZZ_CHECK(written == 0);
        return 0;
    }
    FUZZ_CHECK(written == size);
    for (std::size_t i = 0; i < size; ++i)
        if (i != 2 && i != 3) FUZZ_CHECK(out[i] == data[i]);
    FUZZ_CHECK(IcmpView::parse(out)->verify_checksum(fast));
    return 0;
}
