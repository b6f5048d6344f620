// mac_address.hpp — a 48-bit Ethernet address (value type), its text form and its kinds.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace netloom {

struct MacAddress {
    std::array<std::uint8_t, 6> bytes{};
    static constexpr MacAddress broadcast() { return {{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}}; }
    bool is_broadcast() const noexcept { return *this == broadcast(); }
    bool is_multicast() const noexcept { return (bytes[0] & 1) != 0; }
    bool operator==(const MacAddress&) const = default;
    std::string to_string() const;                              // "02:00:00:00:00:01"
    static bool parse(std::string_view text, MacAddress& out);  // false on malformed text
};

}  // namespace netloom
