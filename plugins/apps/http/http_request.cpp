// The http app's request parser, path normaliser, Range parser and small tables.
#include "http_request.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <vector>

namespace netloom::apps {

namespace {

bool is_tchar(char c) noexcept {  // RFC 9110 5.6.2 token characters
    if (std::isalnum(static_cast<unsigned char>(c))) return true;
    return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool iequals(std::string_view a, std::string_view b) noexcept {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) ==
                      std::tolower(static_cast<unsigned char>(y));
           });
}

std::string_view trim(std::string_view s) noexcept {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

// Splits off one line; the CR before LF is dropped. A bare CR inside a line is kept (and later
// refused as a control character).
std::string_view next_line(std::string_view& rest) noexcept {
    const std::size_t lf = rest.find('\n');
    std::string_view line = rest.substr(0, lf);
    rest.remove_prefix(lf == std::string_view::npos ? rest.size() : lf + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    return line;
}

bool has_control(std::string_view s) noexcept {
    return std::any_of(s.begin(), s.end(), [](char c) {
        const auto u = static_cast<unsigned char>(c);
        return (u < 0x20 && c != '\t') || u == 0x7f;
    });
}

int hex_value(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

bool contains_token(std::string_view list, std::string_view token) noexcept {
    while (!list.empty()) {
        const std::size_t comma = list.find(',');
        if (iequals(trim(list.substr(0, comma)), token)) return true;
        if (comma == std::string_view::npos) break;
        list.remove_prefix(comma + 1);
    }
    return false;
}

std::optional<std::uint64_t> parse_digits(std::string_view s) noexcept {
    if (s.empty() || s.size() > 19) return std::nullopt;
    std::uint64_t value = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
    if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
    return value;
}

// RFC 9112 3.2 / RFC 3986 3.2.2-3.2.3: Host = uri-host [ ":" port ], where uri-host is an
// IP-literal in brackets or a reg-name (unreserved, sub-delims, %HH); empty is allowed.
bool valid_host(std::string_view host) noexcept {
    const auto plain = [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) ||
               std::string_view("-._~!$&'()*+,;=").find(c) != std::string_view::npos;
    };
    std::size_t i = 0;
    if (!host.empty() && host.front() == '[') {
        const std::size_t close = host.find(']');
        if (close == std::string_view::npos || close == 1) return false;
        for (i = 1; i < close; ++i) {
            if (!plain(host[i]) && host[i] != ':') return false;
        }
        i = close + 1;
    } else {
        for (; i < host.size() && host[i] != ':'; ++i) {
            if (host[i] == '%') {
                if (i + 2 >= host.size() || hex_value(host[i + 1]) < 0 ||
                    hex_value(host[i + 2]) < 0) {
                    return false;
                }
                i += 2;
            } else if (!plain(host[i])) {
                return false;
            }
        }
    }
    if (i == host.size()) return true;
    if (host[i] != ':') return false;
    const std::string_view port = host.substr(i + 1);
    return std::all_of(port.begin(), port.end(),
                       [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
}

HttpParse fail(int status, std::string reason) {
    HttpParse p;
    p.status = status;
    p.reason = std::move(reason);
    return p;
}

}  // namespace

std::size_t find_head_end(std::string_view buffer, std::size_t from) noexcept {
    // The first empty line: "\n\n" or "\n\r\n" (RFC 9112 2.2 lets a recipient accept bare LF).
    for (std::size_t i = buffer.find('\n', from); i != std::string_view::npos;
         i = buffer.find('\n', i + 1)) {
        if (i + 1 < buffer.size() && buffer[i + 1] == '\n') return i + 2;
        if (i + 2 < buffer.size() && buffer[i + 1] == '\r' && buffer[i + 2] == '\n') return i + 3;
    }
    return std::string_view::npos;
}

std::optional<std::string> normalize_target_path(std::string_view target) {
    if (target.empty() || target.front() != '/') return std::nullopt;  // origin-form only
    target = target.substr(0, target.find_first_of("?#"));
    std::string decoded;
    decoded.reserve(target.size());
    for (std::size_t i = 0; i < target.size(); ++i) {
        char c = target[i];
        if (c == '%') {
            if (i + 2 >= target.size()) return std::nullopt;
            const int hi = hex_value(target[i + 1]), lo = hex_value(target[i + 2]);
            if (hi < 0 || lo < 0) return std::nullopt;
            c = static_cast<char>(hi * 16 + lo);
            i += 2;
        }
        if (c == '\0') return std::nullopt;
        decoded.push_back(c);
    }
    // Segments after decoding, so "%2e%2e" and "..%2f" are seen as what they are.
    std::vector<std::string_view> segments;
    std::string_view rest = decoded;
    while (!rest.empty()) {
        const std::size_t slash = rest.find('/');
        const std::string_view segment = rest.substr(0, slash);
        rest.remove_prefix(slash == std::string_view::npos ? rest.size() : slash + 1);
        if (segment == "..") return std::nullopt;
        if (segment.empty() || segment == ".") continue;
        segments.push_back(segment);
    }
    std::string path;
    for (std::string_view s : segments) {
        path += '/';
        path += s;
    }
    return path.empty() ? std::string("/") : path;
}

HttpParse parse_http_request(std::string_view head, const HttpLimits& limits) {
    std::string_view rest = head;
    std::string_view line = next_line(rest);
    // RFC 9112 2.2: a server should ignore at least one empty line before the request line.
    if (line.empty()) line = next_line(rest);
    // request-line = method SP request-target SP HTTP-version (RFC 9112 3)
    const std::size_t sp1 = line.find(' ');
    const std::size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
    if (sp1 == std::string_view::npos || sp2 == std::string_view::npos ||
        line.find(' ', sp2 + 1) != std::string_view::npos) {
        return fail(400, "malformed request line");
    }
    HttpRequest r;
    const std::string_view method = line.substr(0, sp1);
    const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
    const std::string_view version = line.substr(sp2 + 1);
    if (method.empty() || !std::all_of(method.begin(), method.end(), is_tchar)) {
        return fail(400, "malformed method");
    }
    if (target.size() > limits.max_target) return fail(414, "request target too long");
    if (target.empty() || has_control(target) || target.find('\t') != std::string_view::npos) {
        return fail(400, "malformed request target");
    }
    if (version == "HTTP/1.1") {
        r.minor_version = 1;
    } else if (version == "HTTP/1.0") {
        r.minor_version = 0;
    } else {
        return fail(400, "unsupported HTTP version");
    }
    r.method = std::string(method);
    r.target = std::string(target);
    std::size_t fields = 0, hosts = 0;
    bool if_range = false;
    std::optional<std::uint64_t> content_length;
    bool transfer_encoding = false;
    bool close_option = false, keep_alive_option = false;
    for (;;) {
        line = next_line(rest);
        if (line.empty()) break;
        if (++fields > limits.max_fields) return fail(431, "too many header fields");
        if (line.front() == ' ' || line.front() == '\t') {
            return fail(400, "obsolete line folding");  // RFC 9112 5.2
        }
        const std::size_t colon = line.find(':');
        if (colon == std::string_view::npos || colon == 0) return fail(400, "malformed field");
        const std::string_view name = line.substr(0, colon);
        // RFC 9112 5.1: no whitespace between the field name and the colon.
        if (!std::all_of(name.begin(), name.end(), is_tchar)) return fail(400, "malformed field");
        const std::string_view value = trim(line.substr(colon + 1));
        if (has_control(value)) return fail(400, "control character in a field");
        if (iequals(name, "Host")) {
            if (!valid_host(value)) return fail(400, "invalid Host");
            ++hosts;
        } else if (iequals(name, "Connection")) {
            // RFC 9110 7.6.1: a list of case-insensitive options; several Connection lines are
            // one list (RFC 9110 5.3). ab -k sends "Keep-Alive".
            close_option = close_option || contains_token(value, "close");
            keep_alive_option = keep_alive_option || contains_token(value, "keep-alive");
        } else if (iequals(name, "Range")) {
            if (r.range) return fail(400, "several Range fields");
            r.range = std::string(value);
        } else if (iequals(name, "Content-Length")) {
            const auto n = parse_digits(value);
            if (!n || (content_length && *content_length != *n)) {
                return fail(400, "bad Content-Length");
            }
            content_length = n;
        } else if (iequals(name, "Transfer-Encoding")) {
            transfer_encoding = true;
        } else if (iequals(name, "If-Range")) {
            if_range = true;
        }
    }
    // RFC 9112 3.2: an HTTP/1.1 request has exactly one Host field.
    if (hosts > 1 || (r.minor_version == 1 && hosts == 0))
        return fail(400, "missing or extra Host");
    // RFC 9112 9.3: "close" wins in any version; HTTP/1.1 persists by default, HTTP/1.0 only
    // when the client sent the keep-alive option (RFC 9112 C.2.2).
    r.keep_alive = !close_option && (r.minor_version == 1 || keep_alive_option);
    if (transfer_encoding) return fail(400, "request bodies are not accepted");
    if (content_length && *content_length > 0) return fail(413, "request bodies are not accepted");
    if (r.method != "GET" && r.method != "HEAD") return fail(405, "only GET and HEAD");
    // RFC 9110 14.2: range handling is defined for GET only (HEAD answers as a GET without
    // Range would). RFC 9110 13.1.5: If-Range is true only when its validator matches our ETag
    // or Last-Modified; we send neither, so it is false and the whole file is sent.
    if (r.method != "GET" || if_range) r.range.reset();
    auto path = normalize_target_path(target);
    if (!path) return fail(400, "bad path");
    r.path = std::move(*path);
    HttpParse ok;
    ok.request = std::move(r);
    return ok;
}

std::string_view connection_field(const HttpRequest& request) noexcept {
    if (!request.keep_alive) return kConnectionClose;
    return request.minor_version == 0 ? kConnectionKeepAlive : std::string_view();
}

ByteRange parse_byte_range(std::string_view value, std::uint64_t size) noexcept {
    ByteRange whole;
    constexpr std::string_view kUnit = "bytes=";
    if (value.size() < kUnit.size() || !iequals(value.substr(0, kUnit.size()), kUnit)) {
        return whole;
    }
    value = trim(value.substr(kUnit.size()));
    if (value.find(',') != std::string_view::npos) return whole;  // several ranges: send all
    const std::size_t dash = value.find('-');
    if (dash == std::string_view::npos) return whole;
    const std::string_view a = trim(value.substr(0, dash)), b = trim(value.substr(dash + 1));
    ByteRange range;
    range.kind = ByteRange::Kind::partial;
    if (a.empty()) {  // suffix: the last n bytes
        const auto n = parse_digits(b);
        if (!n) return whole;
        if (*n == 0 || size == 0) return {ByteRange::Kind::unsatisfiable, 0, 0};
        range.first = size - std::min(*n, size);
        range.last = size - 1;
        return range;
    }
    const auto first = parse_digits(a);
    if (!first) return whole;
    std::uint64_t last = size == 0 ? 0 : size - 1;
    if (!b.empty()) {
        const auto l = parse_digits(b);
        if (!l || *l < *first) return whole;  // RFC 9110 14.1.1: invalid, so ignored
        last = std::min(*l, last);
    }
    if (*first >= size) return {ByteRange::Kind::unsatisfiable, 0, 0};
    range.first = *first;
    range.last = last;
    return range;
}

std::string_view content_type_for(std::string_view path) noexcept {
    static constexpr std::array<std::pair<std::string_view, std::string_view>, 16> kTypes{{
        {".html", "text/html; charset=utf-8"},
        {".htm", "text/html; charset=utf-8"},
        {".txt", "text/plain; charset=utf-8"},
        {".css", "text/css"},
        {".js", "text/javascript"},
        {".json", "application/json"},
        {".xml", "application/xml"},
        {".png", "image/png"},
        {".jpg", "image/jpeg"},
        {".jpeg", "image/jpeg"},
        {".gif", "image/gif"},
        {".svg", "image/svg+xml"},
        {".ico", "image/x-icon"},
        {".pdf", "application/pdf"},
        {".wasm", "application/wasm"},
        {".gz", "application/gzip"},
    }};
    const std::size_t slash = path.rfind('/');
    const std::size_t dot = path.rfind('.');
    if (dot == std::string_view::npos || (slash != std::string_view::npos && dot < slash)) {
        return "application/octet-stream";
    }
    const std::string_view ext = path.substr(dot);
    for (const auto& [e, type] : kTypes) {
        if (iequals(e, ext)) return type;
    }
    return "application/octet-stream";
}

std::optional<HttpResponseHead> parse_response_head(std::string_view head) {
    HttpResponseHead out;
    std::string_view rest = head;
    const std::string_view status_line = next_line(rest);
    // "HTTP/1.1 200 OK": the version, a space, three digits, then the end or a space.
    const auto code =
        status_line.size() >= 12 ? parse_digits(status_line.substr(9, 3)) : std::nullopt;
    if (!status_line.starts_with("HTTP/1.") || !code || status_line[8] != ' ' ||
        (status_line.size() > 12 && status_line[12] != ' ')) {
        return std::nullopt;
    }
    out.status = static_cast<int>(*code);
    for (std::string_view line = next_line(rest); !line.empty(); line = next_line(rest)) {
        const std::size_t colon = line.find(':');
        if (colon == std::string_view::npos) return std::nullopt;
        const std::string_view name = trim(line.substr(0, colon));
        const std::string_view value = trim(line.substr(colon + 1));
        if (iequals(name, "content-length")) {
            const auto length = parse_digits(value);
            if (out.content_length || !length) return std::nullopt;
            out.content_length = length;
        } else if (iequals(name, "connection") && contains_token(value, "close")) {
            out.close = true;
        }
    }
    return out;
}

std::string_view http_reason(int status) noexcept {
    switch (status) {
        case 200: return "OK";
        case 206: return "Partial Content";
        case 400: return "Bad Request";
        case 404: return "Not Found";
        case 405: return "Method Not Allowed";
        case 408: return "Request Timeout";
        case 413: return "Content Too Large";
        case 414: return "URI Too Long";
        case 416: return "Range Not Satisfiable";
        case 431: return "Request Header Fields Too Large";
        case 500: return "Internal Server Error";
        case 503: return "Service Unavailable";
    }
    return "Unknown";
}

}  // namespace netloom::apps
