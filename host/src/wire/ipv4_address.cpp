// Text forms of IPv4 addresses and CIDR prefixes.
#include "netloom/wire/ipv4_address.hpp"

#include <cstdio>

namespace netloom::wire {

namespace {

// Reads a decimal number 0..max at the front of `text` and removes it. No sign, no leading
// zero unless the number is exactly "0", at most three digits.
bool take_decimal(std::string_view& text, unsigned max, unsigned& out) noexcept {
    std::size_t digits = 0;
    unsigned value = 0;
    while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') {
        if (digits == 3) return false;
        value = value * 10 + static_cast<unsigned>(text[digits] - '0');
        ++digits;
    }
    if (digits == 0 || (digits > 1 && text[0] == '0') || value > max) return false;
    text.remove_prefix(digits);
    out = value;
    return true;
}

bool take_address(std::string_view& text, Ipv4Address& out) noexcept {
    std::uint32_t value = 0;
    for (int part = 0; part < 4; ++part) {
        if (part > 0) {
            if (text.empty() || text.front() != '.') return false;
            text.remove_prefix(1);
        }
        unsigned octet = 0;
        if (!take_decimal(text, 255, octet)) return false;
        value = (value << 8) | octet;
    }
    out = Ipv4Address(value);
    return true;
}

}  // namespace

std::string Ipv4Address::to_string() const {
    char text[16];
    std::snprintf(text, sizeof text, "%u.%u.%u.%u", value_ >> 24, (value_ >> 16) & 0xff,
                  (value_ >> 8) & 0xff, value_ & 0xff);
    return text;
}

std::optional<Ipv4Address> Ipv4Address::parse(std::string_view text) noexcept {
    Ipv4Address address;
    if (!take_address(text, address) || !text.empty()) return std::nullopt;
    return address;
}

std::string Ipv4Cidr::to_string() const {
    return address.to_string() + "/" + std::to_string(prefix_length);
}

std::optional<Ipv4Cidr> Ipv4Cidr::parse(std::string_view text) noexcept {
    Ipv4Cidr cidr;
    if (!take_address(text, cidr.address)) return std::nullopt;
    if (text.empty()) return cidr;
    if (text.front() != '/') return std::nullopt;
    text.remove_prefix(1);
    unsigned prefix = 0;
    if (!take_decimal(text, 32, prefix) || !text.empty()) return std::nullopt;
    cidr.prefix_length = static_cast<std::uint8_t>(prefix);
    return cidr;
}

}  // namespace netloom::wire
