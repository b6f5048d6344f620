// tar_writer.hpp — TarWriter: builds tar archives byte by byte for the tar store's tests, in the
// POSIX ustar/pax and GNU layouts, well-formed or broken on purpose (a wrong checksum, a size
// past the end, any typeflag, raw blocks).
#pragma once

#include <array>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace netloom::testing {

using TarBlock = std::array<std::uint8_t, 512>;

enum class TarFormat { posix, gnu };

/// One header block; `checksum_delta` added to the stored checksum breaks it.
inline TarBlock tar_header(std::string_view name, char type, std::uint64_t size,
                           TarFormat format = TarFormat::posix, std::string_view prefix = {},
                           int checksum_delta = 0) {
    TarBlock b{};
    const auto put = [&](std::size_t at, std::string_view text, std::size_t max) {
        if (!text.empty()) std::memcpy(b.data() + at, text.data(), std::min(text.size(), max));
    };
    put(0, name, 100);
    put(100, "0000644", 8);
    put(108, "0000000", 8);
    put(116, "0000000", 8);
    if (size < (std::uint64_t{1} << 33)) {
        char digits[13];
        std::snprintf(digits, sizeof digits, "%011llo", static_cast<unsigned long long>(size));
        put(124, digits, 11);
    } else {  // GNU base-256
        b[124] = 0x80;
        for (int i = 0; i < 8; ++i) b[135 - i] = static_cast<std::uint8_t>(size >> (8 * i));
    }
    put(136, "00000000000", 12);
    b[156] = static_cast<std::uint8_t>(type);
    if (format == TarFormat::posix) {
        put(257,
            std::string_view("ustar\0"
                             "00",
                             8),
            8);
        put(345, prefix, 155);
    } else {
        put(257, std::string_view("ustar  \0", 8), 8);
    }
    std::memset(b.data() + 148, ' ', 8);
    unsigned sum = 0;
    for (const std::uint8_t c : b) sum += c;
    char check[8];
    std::snprintf(check, sizeof check, "%06o", sum + static_cast<unsigned>(checksum_delta));
    std::memcpy(b.data() + 148, check, 6);
    b[154] = 0;
    b[155] = ' ';
    return b;
}

/// One pax record: "<length> key=value\n", the length counting itself.
inline std::string pax_record(std::string_view key, std::string_view value) {
    const std::size_t rest = 1 + key.size() + 1 + value.size() + 1;  // " key=value\n"
    std::size_t length = rest + 1;
    while (std::to_string(length).size() + rest != length) ++length;
    return std::to_string(length) + " " + std::string(key) + "=" + std::string(value) + "\n";
}

class TarWriter {
public:
    explicit TarWriter(TarFormat format = TarFormat::posix) : format_(format) {}

    /// The offset the next block goes to.
    std::size_t offset() const noexcept { return bytes_.size(); }
    void block(const TarBlock& b) { bytes_.insert(bytes_.end(), b.begin(), b.end()); }
    /// `data`, zero-padded to whole blocks.
    void data(std::string_view data) {
        bytes_.insert(bytes_.end(), data.begin(), data.end());
        bytes_.resize((bytes_.size() + 511) / 512 * 512);
    }
    /// A member with its data; returns the offset of its data.
    std::size_t member(std::string_view name, char type, std::string_view content,
                       std::uint64_t size_field = UINT64_MAX) {
        block(tar_header(name, type, size_field == UINT64_MAX ? content.size() : size_field,
                         format_));
        const std::size_t at = offset();
        data(content);
        return at;
    }
    std::size_t file(std::string_view name, std::string_view content) {
        return member(name, '0', content);
    }
    /// A pax extended header ('x') with `records` for the next member.
    void pax(const std::string& records) { member("PaxHeaders/x", 'x', records); }
    /// A GNU long name entry ('L') for the next member.
    void long_name(std::string_view name) {
        std::string with_nul(name);
        with_nul.push_back('\0');
        block(tar_header("././@LongLink", 'L', with_nul.size(), TarFormat::gnu));
        data(with_nul);
    }
    /// The end-of-archive marker: two zero blocks.
    void end() { bytes_.resize(bytes_.size() + 1024); }
    std::vector<std::uint8_t>& bytes() noexcept { return bytes_; }

private:
    TarFormat format_;
    std::vector<std::uint8_t> bytes_;
};

}  // namespace netloom::testing
