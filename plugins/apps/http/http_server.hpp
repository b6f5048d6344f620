// http_server.hpp — the `http` app: an HTTP/1.1 static file server (GET, HEAD, keep-alive for
// HTTP/1.1 and for HTTP/1.0 clients that ask for it, single byte ranges) on the coroutine app API.
//
// Contract: serves regular files under `root` (a directory's index.html for a directory). A path
// that leaves the root — a ".." segment, encoded or not, or a symlink resolving outside — is
// never served (400 or 404); the file is opened beneath the root without following symlinks
// and without blocking (open_served_file), so a swap after the check is refused too. Files are
// streamed in 64 KiB pread pieces, so memory per connection is the request buffer
// (max_request_bytes) plus one 64 KiB piece, whatever the file size. A request head must arrive
// within `idle_timeout` of the previous response being acknowledged (or of the accept); a peer
// that sends part of one and stalls gets 408 and is closed, one that sends nothing is closed. A
// malformed or oversized request gets its 4xx and the connection closes; the server keeps
// serving others. A peer that accepts no byte of a response for `idle_timeout` is reset. A
// response queued before the close is given time to drain while the peer acknowledges it. It
// never finishes.
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <spdlog/logger.h>

#include "http_request.hpp"
#include "netloom/app.hpp"
#include "netloom/config.hpp"
#include "netloom/env.hpp"
#include "service.hpp"

namespace netloom::apps {

struct HttpOptions {
    ServiceOptions service;
    std::filesystem::path root;  ///< canonical
    std::size_t max_request_bytes = 8 * 1024;
    HttpLimits limits;
    static HttpOptions from_config(const Config& config);
};

std::unique_ptr<App> make_http(const Config& config, Env& env);

/// Opens `relative` (a canonical path under the root, without symlinks) beneath `root_fd` for
/// reading: a descriptor of a regular file, or -1. A symlink met on the way (swapped in since
/// the path was resolved) or a non-regular file (a FIFO, a device) gives -1 without blocking.
/// Uses openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS); without it (ENOSYS), openat with
/// O_NOFOLLOW and a check through /proc/self/fd that the file lies under `root`.
int open_served_file(int root_fd, const std::filesystem::path& root,
                     const std::filesystem::path& relative);

class HttpServer final : public App {
public:
    HttpServer(HttpOptions options, TcpEngine& tcp, Scheduler& scheduler,
               std::shared_ptr<spdlog::logger> log);
    ~HttpServer() override;
    void start(std::function<void(int status)> finished) override;
    bool finite() const noexcept override { return false; }
    void visit_counters(const CounterVisitor& visit) const override;

    /// The file `path` (normalised, from the parser) names under the root, or nullopt when it is
    /// missing, not a regular file, or resolves outside the root.
    std::optional<std::filesystem::path> resolve(const std::string& path) const;

private:
    struct Outcome {
        bool ok = true;          ///< the response went out whole
        bool keep_alive = true;  ///< and the connection may carry another request
    };
    Task<void> serve(TcpStream& stream);
    Task<Outcome> respond(TcpStream& stream, const HttpParse& parse);
    /// The status line and fields of a response, blank line included; counts the status.
    /// `connection`: the Connection field line (connection_field), or empty.
    std::string response_head(int status, const std::string& extra, std::uint64_t length,
                              std::string_view connection);
    Task<bool> send_text(TcpStream& stream, const std::string& text);
    Task<bool> send_error(TcpStream& stream, int status, bool head_only,
                          std::string_view connection, const std::string& extra = {});
    /// `head`, then `length` bytes of `fd` from `first`; the head shares the first write.
    Task<bool> send_file(TcpStream& stream, const std::string& head, int fd, std::uint64_t first,
                         std::uint64_t length);
    Task<void> linger_close(TcpStream& stream);
    void count_status(int status);

    HttpOptions options_;
    TcpEngine& tcp_;
    Scheduler& scheduler_;
    std::shared_ptr<spdlog::logger> log_;
    ServiceCounters counters_;
    std::uint64_t requests_ = 0, responses_2xx_ = 0, responses_4xx_ = 0, responses_5xx_ = 0;
    std::uint64_t bad_requests_ = 0, not_found_ = 0, body_bytes_ = 0;
    std::unique_ptr<TcpService> service_;
    int root_fd_;      ///< O_PATH descriptor of the root, for open_served_file
    TaskScope scope_;  // last
};

}  // namespace netloom::apps
