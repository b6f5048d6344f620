// tar header blocks (POSIX.1-2017 pax "ustar Interchange Format" and GNU's variant), pax
// extended header records and member names; see tar_header.hpp.
#include "tar_header.hpp"

#include <algorithm>
#include <cstring>

namespace netloom::apps::tar {

namespace {

// Field offsets and lengths of a ustar header block.
constexpr std::size_t kNameAt = 0, kNameLength = 100;
constexpr std::size_t kSizeAt = 124, kSizeLength = 12;
constexpr std::size_t kChecksumAt = 148, kChecksumLength = 8;
constexpr std::size_t kTypeAt = 156;
constexpr std::size_t kMagicAt = 257;
constexpr std::size_t kPrefixAt = 345, kPrefixLength = 155;
constexpr std::uint64_t kMaxValue = (std::uint64_t{1} << 63) - 1;

// The bytes of a NUL-terminated field (all of it when it has no NUL).
std::string field_string(std::span<const std::uint8_t> field) {
    const void* nul = std::memchr(field.data(), 0, field.size());
    const std::size_t n =
        nul ? static_cast<std::size_t>(static_cast<const std::uint8_t*>(nul) - field.data())
            : field.size();
    return {reinterpret_cast<const char*>(field.data()), n};
}

bool is_space_or_nul(std::uint8_t c) noexcept {
    return c == ' ' || c == 0;
}

// The checksum counts the checksum field itself as eight spaces. `total`: the unsigned sum of
// the whole block as it is. The signed sum (old writers with bytes >= 0x80) is computed only
// when the unsigned one does not match.
bool checksum_matches(std::span<const std::uint8_t, kBlockSize> block, std::uint64_t total,
                      std::uint64_t stored) {
    std::uint64_t field = 0;
    for (std::size_t i = kChecksumAt; i < kChecksumAt + kChecksumLength; ++i) field += block[i];
    if (stored == total - field + kChecksumLength * ' ') return true;
    std::int64_t signed_sum = 0;
    for (std::size_t i = 0; i < kBlockSize; ++i) {
        const bool in_field = i >= kChecksumAt && i < kChecksumAt + kChecksumLength;
        signed_sum += static_cast<std::int8_t>(in_field ? std::uint8_t{' '} : block[i]);
    }
    return static_cast<std::int64_t>(stored) == signed_sum;
}

std::optional<std::uint64_t> parse_decimal(std::string_view text) noexcept {
    if (text.empty() || text.size() > 19) return std::nullopt;
    std::uint64_t value = 0;
    for (const char c : text) {
        if (c < '0' || c > '9') return std::nullopt;
        value = value * 10 + static_cast<std::uint64_t>(c - '0');
    }
    if (value > kMaxValue) return std::nullopt;
    return value;
}

}  // namespace

std::string_view to_string(HeaderStatus status) noexcept {
    switch (status) {
        case HeaderStatus::ok: return "ok";
        case HeaderStatus::zero: return "end of archive";
        case HeaderStatus::bad_checksum: return "bad header checksum";
        case HeaderStatus::bad_magic: return "not a ustar header";
        case HeaderStatus::bad_number: return "bad size field";
    }
    return "?";
}

std::optional<std::uint64_t> parse_number(std::span<const std::uint8_t> field) noexcept {
    if (field.empty()) return 0;
    if (field[0] & 0x80) {
        // GNU base-256: two's complement big endian with the top bit as the marker; bit 6 set
        // means negative, which no size or checksum may be.
        if (field[0] & 0x40) return std::nullopt;
        std::uint64_t value = field[0] & 0x3f;
        for (std::size_t i = 1; i < field.size(); ++i) {
            if (value > (kMaxValue >> 8)) return std::nullopt;
            value = value << 8 | field[i];
        }
        return value;
    }
    std::size_t i = 0;
    while (i < field.size() && field[i] == ' ') ++i;
    std::uint64_t value = 0;
    for (; i < field.size() && field[i] >= '0' && field[i] <= '7'; ++i) {
        if (value > (kMaxValue >> 3)) return std::nullopt;
        value = value << 3 | static_cast<std::uint64_t>(field[i] - '0');
    }
    // GNU tar's rule: the digits end at the field's end or at a space or NUL.
    if (i < field.size() && !is_space_or_nul(field[i])) return std::nullopt;
    return value;
}

HeaderParse parse_header(std::span<const std::uint8_t, kBlockSize> block) {
    HeaderParse out;
    // One pass: a sum of 0 is an all-zero block, else the checksum's base.
    std::uint64_t total = 0;
    const std::uint8_t* bytes = block.data();  // indexes, not span iterators: cheap unoptimised
    for (std::size_t i = 0; i < kBlockSize; ++i) total += bytes[i];
    if (total == 0) {
        out.status = HeaderStatus::zero;
        return out;
    }
    const auto stored = parse_number(block.subspan(kChecksumAt, kChecksumLength));
    if (!stored || !checksum_matches(block, total, *stored)) {
        out.status = HeaderStatus::bad_checksum;
        return out;
    }
    // "ustar\0" "00" (POSIX) or "ustar " " \0" (GNU).
    const std::string_view magic(reinterpret_cast<const char*>(block.data()) + kMagicAt, 8);
    const bool posix = magic.substr(0, 6) == std::string_view("ustar\0", 6);
    const bool gnu = magic == std::string_view("ustar  \0", 8);
    if (!posix && !gnu) {
        out.status = HeaderStatus::bad_magic;
        return out;
    }
    const auto size = parse_number(block.subspan(kSizeAt, kSizeLength));
    if (!size) {
        out.status = HeaderStatus::bad_number;
        return out;
    }
    out.header.size = *size;
    out.header.type = block[kTypeAt] == 0 ? '0' : static_cast<char>(block[kTypeAt]);
    out.header.name = field_string(block.subspan(kNameAt, kNameLength));
    if (posix) {
        const std::string prefix = field_string(block.subspan(kPrefixAt, kPrefixLength));
        if (!prefix.empty()) out.header.name = prefix + "/" + out.header.name;
    }
    return out;
}

bool parse_pax_records(std::span<const std::uint8_t> data, PaxFields& fields) {
    const std::string_view text(reinterpret_cast<const char*>(data.data()), data.size());
    std::size_t at = 0;
    while (at < text.size()) {
        if (text[at] == '\0') {  // padding after the last record
            return text.find_first_not_of('\0', at) == std::string_view::npos;
        }
        const std::size_t space = text.find(' ', at);
        if (space == std::string_view::npos) return false;
        const auto length = parse_decimal(text.substr(at, space - at));
        // The shortest record, "5 k=\n", is five bytes.
        if (!length || *length < 5 || *length > text.size() - at) return false;
        const std::string_view record = text.substr(at, static_cast<std::size_t>(*length));
        const std::size_t body = space - at + 1;
        if (body >= record.size() || record.back() != '\n') return false;
        const std::string_view pair = record.substr(body, record.size() - body - 1);
        const std::size_t equals = pair.find('=');
        if (equals == 0 || equals == std::string_view::npos) return false;
        const std::string_view key = pair.substr(0, equals);
        const std::string_view value = pair.substr(equals + 1);
        if (key == "path") {
            fields.path = std::string(value);
        } else if (key == "size") {
            if (value.empty()) {
                fields.size.reset();  // an empty value removes the field (pax "keyword=")
            } else {
                const auto size = parse_decimal(value);
                if (!size) return false;
                fields.size = *size;
            }
        } else if (key.starts_with("GNU.sparse.")) {
            fields.sparse = true;
        }
        at += record.size();
    }
    return true;
}

NormalizedName normalize_member_name(std::string_view raw) {
    NormalizedName out;
    if (raw.find('\0') != std::string_view::npos || raw.starts_with('/')) {
        out.check = NameCheck::unsafe;
        return out;
    }
    std::size_t at = 0;
    while (at <= raw.size()) {
        std::size_t slash = raw.find('/', at);
        if (slash == std::string_view::npos) slash = raw.size();
        const std::string_view segment = raw.substr(at, slash - at);
        at = slash + 1;
        if (segment.empty() || segment == ".") continue;
        if (segment == "..") {
            out.check = NameCheck::unsafe;
            out.name.clear();
            return out;
        }
        if (!out.name.empty()) out.name += '/';
        out.name += segment;
    }
    if (out.name.empty()) out.check = NameCheck::empty;
    return out;
}

}  // namespace netloom::apps::tar
