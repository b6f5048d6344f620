// TCP options: a bounds-safe reader, the parser into TcpOptions, and the Linux-style encoder.
#include <algorithm>

#include "netloom/wire/tcp.hpp"

namespace netloom::wire {

namespace {

constexpr std::uint8_t kind_of(TcpOptionKind kind) noexcept {
    return static_cast<std::uint8_t>(kind);
}

// Encoded sizes, alignment NOPs included (see TcpOptions::emit for the layouts).
constexpr std::size_t kMssBytes = 4;            // 2 4 mss
constexpr std::size_t kTimestampsBytes = 12;    // (1 1 | 4 2) 8 10 val ecr
constexpr std::size_t kSackPermittedBytes = 4;  // 1 1 4 2
constexpr std::size_t kWindowScaleBytes = 4;    // 1 3 3 shift
constexpr std::size_t kSackHeaderBytes = 4;     // 1 1 5 len
constexpr std::size_t kSackBlockBytes = 8;

}  // namespace

bool TcpOptionReader::next(TcpOption& option) noexcept {
    while (!rest_.empty()) {
        const std::uint8_t kind = rest_[0];
        if (kind == kind_of(TcpOptionKind::end)) {
            rest_ = {};  // RFC 9293 3.2: what follows End of Option List is padding
            return false;
        }
        if (kind == kind_of(TcpOptionKind::nop)) {
            rest_ = rest_.subspan(1);
            continue;
        }
        // Every other kind has a length byte that counts kind and length themselves, so a
        // length below 2 would make no progress (or go backwards): refuse it rather than loop.
        if (rest_.size() < 2 || rest_[1] < 2 || rest_[1] > rest_.size()) {
            rest_ = {};
            error_ = ParseError::bad_option;
            return false;
        }
        const std::size_t length = rest_[1];
        option = TcpOption{kind, rest_.subspan(2, length - 2)};
        rest_ = rest_.subspan(length);
        return true;
    }
    return false;
}

ParseResult<TcpOptions> parse_tcp_options(std::span<const std::uint8_t> options) noexcept {
    TcpOptions result;
    TcpOptionReader reader(options);
    TcpOption option;
    while (reader.next(option)) {
        const auto& data = option.data;
        switch (TcpOptionKind{option.kind}) {
            case TcpOptionKind::mss:
                if (data.size() != 2) return ParseError::bad_option;
                result.mss = load_be16(data.data());
                break;
            case TcpOptionKind::window_scale:
                if (data.size() != 1) return ParseError::bad_option;
                result.window_scale = data[0];
                break;
            case TcpOptionKind::sack_permitted:
                if (!data.empty()) return ParseError::bad_option;
                result.sack_permitted = true;
                break;
            case TcpOptionKind::sack: {
                // RFC 2018 3: length 2 + 8n; 40 option bytes leave room for n <= 4.
                const std::size_t blocks = data.size() / kSackBlockBytes;
                if (data.size() % kSackBlockBytes != 0 || blocks == 0 ||
                    blocks > TcpOptions::kMaxSackBlocks) {
                    return ParseError::bad_option;
                }
                result.sack_blocks = {};
                for (std::size_t i = 0; i < blocks; ++i) {
                    const std::uint8_t* at = data.data() + i * kSackBlockBytes;
                    result.sack_blocks[i] = TcpSackBlock{load_be32(at), load_be32(at + 4)};
                }
                result.sack_count = static_cast<std::uint8_t>(blocks);
                break;
            }
            case TcpOptionKind::timestamps:
                if (data.size() != 8) return ParseError::bad_option;
                result.timestamps =
                    TcpTimestamps{load_be32(data.data()), load_be32(data.data() + 4)};
                break;
            default: break;  // unknown kinds (and EOL/NOP, never yielded) are skipped
        }
    }
    if (reader.error() != ParseError::ok) return reader.error();
    return result;
}

namespace {

std::size_t length_without_sack(const TcpOptions& options) noexcept {
    std::size_t length = 0;
    if (options.mss) length += kMssBytes;
    if (options.timestamps)
        length += kTimestampsBytes;
    else if (options.sack_permitted)
        length += kSackPermittedBytes;
    if (options.window_scale) length += kWindowScaleBytes;
    return length;
}

}  // namespace

std::size_t TcpOptions::emitted_sack_count() const noexcept {
    const std::size_t room = kMaxLength - length_without_sack(*this);
    if (room < kSackHeaderBytes + kSackBlockBytes) return 0;
    const std::size_t fit = (room - kSackHeaderBytes) / kSackBlockBytes;
    return std::min({std::size_t{sack_count}, fit, kMaxSackBlocks});
}

std::size_t TcpOptions::encoded_length() const noexcept {
    const std::size_t blocks = emitted_sack_count();
    return length_without_sack(*this) +
           (blocks == 0 ? 0 : kSackHeaderBytes + blocks * kSackBlockBytes);
}

bool TcpOptions::emit(std::span<std::uint8_t> out) const noexcept {
    if (out.size() < encoded_length()) return false;
    std::uint8_t* at = out.data();
    const std::uint8_t nop = kind_of(TcpOptionKind::nop);
    if (mss) {
        at[0] = kind_of(TcpOptionKind::mss);
        at[1] = 4;
        store_be16(at + 2, *mss);
        at += kMssBytes;
    }
    // SACK-permitted takes the place of the two alignment NOPs in front of timestamps, the way
    // Linux packs its SYN (MSS, SACK-permitted+timestamps, NOP+window scale: 20 bytes).
    if (timestamps) {
        if (sack_permitted) {
            at[0] = kind_of(TcpOptionKind::sack_permitted);
            at[1] = 2;
        } else {
            at[0] = nop;
            at[1] = nop;
        }
        at[2] = kind_of(TcpOptionKind::timestamps);
        at[3] = 10;
        store_be32(at + 4, timestamps->value);
        store_be32(at + 8, timestamps->echo);
        at += kTimestampsBytes;
    } else if (sack_permitted) {
        at[0] = nop;
        at[1] = nop;
        at[2] = kind_of(TcpOptionKind::sack_permitted);
        at[3] = 2;
        at += kSackPermittedBytes;
    }
    if (window_scale) {
        at[0] = nop;
        at[1] = kind_of(TcpOptionKind::window_scale);
        at[2] = 3;
        at[3] = *window_scale;
        at += kWindowScaleBytes;
    }
    if (const std::size_t blocks = emitted_sack_count(); blocks > 0) {
        at[0] = nop;
        at[1] = nop;
        at[2] = kind_of(TcpOptionKind::sack);
        at[3] = static_cast<std::uint8_t>(2 + blocks * kSackBlockBytes);
        at += kSackHeaderBytes;
        for (std::size_t i = 0; i < blocks; ++i) {
            store_be32(at, sack_blocks[i].left);
            store_be32(at + 4, sack_blocks[i].right);
            at += kSackBlockBytes;
        }
    }
    // Every layout above is a multiple of 4 bytes, so no End of Option List padding is needed.
    return true;
}

}  // namespace netloom::wire
