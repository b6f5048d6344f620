// Fuzzes the tar store's archive reader (plugins/apps/tar_store): TarScanner over an archive
// image in memory (ustar, GNU and pax headers, GNU long names, pax records), and the pure
// helpers on the same bytes: parse_header on every 512-byte block, parse_number on each field
// width, parse_pax_records, normalize_member_name.
// Checks: the scanner asks only for bytes inside the image, at offsets that never go back, and
// ends; a refused archive has an empty index and says why; an indexed file is a normalised,
// safe name whose data (512-aligned, after its header) lies inside the image; names are sorted
// and unique, find() returns each one's extent; the limits (entries, index bytes) hold; a
// normalised name normalises to itself.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "tar_header.hpp"
#include "tar_index.hpp"
#include "tar_scanner.hpp"

namespace apps = netloom::apps;
namespace tar = netloom::apps::tar;

namespace {

void check_name(std::string_view raw) {
    const tar::NormalizedName n = tar::normalize_member_name(raw);
    if (n.check != tar::NameCheck::ok) return;
    FUZZ_CHECK(!n.name.empty() && n.name.front() != '/' && n.name.back() != '/');
    FUZZ_CHECK(n.name.find('\0') == std::string::npos);
    const tar::NormalizedName again = tar::normalize_member_name(n.name);
    FUZZ_CHECK(again.check == tar::NameCheck::ok && again.name == n.name);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::span<const std::uint8_t> image(data, size);
    apps::TarLimits limits;
    limits.max_entries = 32;
    limits.max_name_bytes = 200;
    limits.max_index_bytes = 4096;
    apps::TarScanner scanner(size, limits);
    std::uint64_t last = 0;
    for (std::size_t steps = 0; const auto need = scanner.need(); ++steps) {
        FUZZ_CHECK(steps <= size / 512 + 2);  // at least one block per step
        FUZZ_CHECK(need->offset >= last);
        FUZZ_CHECK(need->offset <= size && need->bytes <= size - need->offset);
        last = need->offset;
        scanner.supply(image.subspan(need->offset, need->bytes));
    }
    FUZZ_CHECK(scanner.done());
    const bool refused = !scanner.refusal().empty();
    FUZZ_CHECK(refused == (scanner.counts().refused == 1));
    const apps::TarIndex index = scanner.take_index();
    if (refused) FUZZ_CHECK(index.files() == 0);
    FUZZ_CHECK(index.files() <= limits.max_entries);
    FUZZ_CHECK(index.memory_bytes() <= limits.max_index_bytes);
    std::string previous;
    for (std::size_t i = 0; i < index.files(); ++i) {
        const std::string name(index.name(i));
        FUZZ_CHECK(i == 0 || previous < name);
        FUZZ_CHECK(name.size() <= limits.max_name_bytes);
        const tar::NormalizedName n = tar::normalize_member_name(name);
        FUZZ_CHECK(n.check == tar::NameCheck::ok && n.name == name);
        const auto extent = index.find(name);
        FUZZ_CHECK(extent.has_value());
        FUZZ_CHECK(extent->offset % tar::kBlockSize == 0 && extent->offset >= tar::kBlockSize);
        FUZZ_CHECK(extent->offset <= size && extent->size <= size - extent->offset);
        previous = name;
    }

    for (std::size_t at = 0; at + tar::kBlockSize <= size; at += tar::kBlockSize) {
        const tar::HeaderParse h = tar::parse_header(image.subspan(at).first<tar::kBlockSize>());
        if (h.status == tar::HeaderStatus::ok) {
            FUZZ_CHECK(h.header.size < (std::uint64_t{1} << 63));
            check_name(h.header.name);
        }
    }
    for (std::size_t width : {8u, 12u}) {
        if (size >= width) {
            const auto n = tar::parse_number(image.first(width));
            if (n) FUZZ_CHECK(*n < (std::uint64_t{1} << 63));
        }
    }
    tar::PaxFields fields;
    if (tar::parse_pax_records(image, fields) && fields.size)
        FUZZ_CHECK(*fields.size < (std::uint64_t{1} << 63));
    if (fields.path) check_name(*fields.path);
    check_name({reinterpret_cast<const char*>(data), size});
    return 0;
}
