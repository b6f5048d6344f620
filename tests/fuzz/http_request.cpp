// Fuzzes the http app's pure parsers (plugins/apps/http/http_request.hpp): find_head_end,
// parse_http_request, normalize_target_path, parse_byte_range, parse_response_head and
// content_type_for, with arbitrary bytes as a request head (the first byte picks the Range
// representation size, so the byte-range arithmetic sees small and huge files).
// Checks: no crash or UB; find_head_end finds an empty line (LF LF or LF CR LF) ending where it
// says; a request is either accepted (status 0) or refused with one of the statuses of the contract
// (400, 405, 413, 414, 431) and a reason; an accepted request has GET or HEAD, HTTP/1.0 or 1.1,
// and a normalised path: starting with '/', no NUL, no empty, "." or ".." segment, unchanged by
// normalising again; a partial byte range lies inside the representation; a response head's
// status is three digits.
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "http_request.hpp"

namespace apps = netloom::apps;

namespace {

void check_path(const std::string& path) {
    FUZZ_CHECK(!path.empty() && path[0] == '/');
    FUZZ_CHECK(path.find('\0') == std::string::npos);
    FUZZ_CHECK(path == "/" || path.back() != '/');
    FUZZ_CHECK(path.find("//") == std::string::npos);
    FUZZ_CHECK(path.find("/./") == std::string::npos && path.find("/../") == std::string::npos);
    FUZZ_CHECK(!path.ends_with("/.") && !path.ends_with("/.."));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const std::uint64_t sizes[] = {0, 1, 100, 1u << 20, UINT64_MAX / 2, UINT64_MAX};
    const std::uint64_t representation = sizes[data[0] % 6];
    const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);

    const std::size_t end = apps::find_head_end(text);
    if (end != std::string_view::npos) {
        FUZZ_CHECK(end <= text.size() && end >= 2);
        // "\n\n" or "\n\r\n" (RFC 9112 2.2 lets a recipient accept a bare LF).
        FUZZ_CHECK(text.substr(0, end).ends_with("\n\n") ||
                   text.substr(0, end).ends_with("\n\r\n"));
        // Looking from a later start finds the same end (the incremental use of find_head_end).
        FUZZ_CHECK(apps::find_head_end(text, end >= 4 ? end - 4 : 0) == end);
    }
    const std::string_view head = end == std::string_view::npos ? text : text.substr(0, end);
    const apps::HttpParse parse = apps::parse_http_request(head);
    if (parse.status != 0) {
        FUZZ_CHECK(parse.status == 400 || parse.status == 405 || parse.status == 413 ||
                   parse.status == 414 || parse.status == 431);
        FUZZ_CHECK(!parse.reason.empty());
        FUZZ_CHECK(!apps::http_reason(parse.status).empty());
    } else {
        const apps::HttpRequest& r = parse.request;
        FUZZ_CHECK(r.method == "GET" || r.method == "HEAD");
        FUZZ_CHECK(r.minor_version == 0 || r.minor_version == 1);
        check_path(r.path);
        // Normalising is idempotent unless decoding produced a '%' ("/a%25b" is the file "a%b",
        // which a second decoding would read as an escape): found by this target, a check bug.
        if (r.path.find('%') == std::string::npos) {
            const auto again = apps::normalize_target_path(r.path);
            FUZZ_CHECK(again && *again == r.path);
        }
        (void)apps::connection_field(r);
        (void)apps::content_type_for(r.path);
        if (r.range) {
            const apps::ByteRange range = apps::parse_byte_range(*r.range, representation);
            if (range.kind == apps::ByteRange::Kind::partial)
                FUZZ_CHECK(range.first <= range.last && range.last < representation);
        }
    }
    if (const auto path = apps::normalize_target_path(text)) check_path(*path);
    const apps::ByteRange range = apps::parse_byte_range(text, representation);
    if (range.kind == apps::ByteRange::Kind::partial)
        FUZZ_CHECK(range.first <= range.last && range.last < representation);
    if (const auto response = apps::parse_response_head(head))
        FUZZ_CHECK(response->status >= 0 && response->status <= 999);
    return 0;
}
