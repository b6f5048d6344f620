// Stable names of wire parse errors (used as drop-counter names by the IP layer).
#include "netloom/wire/parse.hpp"

namespace netloom::wire {

std::string_view to_string(ParseError error) noexcept {
    switch (error) {
        case ParseError::ok: return "ok";
        case ParseError::truncated: return "truncated";
        case ParseError::length_beyond_buffer: return "length_beyond_buffer";
        case ParseError::bad_length: return "bad_length";
        case ParseError::bad_version: return "bad_version";
        case ParseError::bad_header_length: return "bad_header_length";
        case ParseError::bad_data_offset: return "bad_data_offset";
        case ParseError::bad_option: return "bad_option";
        case ParseError::bad_ethertype: return "bad_ethertype";
        case ParseError::unsupported: return "unsupported";
    }
    return "unknown";
}

}  // namespace netloom::wire
