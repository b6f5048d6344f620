// MacAddress text form: six colon-separated hex octets.
#include <cstdio>

#include "netloom/mac_address.hpp"

namespace netloom {

std::string MacAddress::to_string() const {
    char text[18];
    std::snprintf(text, sizeof text, "%02x:%02x:%02x:%02x:%02x:%02x", bytes[0], bytes[1], bytes[2],
                  bytes[3], bytes[4], bytes[5]);
    return text;
}

bool MacAddress::parse(std::string_view text, MacAddress& out) {
    if (text.size() != 17) return false;
    MacAddress mac;
    for (int i = 0; i < 6; ++i) {
        unsigned value = 0;
        for (int j = 0; j < 2; ++j) {
            char c = text[i * 3 + j];
            unsigned digit;
            if (c >= '0' && c <= '9')
                digit = c - '0';
            else if (c >= 'a' && c <= 'f')
                digit = c - 'a' + 10;
            else if (c >= 'A' && c <= 'F')
                digit = c - 'A' + 10;
            else
                return false;
            value = value * 16 + digit;
        }
        if (i < 5 && text[i * 3 + 2] != ':') return false;
        mac.bytes[i] = static_cast<std::uint8_t>(value);
    }
    out = mac;
    return true;
}

}  // namespace netloom
