// http_server.hpp — the `http` app's server role: an HTTP/1.1 static file server (GET, HEAD,
// keep-alive for HTTP/1.1 and for HTTP/1.0 clients that ask for it, single byte ranges) on the
// coroutine app API, serving the bodies of a BodySource: a directory (`root:`) or a tar archive
// on a block device (`store:`).
//
// Contract: what is served, and how paths map to it, is the source's (file_source.hpp,
// store_source.hpp). Bodies are streamed chunk by chunk, so memory per connection is the request
// buffer (max_request_bytes), one piece of up to 64 KiB holding the head and the first bytes,
// and what the source's body holds (one 64 KiB buffer for a file; in_flight x read_size sectors
// for the store), whatever the file size. A body that cannot be read before any byte of the
// response went out is answered 500 (the connection kept when it would have been); once the
// response started, the connection is reset; both count `io_errors`. A request head must arrive
// within `idle_timeout` of the previous response being acknowledged (or of the accept); a peer
// that sends part of one and stalls gets 408 and is closed, one that sends nothing is closed. A
// malformed or oversized request gets its 4xx and the connection closes; the server keeps
// serving others. A peer that accepts no byte of a response for `idle_timeout` is reset. A
// response queued before the close is given time to drain while the peer acknowledges it. It
// never finishes.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <spdlog/logger.h>

#include "body_source.hpp"
#include "http_request.hpp"
#include "netloom/app.hpp"
#include "netloom/config.hpp"
#include "netloom/env.hpp"
#include "service.hpp"

namespace netloom::apps {

struct HttpOptions {
    ServiceOptions service;
    std::size_t max_request_bytes = 8 * 1024;
    HttpLimits limits;
    /// The server's keys but the source's (`root`, `store`: make_body_source reads those).
    static HttpOptions from_config(const Config& config);
};

/// The `http` app: the server, or the client (http_client.hpp) with `role: client`.
std::unique_ptr<App> make_http(const Config& config, Env& env);
/// The source the server's config names: exactly one of `root:` (a directory) and `store:`
/// (a mapping, tar_store.hpp), else ConfigError.
std::unique_ptr<BodySource> make_body_source(const Config& config, Env& env);

class HttpServer final : public App {
public:
    HttpServer(HttpOptions options, std::unique_ptr<BodySource> source, TcpEngine& tcp,
               Scheduler& scheduler, std::shared_ptr<spdlog::logger> log);
    ~HttpServer() override;
    void start(std::function<void(int status)> finished) override;
    bool finite() const noexcept override { return false; }
    void visit_counters(const CounterVisitor& visit) const override;
    BodySource& source() noexcept { return *source_; }

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
    /// `head`, then `length` bytes of `body`, whose `first` chunk was read already; the head
    /// shares the first write.
    Task<bool> send_body(TcpStream& stream, const std::string& head, Body& body, BodyChunk first,
                         std::uint64_t length);
    /// Writes `bytes`, of which the first `head_bytes` are the response head; counts them.
    Task<bool> write_counted(TcpStream& stream, std::span<const std::uint8_t> bytes,
                             std::size_t head_bytes);
    Task<void> linger_close(TcpStream& stream);
    void count_status(int status);

    HttpOptions options_;
    TcpEngine& tcp_;
    Scheduler& scheduler_;
    std::shared_ptr<spdlog::logger> log_;
    ServiceCounters counters_;
    std::uint64_t requests_ = 0, responses_2xx_ = 0, responses_4xx_ = 0, responses_5xx_ = 0;
    std::uint64_t bad_requests_ = 0, not_found_ = 0, body_bytes_ = 0, io_errors_ = 0;
    std::unique_ptr<BodySource> source_;
    std::unique_ptr<TcpService> service_;
    TaskScope scope_;  // last: its coroutines use the rest
};

}  // namespace netloom::apps
