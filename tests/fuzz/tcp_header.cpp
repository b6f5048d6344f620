// Fuzzes TcpView::parse, TcpOptionReader, parse_tcp_options and TcpRepr
// (host/include/netloom/wire/tcp.hpp) with arbitrary segments. Checks: acceptance is exactly
// "20 bytes or more, 5 <= data offset, data offset * 4 <= bytes given"; header, options and
// payload add up to the segment; TcpOptionReader and parse_tcp_options agree on whether the
// options are well formed (RFC 9293 3.2, RFC 7323, RFC 2018 lengths); an accepted Repr emits a
// segment whose checksum verifies and that parses back to the same Repr (options as read, SACK
// blocks cut to what fits), with the payload unchanged.
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
    // The options area alone, as parse_tcp_options sees it from any caller.
    const auto alone = parse_tcp_options(bytes.first(std::min<std::size_t>(size, 40)));
    FUZZ_CHECK(alone.ok() || alone.error() == ParseError::bad_option);

    const auto view = TcpView::parse(bytes);
    FUZZ_CHECK(view.ok() == (size >= 20 && (data[12] >> 4) >= 5 && (data[12] >> 4) * 4u <= size));
    if (!view) return 0;
    wire_test::read_all(*view);
    FUZZ_CHECK(20 + view->options().size() + view->payload().size() == size);
    FUZZ_CHECK(view->verify_checksum(fast, source, destination) ==
               view->verify_checksum(wire_test::checksum(), source, destination));

    TcpOptionReader reader(view->options());
    TcpOption option;
    while (reader.next(option)) FUZZ_CHECK(wire_test::within(option.data, view->options()));
    const auto repr = TcpRepr::parse(*view);
    if (!repr) {
        FUZZ_CHECK(repr.error() == ParseError::bad_option);
        return 0;
    }
    FUZZ_CHECK(repr->options.sack_count <= TcpOptions::kMaxSackBlocks);
    FUZZ_CHECK(repr->options.encoded_length() <= 40 && repr->options.encoded_length() % 4 == 0);
    std::vector<std::uint8_t> out(repr->buffer_len());
    const std::size_t written = repr->emit(out, source, destination, fast);
    if (repr->buffer_len() > 65535) {
        FUZZ_CHECK(written == 0);
        return 0;
    }
    FUZZ_CHECK(written == out.size());
    const auto again_view = TcpView::parse(out);
    FUZZ_CHECK(again_view.ok() && again_view->verify_checksum(fast, source, destination));
    const auto again = TcpRepr::parse(*again_view);
    FUZZ_CHECK(again.ok());
    TcpRepr expected = *repr;
    expected.options.sack_count = static_cast<std::uint8_t>(repr->options.emitted_sack_count());
    for (std::size_t i = expected.options.sack_count; i < TcpOptions::kMaxSackBlocks; ++i)
        expected.options.sack_blocks[i] = {};
    FUZZ_CHECK(again->options == expected.options);
    FUZZ_CHECK(again->sequence_number == repr->sequence_number &&
               again->acknowledgment_number == repr->acknowledgment_number &&
               again->flags == repr->flags && again->window == repr->window &&
               again->urgent_pointer == repr->urgent_pointer &&
               again->source_port == repr->source_port &&
               again->destination_port == repr->destination_port);
    FUZZ_CHECK(wire_test::same_bytes(again->payload, repr->payload));
    return 0;
}
