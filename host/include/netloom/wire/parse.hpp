// wire/parse.hpp — what a wire parser returns: a value, or the reason the bytes were refused.
//
// Contract: a `ParseResult<T>` holds either a T (then `error() == ParseError::ok` and it converts
// to true) or a `ParseError` other than `ok`. Dereferencing a failed result is a bug (asserted in
// debug builds). The error names are stable: the IP layer uses `to_string` for drop counters.
#pragma once

#include <cassert>
#include <cstdint>
#include <optional>
#include <string_view>
#include <utility>

namespace netloom::wire {

enum class ParseError : std::uint8_t {
    ok = 0,
    truncated,             ///< the buffer is shorter than the fixed part of the header
    length_beyond_buffer,  ///< a length field claims more bytes than the buffer holds
    bad_length,            ///< a length field is smaller than the header it must include
    bad_version,           ///< IPv4 version field is not 4
    bad_header_length,     ///< IPv4 IHL < 5, or IHL*4 beyond the total length
    bad_data_offset,       ///< TCP data offset < 5, or beyond the segment
    bad_option,            ///< an option with length 0/1, a wrong fixed length, or past its area
    bad_ethertype,         ///< an 802.3 length field where Ethernet II has an EtherType
    unsupported,           ///< well formed but outside what netloom handles (e.g. ARP over ATM)
};

/// Stable snake_case name, e.g. "length_beyond_buffer".
std::string_view to_string(ParseError error) noexcept;

template <class T>
class ParseResult {
public:
    ParseResult(T value) noexcept : value_(std::move(value)) {}  // NOLINT: implicit on purpose
    ParseResult(ParseError error) noexcept : error_(error) {     // NOLINT: implicit on purpose
        assert(error != ParseError::ok);
    }

    explicit operator bool() const noexcept { return value_.has_value(); }
    bool ok() const noexcept { return value_.has_value(); }
    ParseError error() const noexcept { return error_; }

    const T& operator*() const noexcept {
        assert(value_);
        return *value_;
    }
    const T* operator->() const noexcept {
        assert(value_);
        return &*value_;
    }
    const T& value() const noexcept { return **this; }

private:
    std::optional<T> value_;
    ParseError error_ = ParseError::ok;
};

}  // namespace netloom::wire
