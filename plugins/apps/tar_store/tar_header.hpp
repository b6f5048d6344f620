// tar_header.hpp — the pure parts of reading a tar archive: one 512-byte header block decoded
// and checked (POSIX ustar as `tar --format=pax` writes it, and GNU's `ustar  ` variant that
// plain `tar -cf` writes), the records of a pax extended header (POSIX.1-2017 pax, "pax Extended
// Header"), and member names made safe to serve. No I/O.
//
// Contract: every function takes untrusted bytes and returns a value; none throws on bad input
// (beyond std::bad_alloc) or reads past what it was given. A header is accepted only with a
// matching checksum (the unsigned sum, or the signed one some old writers used), a `ustar`
// magic and numbers that parse; its size fits in 63 bits.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace netloom::apps::tar {

inline constexpr std::size_t kBlockSize = 512;

/// Bytes `size` bytes of member data occupy in the archive (whole blocks); saturates.
constexpr std::uint64_t padded(std::uint64_t size) noexcept {
    return size > UINT64_MAX - (kBlockSize - 1) ? UINT64_MAX
                                                : (size + kBlockSize - 1) / kBlockSize * kBlockSize;
}

enum class HeaderStatus : std::uint8_t {
    ok,
    zero,          ///< an all-zero block: the end of the archive
    bad_checksum,  ///< the checksum field does not parse or does not match
    bad_magic,     ///< not a ustar header (a v7 header, or not a tar archive at all)
    bad_number,    ///< the size field does not parse or is negative
};
std::string_view to_string(HeaderStatus status) noexcept;

struct Header {
    std::string name;  ///< prefix "/" name for POSIX ustar; name alone for GNU (its prefix area
                       ///< holds other fields); as stored, not normalised
    char type = '0';   ///< the typeflag; NUL (old regular files) reads as '0'
    std::uint64_t size = 0;
};

struct HeaderParse {
    HeaderStatus status = HeaderStatus::ok;
    Header header;
};

HeaderParse parse_header(std::span<const std::uint8_t, kBlockSize> block);

/// A numeric header field: octal digits (leading spaces allowed, ended by a space, a NUL or the
/// field's end, then only spaces and NULs; no digits at all reads as 0) or GNU's base-256 form
/// (first byte 0x80: a big-endian binary number). nullopt when malformed, negative or >= 2^63.
std::optional<std::uint64_t> parse_number(std::span<const std::uint8_t> field) noexcept;

/// What a member's pax extended headers ('x') say that the reader uses.
struct PaxFields {
    std::optional<std::string> path;
    std::optional<std::uint64_t> size;
    bool sparse = false;  ///< a GNU.sparse.* record: the data is a sparse map, not the file
};

/// Merges the records of a pax extended header's data into `fields` (a later record of a key
/// overrides an earlier one). Records are "<length> <key>=<value>\n", the length counting the
/// whole record in decimal; NUL bytes may pad the data after the last record. False (and
/// `fields` partly updated) when a record is malformed or a `size` is not a decimal < 2^63.
bool parse_pax_records(std::span<const std::uint8_t> data, PaxFields& fields);

enum class NameCheck : std::uint8_t {
    ok,
    empty,   ///< nothing left ("./", "."): the archive's root directory
    unsafe,  ///< absolute, a ".." segment, or a NUL byte: never served
};

struct NormalizedName {
    NameCheck check = NameCheck::ok;
    std::string name;  ///< for ok: segments joined by '/', no "." or empty segment, no '/' at
                       ///< either end ("./a//b/" -> "a/b")
};

/// A member name as the http app looks it up. Archivers strip a leading '/' when they write
/// (GNU tar: "Removing leading `/' from member names"), so an absolute name in an archive was
/// put there on purpose and is refused, as are ".." segments that would climb out of it.
NormalizedName normalize_member_name(std::string_view raw);

}  // namespace netloom::apps::tar
