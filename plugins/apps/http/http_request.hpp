// http_request.hpp — the pure parts of the `http` app: finding the end of a request head,
// parsing it (RFC 9112 request line and header fields), decoding and normalising the path,
// parsing a single byte range (RFC 9110 14), the content type table, and the little of a
// response head the client reads. No I/O.
//
// Contract: every function takes untrusted bytes and returns a value; none throws on bad input
// or reads past what it was given. parse_http_request gives status 0 and the request, or the
// status to answer (400 malformed, an invalid, missing (HTTP/1.1) or repeated Host; 405 method
// other than GET/HEAD, 413 a request body, 414 target too long, 431 too many header fields) with
// a short reason. A path with a ".." segment
// (also when percent-encoded), a NUL, a bad %-escape or not starting with '/' is malformed.
// Persistence follows RFC 9112 9.3: a "close" option ends the connection in any version; else
// HTTP/1.1 persists, and HTTP/1.0 persists only with the "keep-alive" option (RFC 9112 C.2.2).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace netloom::apps {

struct HttpLimits {
    std::size_t max_target = 4096;  ///< longest request-target (414 beyond)
    std::size_t max_fields = 64;    ///< most header fields (431 beyond)
};

struct HttpRequest {
    std::string method;
    std::string target;     ///< as sent
    std::string path;       ///< decoded and normalised: "/" or "/a/b", no query, no "." or ".."
    int minor_version = 1;  ///< HTTP/1.0 or HTTP/1.1
    /// The connection persists after the response (see the contract above). Every response of
    /// this server carries Content-Length, which a persistent HTTP/1.0 response needs: without
    /// it the body ends at the close (RFC 9112 6.3), and a 1.0 client knows no chunked coding.
    bool keep_alive = true;
    /// The Range field's value to honour: only for GET, and not with If-Range (see the parser).
    std::optional<std::string> range;
};

struct HttpParse {
    int status = 0;  ///< 0: `request` is valid; else the error status to answer
    std::string reason;
    HttpRequest request;
};

/// Connection field lines (CRLF included) of responses.
inline constexpr std::string_view kConnectionClose = "Connection: close\r\n";
inline constexpr std::string_view kConnectionKeepAlive = "Connection: keep-alive\r\n";
/// The Connection field of the response to `request`: "close" when the connection ends after it
/// (RFC 9112 9.6); "keep-alive" echoed to an HTTP/1.0 client that asked for it, which otherwise
/// assumes the server closes (the RFC 2068 19.7.1 negotiation RFC 9112 C.2.2 refers to); none
/// for HTTP/1.1, persistent by default (RFC 9112 9.3).
std::string_view connection_field(const HttpRequest& request) noexcept;

/// Bytes up to and including the blank line ending the head ("\r\n\r\n" or "\n\n"), or npos.
/// `from`: where to start looking. A caller that scanned a shorter prefix of `buffer` of n bytes
/// without result may pass max(0, n - 2), so a head trickling in costs linear time in total.
std::size_t find_head_end(std::string_view buffer, std::size_t from = 0) noexcept;
/// `head` as found by find_head_end (the blank line included).
HttpParse parse_http_request(std::string_view head, const HttpLimits& limits = {});
/// Percent-decodes the path of an origin-form target (query and fragment dropped) and removes
/// "." and empty segments; nullopt when malformed or when a segment is "..".
std::optional<std::string> normalize_target_path(std::string_view target);

struct ByteRange {
    enum class Kind { whole, partial, unsatisfiable };
    Kind kind = Kind::whole;
    std::uint64_t first = 0, last = 0;  ///< inclusive, for partial
};
/// One range of "bytes=a-b", "bytes=a-" or "bytes=-n" against a representation of `size`
/// bytes. Malformed values and several ranges give `whole` (RFC 9110 14.2: a server may ignore
/// Range); a first byte at or past the end, or "-0", gives `unsatisfiable`.
ByteRange parse_byte_range(std::string_view value, std::uint64_t size) noexcept;

/// What a response head says that the client (`role: client`) uses.
struct HttpResponseHead {
    int status = 0;
    std::optional<std::uint64_t> content_length;
    bool close = false;  ///< a "close" connection option: the server ends the connection after it
};
/// Parses a response head (status line and fields, the blank line included, as find_head_end
/// finds it); nullopt when the status line is not "HTTP/1.x NNN[ reason]", a field line has no
/// colon, or a Content-Length is malformed or repeated (RFC 9112 6.3: a message to refuse).
std::optional<HttpResponseHead> parse_response_head(std::string_view head);

/// Content-Type for a file name, from its extension (application/octet-stream if unknown).
std::string_view content_type_for(std::string_view path) noexcept;
std::string_view http_reason(int status) noexcept;

}  // namespace netloom::apps
