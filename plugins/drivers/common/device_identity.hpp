// device_identity.hpp — the `mac` and `mtu` keys every MAC-owning driver reads the same way.
//
// Contract: `read_mac` returns the configured unicast MAC, or (key absent) a locally administered
// unicast MAC derived from a stable hash of the stack name and `device_id`, so the same config
// gives the same addresses on every run and machine. Malformed or multicast values fail through
// `config.fail`. `read_mtu` returns `mtu` (default 1500) within [68, max_mtu] (RFC 791 minimum).
#pragma once

#include <cstdint>
#include <string_view>

#include "netloom/config.hpp"
#include "netloom/netdev.hpp"

namespace netloom::drivers {

/// Smallest MTU an IPv4 host must accept (RFC 791, section 3.2: 68 octets).
inline constexpr std::uint32_t kMinMtu = 68;
inline constexpr std::uint32_t kEthernetHeader = 14;

/// Locally administered (bit 1 of octet 0 set), unicast (bit 0 clear), from FNV-1a of the names.
MacAddress derived_mac(std::string_view stack_name, std::string_view device_id) noexcept;

MacAddress read_mac(const Config& config, std::string_view stack_name, std::string_view device_id);

std::uint32_t read_mtu(const Config& config, std::uint32_t max_mtu);

}  // namespace netloom::drivers
