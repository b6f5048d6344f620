// wire/ipv4_address.hpp — IPv4 addresses and address/prefix pairs ("10.0.0.2/24") as values.
//
// Contract: `Ipv4Address` holds the address as a host-order uint32 (10.0.0.2 == 0x0a000002), so
// comparisons order addresses numerically. Text parsing accepts only the dotted-quad form with
// four decimal parts 0..255 and no leading zeros ("010.0.0.1" is refused: inet_aton would read it
// as octal, so it is ambiguous). `Ipv4Cidr` keeps the host address and the prefix length 0..32.
#pragma once

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "netloom/wire/bytes.hpp"

namespace netloom::wire {

class Ipv4Address {
public:
    constexpr Ipv4Address() noexcept = default;
    constexpr explicit Ipv4Address(std::uint32_t host_order) noexcept : value_(host_order) {}
    constexpr Ipv4Address(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) noexcept
        : value_((std::uint32_t{a} << 24) | (std::uint32_t{b} << 16) | (std::uint32_t{c} << 8) |
                 d) {}

    /// Reads 4 bytes in network order; `at` must point to at least 4 readable bytes.
    static constexpr Ipv4Address from_bytes(const std::uint8_t* at) noexcept {
        return Ipv4Address(load_be32(at));
    }
    /// Writes 4 bytes in network order.
    constexpr void write_to(std::uint8_t* at) const noexcept { store_be32(at, value_); }
    constexpr std::array<std::uint8_t, 4> bytes() const noexcept {
        std::array<std::uint8_t, 4> out{};
        write_to(out.data());
        return out;
    }

    constexpr std::uint32_t to_uint() const noexcept { return value_; }

    static constexpr Ipv4Address any() noexcept { return Ipv4Address(0); }
    static constexpr Ipv4Address broadcast() noexcept { return Ipv4Address(0xffffffffu); }

    constexpr bool is_unspecified() const noexcept { return value_ == 0; }
    constexpr bool is_broadcast() const noexcept { return value_ == 0xffffffffu; }
    constexpr bool is_multicast() const noexcept { return (value_ >> 28) == 0xe; }  // 224/4
    constexpr bool is_loopback() const noexcept { return (value_ >> 24) == 127; }   // 127/8

    /// Dotted quad, e.g. "10.0.0.2".
    std::string to_string() const;
    /// Empty on anything but four decimal parts 0..255 without leading zeros or spaces.
    static std::optional<Ipv4Address> parse(std::string_view text) noexcept;

    constexpr auto operator<=>(const Ipv4Address&) const noexcept = default;

private:
    std::uint32_t value_ = 0;
};

/// An interface address with its prefix: 10.0.0.2/24.
struct Ipv4Cidr {
    Ipv4Address address;
    std::uint8_t prefix_length = 32;  ///< 0..32

    constexpr Ipv4Address netmask() const noexcept {
        // Shifting a 32-bit value by 32 is undefined, hence the special case for /0.
        return Ipv4Address(prefix_length == 0 ? 0u : ~std::uint32_t{0} << (32 - prefix_length));
    }
    constexpr Ipv4Address network() const noexcept {
        return Ipv4Address(address.to_uint() & netmask().to_uint());
    }
    /// The directed broadcast address of the subnet (all host bits set).
    constexpr Ipv4Address broadcast() const noexcept {
        return Ipv4Address(address.to_uint() | ~netmask().to_uint());
    }
    constexpr bool contains(Ipv4Address other) const noexcept {
        return (other.to_uint() & netmask().to_uint()) == network().to_uint();
    }

    /// "10.0.0.2/24".
    std::string to_string() const;
    /// Accepts "a.b.c.d/n" (n 0..32, no leading zeros) and a bare "a.b.c.d" (taken as /32).
    static std::optional<Ipv4Cidr> parse(std::string_view text) noexcept;

    constexpr bool operator==(const Ipv4Cidr&) const noexcept = default;
};

}  // namespace netloom::wire

template <>
struct std::hash<netloom::wire::Ipv4Address> {
    std::size_t operator()(netloom::wire::Ipv4Address address) const noexcept {
        return std::hash<std::uint32_t>{}(address.to_uint());
    }
};
