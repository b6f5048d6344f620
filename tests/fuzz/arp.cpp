// Fuzzes ArpView::parse and ArpRepr (host/include/netloom/wire/arp.hpp) with arbitrary ARP
// bodies. Checks: acceptance is exactly "28 bytes or more of Ethernet/IPv4 ARP" (RFC 826 with
// htype 1, ptype 0x0800, hlen 6, plen 4); the view covers exactly 28 bytes; ArpRepr accepts only
// request and reply and emits the 28 bytes it read, unchanged.
#include <cstdint>
#include <cstring>
#include <span>

#include "fuzz_check.hpp"
#include "wire_dissect.hpp"

using namespace netloom::wire;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::span<const std::uint8_t> bytes(data, size);
    const auto view = ArpView::parse(bytes);
    const bool acceptable = size >= 28 && data[0] == 0 && data[1] == 1 && data[2] == 8 &&
                            data[3] == 0 && data[4] == 6 && data[5] == 4;
    FUZZ_CHECK(view.ok() == acceptable);
    if (!view) return 0;
    wire_test::read_all(*view);
    FUZZ_CHECK(view->bytes().size() == 28 && view->bytes().data() == data);
    const auto repr = ArpRepr::parse(*view);
    const std::uint16_t operation = data[6] << 8 | data[7];
    FUZZ_CHECK(repr.ok() == (operation == 1 || operation == 2));
    if (!repr) return 0;
    std::uint8_t out[28];
    FUZZ_CHECK(repr->emit(out));
    FUZZ_CHECK(std::memcmp(out, data, 28) == 0);
    return 0;
}
