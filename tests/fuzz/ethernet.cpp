// Fuzzes EthernetView::parse and EthernetRepr (host/include/netloom/wire/ethernet.hpp) with
// arbitrary frames. Checks: acceptance is exactly "14 bytes or more and an EtherType >= 0x0600";
// every accessor stays inside the frame (ASan); the payload is the frame minus its 14-byte
// header; Repr -> emit gives back the header bytes unchanged.
#include <cstdint>
#include <cstring>
#include <span>

#include "fuzz_check.hpp"
#include "wire_dissect.hpp"

using namespace netloom::wire;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::span<const std::uint8_t> frame(data, size);
    const auto view = EthernetView::parse(frame);
    const bool acceptable = size >= 14 && (data[12] << 8 | data[13]) >= 0x0600;
    FUZZ_CHECK(view.ok() == acceptable);
    if (!view) return 0;
    wire_test::read_all(*view);
    FUZZ_CHECK(view->payload().size() + 14 == size);
    FUZZ_CHECK(wire_test::within(view->payload(), frame));
    const auto repr = EthernetRepr::parse(*view);
    FUZZ_CHECK(repr.ok());
    std::uint8_t header[14];
    FUZZ_CHECK(repr->emit(header));
    FUZZ_CHECK(std::memcmp(header, data, 14) == 0);
    return 0;
}
