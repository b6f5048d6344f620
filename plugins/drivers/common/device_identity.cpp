// The `mac` and `mtu` keys shared by the drivers, and the default MAC derivation.
#include "device_identity.hpp"

#include <string>

namespace netloom::drivers {
namespace {

// FNV-1a 64: stable across runs, compilers and standard libraries (std::hash is not promised to
// be).
constexpr std::uint64_t kFnvOffset = 0xcbf29ce484222325ull;
constexpr std::uint64_t kFnvPrime = 0x100000001b3ull;

std::uint64_t fnv1a(std::string_view text, std::uint64_t hash) noexcept {
    for (unsigned char c : text) {
        hash ^= c;
        hash *= kFnvPrime;
    }
    return hash;
}

}  // namespace

MacAddress derived_mac(std::string_view stack_name, std::string_view device_id) noexcept {
    std::uint64_t hash = fnv1a(stack_name, kFnvOffset);
    hash = fnv1a(std::string_view("\0", 1), hash);  // "ab"+"c" must differ from "a"+"bc"
    hash = fnv1a(device_id, hash);
    MacAddress mac;
    for (int i = 0; i < 6; ++i) mac.bytes[i] = static_cast<std::uint8_t>(hash >> (8 * i));
    // IEEE 802 addressing: I/G bit (0x01) clear = unicast, U/L bit (0x02) set = locally
    // administered.
    mac.bytes[0] = static_cast<std::uint8_t>((mac.bytes[0] & 0xfc) | 0x02);
    return mac;
}

MacAddress read_mac(const Config& config, std::string_view stack_name, std::string_view device_id) {
    if (!config.has("mac")) {
        config.allow({"mac"});
        return derived_mac(stack_name, device_id);
    }
    std::string text = config.get_string("mac");
    MacAddress mac;
    if (!MacAddress::parse(text, mac)) {
        config.fail("mac", "a MAC address like 02:00:00:00:00:01", text);
    }
    if (mac.is_multicast()) {
        config.fail("mac", "a unicast MAC address (lowest bit of the first octet clear)", text);
    }
    return mac;
}

std::uint32_t read_mtu(const Config& config, std::uint32_t max_mtu) {
    return static_cast<std::uint32_t>(config.get_int("mtu", 1500, kMinMtu, max_mtu));
}

}  // namespace netloom::drivers
