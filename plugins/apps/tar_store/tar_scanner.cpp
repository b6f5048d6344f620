// The tar header walk: which bytes come next, what each member type means for the index, and
// when the archive is refused; see tar_scanner.hpp for the policy.
#include "tar_scanner.hpp"

#include <algorithm>
#include <cstring>

namespace netloom::apps {

using tar::kBlockSize;

TarScanner::TarScanner(std::uint64_t device_bytes, const TarLimits& limits)
    : device_bytes_(device_bytes), limits_(limits), builder_(limits) {
    if (device_bytes_ < kBlockSize) finish();  // no room for a header: an empty archive
}

std::optional<TarScanner::Need> TarScanner::need() const {
    switch (state_) {
        case State::header: return Need{pos_, kBlockSize};
        case State::pax_data:
        case State::long_name: return Need{meta_at_, meta_bytes_};
        case State::done: return std::nullopt;
    }
    return std::nullopt;
}

void TarScanner::supply(std::span<const std::uint8_t> bytes) {
    const auto expected = need();
    if (!expected || bytes.size() != expected->bytes) {
        refuse("internal error: the scanner was handed bytes it did not ask for");
        return;
    }
    switch (state_) {
        case State::header: on_header(bytes); break;
        case State::pax_data:
            if (!tar::parse_pax_records(bytes, pending_.pax)) {
                refuse("malformed pax extended header data at byte " + std::to_string(meta_at_));
                return;
            }
            state_ = State::header;
            break;
        case State::long_name: {
            const auto end = std::find(bytes.begin(), bytes.end(), std::uint8_t{0});
            pending_.long_name = std::string(bytes.begin(), end);
            state_ = State::header;
            break;
        }
        case State::done: return;
    }
    if (state_ != State::header) return;
    // The next header must fit on the device; the device's end on a header boundary ends the
    // archive like its two zero blocks would.
    if (pos_ >= device_bytes_) {
        finish();
    } else if (device_bytes_ - pos_ < kBlockSize) {
        refuse("a header at byte " + std::to_string(pos_) + " runs past the end of the device");
    }
}

void TarScanner::read_failed(int error) {
    const auto at = need();
    refuse("reading byte " + std::to_string(at ? at->offset : pos_) +
           " failed: " + std::strerror(error));
}

void TarScanner::on_header(std::span<const std::uint8_t> block) {
    ++counts_.members;
    const tar::HeaderParse parse = tar::parse_header(block.first<kBlockSize>());
    if (parse.status == tar::HeaderStatus::zero) {
        finish();
        return;
    }
    if (parse.status != tar::HeaderStatus::ok) {
        refuse(std::string(tar::to_string(parse.status)) + " at byte " + std::to_string(pos_));
        return;
    }
    const tar::Header& h = parse.header;
    const std::uint64_t data_at = pos_ + kBlockSize;
    switch (h.type) {
        case 'x':  // pax extended header: applies to the next member
            if (h.size > kMaxPaxBytes) {
                refuse("a pax extended header of " + std::to_string(h.size) + " bytes at byte " +
                       std::to_string(pos_) + " (the limit is " + std::to_string(kMaxPaxBytes) +
                       ")");
                return;
            }
            if (!skip_member(h.size)) return;
            if (h.size > 0) {
                state_ = State::pax_data;
                meta_at_ = data_at;
                meta_bytes_ = static_cast<std::size_t>(h.size);
            }
            return;
        case 'L':  // GNU long name of the next member
            if (!skip_member(h.size)) return;
            if (h.size > limits_.max_name_bytes + 1) {  // + its NUL
                pending_.long_name_too_long = true;
            } else if (h.size == 0) {
                pending_.long_name = std::string();
            } else {
                state_ = State::long_name;
                meta_at_ = data_at;
                meta_bytes_ = static_cast<std::size_t>(h.size);
            }
            return;
        case 'g':  // pax global header, GNU long link name: nothing the index uses
        case 'K': skip_member(h.size); return;
        case 'S':
            refuse("a GNU sparse member (tar -S) at byte " + std::to_string(pos_) +
                   " is not supported");
            return;
        case '0':
        case '7': index_member(h); break;
        case '1':
        case '2':
            ++counts_.skipped_links;
            if (skip_member(0)) hide_member(h);
            break;
        case '3':
        case '4':
        case '6':
            ++counts_.skipped_special;
            if (skip_member(0)) hide_member(h);
            break;
        case '5':
            ++counts_.directories;
            if (skip_member(0)) hide_member(h);
            break;
        default:  // POSIX: read unknown types as regular files; here they are not served
            ++counts_.skipped_other;
            if (skip_member(pending_.pax.size.value_or(h.size))) hide_member(h);
            break;
    }
    pending_ = Pending{};
}

bool TarScanner::skip_member(std::uint64_t size) {
    const std::uint64_t data_at = pos_ + kBlockSize;  // <= device_bytes_: the header was read
    if (size > device_bytes_ - data_at) {
        refuse("the member at byte " + std::to_string(pos_) + " has " + std::to_string(size) +
               " bytes of data, past the end of the device (" + std::to_string(device_bytes_) +
               " bytes): a truncated image?");
        return false;
    }
    pos_ = data_at + tar::padded(size);
    return true;
}

void TarScanner::index_member(const tar::Header& header) {
    const std::uint64_t size = pending_.pax.size.value_or(header.size);
    const TarExtent extent{pos_ + kBlockSize, size};
    if (!skip_member(size)) return;
    if (pending_.pax.sparse) {
        ++counts_.skipped_other;
        hide_member(header);
        return;
    }
    const auto name = member_name(header);
    if (!name) return;
    ++counts_.files;
    add(*name, extent);
}

void TarScanner::hide_member(const tar::Header& header) {
    const auto name = member_name(header);
    // A member that is not served and has no usable name was counted already; it cannot hide
    // anything a request could reach either.
    if (name && state_ != State::done) add(*name, std::nullopt);
}

std::optional<std::string> TarScanner::member_name(const tar::Header& header) {
    const bool regular = header.type == '0' || header.type == '7';
    if (pending_.long_name_too_long && !pending_.pax.path) {
        if (regular) ++counts_.skipped_long_names;
        return std::nullopt;
    }
    const std::string& raw = pending_.pax.path    ? *pending_.pax.path
                             : pending_.long_name ? *pending_.long_name
                                                  : header.name;
    tar::NormalizedName n = tar::normalize_member_name(raw);
    if (n.check == tar::NameCheck::unsafe) {
        if (regular) ++counts_.skipped_unsafe_names;
        return std::nullopt;
    }
    if (n.check == tar::NameCheck::empty) {
        if (regular) ++counts_.skipped_other;
        return std::nullopt;
    }
    if (n.name.size() > limits_.max_name_bytes) {
        if (regular) ++counts_.skipped_long_names;
        return std::nullopt;
    }
    return std::move(n.name);
}

void TarScanner::add(std::string_view name, std::optional<TarExtent> extent) {
    const auto result = extent ? builder_.add(name, *extent) : builder_.hide(name);
    if (result == TarIndexBuilder::Add::full) {
        if (extent) --counts_.files;  // counted before it was refused
        counts_.index_truncated = 1;
        finish();
    }
}

void TarScanner::refuse(std::string why) {
    if (state_ == State::done && !refusal_.empty()) return;
    refusal_ = std::move(why);
    counts_.refused = 1;
    state_ = State::done;
}

void TarScanner::finish() {
    state_ = State::done;
}

TarIndex TarScanner::take_index() {
    if (taken_ || counts_.refused) return TarIndex{};
    taken_ = true;
    return std::move(builder_).finish(counts_.duplicate_names);
}

}  // namespace netloom::apps
