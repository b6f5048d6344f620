// tar_scanner.hpp — TarScanner: walks a tar archive's headers and builds its TarIndex, as a
// state machine that says which bytes it needs next and is handed them, so the same code runs
// over a block device's read-ahead (tar_store.hpp) and over bytes in memory (tests).
//
// Contract: pure (no I/O). `need()` names the next bytes (a 512-byte header, or the data of a
// pax extended header or a GNU long name) at increasing offsets; member data is skipped, never
// asked for. The scan ends at the first all-zero block, at the device's end on a header
// boundary, at a limit, or by refusing the archive. Policy, per member:
//   - regular files ('0', NUL, '7') are indexed under their normalised name (a pax `path`, else
//     a GNU 'L' long name, else the header's); a pax `size` overrides the header's;
//   - links ('1', '2'), devices and FIFOs ('3', '4', '6'), directories ('5') are not served and
//     hide an earlier file of the same name (tar extraction would replace it); POSIX stores no
//     data for them whatever their size field says;
//   - unknown types and pax GNU.sparse members are skipped (their data too) and hide likewise;
//   - an absolute name, a ".." segment or a NUL in a name: skipped (`skipped_unsafe_names`);
//     a name over `max_name_bytes`: skipped (`skipped_long_names`); duplicates: the last wins
//     (`duplicate_names`);
//   - `max_entries` or `max_index_bytes` reached: the scan stops there (`index_truncated`);
//     what was indexed is served, later members (and later duplicates) are not.
// Structural damage refuses the whole archive (the index is then empty and `refusal()` says
// why): a bad header (checksum, magic, size field), member data or a header running past the
// device's end (a truncated image), a malformed pax header or one over kMaxPaxBytes, a GNU
// sparse ('S') member (its extra header blocks are not followed), a failed read. Past any of
// these the positions of later headers cannot be trusted. Time is linear in the headers read;
// memory is the index plus one pax header or long name.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "tar_header.hpp"
#include "tar_index.hpp"

namespace netloom::apps {

struct TarScanCounts {
    std::uint64_t members = 0;  ///< header blocks read, pax and long-name headers included
    std::uint64_t files = 0;    ///< regular files added (before duplicates are merged)
    std::uint64_t directories = 0;
    std::uint64_t skipped_links = 0;    ///< hard and symbolic links
    std::uint64_t skipped_special = 0;  ///< character and block devices, FIFOs
    std::uint64_t skipped_unsafe_names = 0;
    std::uint64_t skipped_long_names = 0;
    std::uint64_t skipped_other = 0;  ///< unknown types, sparse members, empty names
    std::uint64_t duplicate_names = 0;
    std::uint64_t index_truncated = 0;  ///< 1 when a limit stopped the scan
    std::uint64_t refused = 0;          ///< 1 when the archive was refused
};

class TarScanner {
public:
    /// The largest pax extended header read (its data; larger ones refuse the archive).
    static constexpr std::size_t kMaxPaxBytes = 64 * 1024;

    struct Need {
        std::uint64_t offset = 0;
        std::size_t bytes = 0;
    };

    TarScanner(std::uint64_t device_bytes, const TarLimits& limits);

    /// The bytes to read next, or nullopt once the scan is over.
    std::optional<Need> need() const;
    /// Exactly need()->bytes bytes, read from need()->offset.
    void supply(std::span<const std::uint8_t> bytes);
    /// Reading need() failed with `error` (an errno): the archive is refused.
    void read_failed(int error);

    bool done() const noexcept { return state_ == State::done; }
    const TarScanCounts& counts() const noexcept { return counts_; }
    /// Why the archive was refused ("" when it was not).
    const std::string& refusal() const noexcept { return refusal_; }
    /// The finished index (empty when refused); once, after done(); merges duplicates.
    TarIndex take_index();

private:
    enum class State : std::uint8_t { header, pax_data, long_name, done };
    struct Pending {  // what 'x' and 'L' headers said about the next member
        tar::PaxFields pax;
        std::optional<std::string> long_name;
        bool long_name_too_long = false;
    };

    void on_header(std::span<const std::uint8_t> block);
    /// The member at pos_ with `size` bytes of data: checks the data lies on the device and
    /// moves pos_ past it (and the header).
    bool skip_member(std::uint64_t size);
    void index_member(const tar::Header& header);
    void hide_member(const tar::Header& header);
    /// The member's name after the pending headers, normalised; counts why it is not usable.
    std::optional<std::string> member_name(const tar::Header& header);
    void add(std::string_view name, std::optional<TarExtent> extent);
    void refuse(std::string why);
    void finish();

    std::uint64_t device_bytes_;
    TarLimits limits_;
    State state_ = State::header;
    std::uint64_t pos_ = 0;       ///< offset of the next header
    std::uint64_t meta_at_ = 0;   ///< pax_data / long_name: offset of that data
    std::size_t meta_bytes_ = 0;  ///< and its length
    Pending pending_;
    TarIndexBuilder builder_;
    TarScanCounts counts_;
    std::string refusal_;
    bool taken_ = false;
};

}  // namespace netloom::apps
