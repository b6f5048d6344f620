// http server: the connection loop (read a head, answer, keep alive or close), responses, and
// streaming a source's bodies.
#include "http_server.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string_view>

#include "tcp_app_support.hpp"

namespace netloom::apps {

namespace {

// After our response and FIN are acknowledged: how long the peer has to send its FIN.
constexpr Time kLinger = std::chrono::seconds(2);

std::string_view as_text(const std::vector<std::uint8_t>& buffer, std::size_t n) {
    return {reinterpret_cast<const char*>(buffer.data()), n};
}

std::span<const std::uint8_t> bytes_of(const std::string& s) {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

bool fin_unacknowledged(TcpState state) noexcept {
    return state == TcpState::fin_wait_1 || state == TcpState::closing ||
           state == TcpState::last_ack;
}

}  // namespace

HttpServer::HttpServer(HttpOptions options, std::unique_ptr<BodySource> source, TcpEngine& tcp,
                       Scheduler& scheduler, std::shared_ptr<spdlog::logger> log)
    : options_(std::move(options)),
      tcp_(tcp),
      scheduler_(scheduler),
      log_(std::move(log)),
      source_(std::move(source)),
      scope_(scheduler) {}

HttpServer::~HttpServer() = default;

void HttpServer::start(std::function<void(int)> /*a server never finishes*/) {
    service_ = std::make_unique<TcpService>("http", scheduler_, tcp_, options_.service, scope_,
                                            [this](TcpStream& s) { return serve(s); });
    service_->start();
    source_->start(scope_);
    log_->info("http server on TCP port {} serving {}", options_.service.port, source_->describe());
}

Task<void> HttpServer::serve(TcpStream& stream) {
    std::vector<std::uint8_t> buffer(options_.max_request_bytes);
    std::size_t used = 0;  // bytes of the next request(s) already read
    for (;;) {
        // The whole head must arrive by this deadline, however slowly it trickles (slowloris);
        // it moves only while the peer still acknowledges our previous response (keep-alive).
        Time deadline = options_.service.deadline(scheduler_);
        std::uint64_t acked = stream.info().bytes_acked;
        std::size_t head_end, scanned = 0;
        while ((head_end = find_head_end(as_text(buffer, used), scanned)) ==
               std::string_view::npos) {
            scanned = used >= 2 ? used - 2 : 0;  // a LF in the last two bytes is undecided
            if (used == buffer.size()) {
                ++requests_;
                ++bad_requests_;
                const bool line_done = as_text(buffer, used).find('\n') != std::string_view::npos;
                if (co_await send_error(stream, line_done ? 431 : 414, false, kConnectionClose)) {
                    co_await linger_close(stream);
                }
                co_return;
            }
            const IoResult r = co_await stream.read(std::span(buffer).subspan(used), deadline);
            counters_.bytes_received += r.bytes;
            if (r.ok()) {
                used += r.bytes;
                continue;
            }
            if (r.status == IoStatus::eof) {
                if (used > 0) ++bad_requests_;  // half a request, then the end
                co_await linger_close(stream);
                co_return;
            }
            if (r.status == IoStatus::deadline) {
                if (const std::uint64_t now_acked = stream.info().bytes_acked; now_acked > acked) {
                    acked = now_acked;  // the response still drains: it was not idle
                    deadline = options_.service.deadline(scheduler_);
                    continue;
                }
                ++counters_.timeouts;
                if (used > 0) {
                    // co_await as a statement of its own, never inside && / || (GCC 12
                    // miscompiled one such condition in the iperf3 client).
                    const bool sent = co_await send_error(stream, 408, false, kConnectionClose);
                    if (!sent) co_return;
                }
                co_await linger_close(stream);
                co_return;
            }
            counters_.failed(stream, r.status);
            co_return;
        }
        ++requests_;
        const HttpParse parse = parse_http_request(as_text(buffer, head_end), options_.limits);
        std::memmove(buffer.data(), buffer.data() + head_end, used - head_end);
        used -= head_end;
        if (parse.status != 0) {
            ++bad_requests_;
            log_->debug("http: {} ({})", parse.status, parse.reason);
        }
        const Outcome outcome = co_await respond(stream, parse);
        if (!outcome.ok) co_return;  // counted and reset where it failed
        if (!outcome.keep_alive) break;
    }
    co_await linger_close(stream);
}

Task<HttpServer::Outcome> HttpServer::respond(TcpStream& stream, const HttpParse& parse) {
    if (parse.status != 0) {
        // The rest of the stream cannot be trusted to start a request: answer, then close.
        const std::string allow = parse.status == 405 ? "Allow: GET, HEAD\r\n" : "";
        co_return Outcome{co_await send_error(stream, parse.status, false, kConnectionClose, allow),
                          false};
    }
    const HttpRequest& request = parse.request;
    const bool head_only = request.method == "HEAD";
    const bool keep = request.keep_alive;
    // Error responses keep the connection too: their length is known, the stream is in step.
    const std::string_view connection = connection_field(request);
    const BodyLookup found = co_await source_->open(request.path);
    if (found.status != 0) {
        if (found.status == 404) ++not_found_;
        co_return Outcome{co_await send_error(stream, found.status, head_only, connection), keep};
    }
    Body& body = *found.body;
    const std::uint64_t size = body.size();
    const ByteRange range = request.range ? parse_byte_range(*request.range, size) : ByteRange{};
    if (range.kind == ByteRange::Kind::unsatisfiable) {
        const std::string extra = "Content-Range: bytes */" + std::to_string(size) + "\r\n";
        co_return Outcome{co_await send_error(stream, 416, head_only, connection, extra), keep};
    }
    std::string extra = "Content-Type: " + std::string(content_type_for(body.name())) +
                        "\r\nAccept-Ranges: bytes\r\n";
    std::uint64_t first = 0, length = size;
    if (range.kind == ByteRange::Kind::partial) {
        first = range.first;
        length = range.last - range.first + 1;
        extra += "Content-Range: bytes " + std::to_string(range.first) + "-" +
                 std::to_string(range.last) + "/" + std::to_string(size) + "\r\n";
    }
    const int status = range.kind == ByteRange::Kind::partial ? 206 : 200;
    if (head_only || length == 0) {
        co_return Outcome{
            co_await send_text(stream, response_head(status, extra, length, connection)), keep};
    }
    body.start(first, length);
    BodyChunk chunk = co_await body.next();
    if (chunk.error != 0) {
        // Nothing of the response is out yet: it can still say so, and the stream stays in step.
        ++io_errors_;
        log_->warn("http: reading {} failed at its byte {}: {}", body.name(), first,
                   std::strerror(chunk.error));
        co_return Outcome{co_await send_error(stream, 500, false, connection), keep};
    }
    const std::string head = response_head(status, extra, length, connection);
    co_return Outcome{co_await send_body(stream, head, body, chunk, length), keep};
}

void HttpServer::count_status(int status) {
    if (status < 300) {
        ++responses_2xx_;
    } else if (status < 500) {
        ++responses_4xx_;
    } else {
        ++responses_5xx_;
    }
}

std::string HttpServer::response_head(int status, const std::string& extra, std::uint64_t length,
                                      std::string_view connection) {
    count_status(status);
    return "HTTP/1.1 " + std::to_string(status) + " " + std::string(http_reason(status)) +
           "\r\nServer: netloom\r\nContent-Length: " + std::to_string(length) + "\r\n" + extra +
           std::string(connection) + "\r\n";
}

Task<bool> HttpServer::send_text(TcpStream& stream, const std::string& text) {
    const IoResult w =
        co_await stream.write_all_idle(bytes_of(text), options_.service.idle_timeout);
    counters_.bytes_sent += w.bytes;
    if (!w.ok()) counters_.failed(stream, w.status);
    co_return w.ok();
}

Task<bool> HttpServer::send_error(TcpStream& stream, int status, bool head_only,
                                  std::string_view connection, const std::string& extra) {
    const std::string body = std::to_string(status) + " " + std::string(http_reason(status)) + "\n";
    std::string text = response_head(status, "Content-Type: text/plain; charset=utf-8\r\n" + extra,
                                     body.size(), connection);
    if (!head_only) text += body;  // one write: see send_file
    co_return co_await send_text(stream, text);
}

Task<bool> HttpServer::write_counted(TcpStream& stream, std::span<const std::uint8_t> bytes,
                                     std::size_t head_bytes) {
    const IoResult w = co_await stream.write_all_idle(bytes, options_.service.idle_timeout);
    counters_.bytes_sent += w.bytes;
    body_bytes_ += w.bytes - std::min(w.bytes, head_bytes);
    if (!w.ok()) counters_.failed(stream, w.status);
    co_return w.ok();
}

Task<bool> HttpServer::send_body(TcpStream& stream, const std::string& head, Body& body,
                                 BodyChunk chunk, std::uint64_t length) {
    // The head rides in the first write with the first bytes. Written on its own, a head shorter
    // than a segment leaves a small body behind it to Nagle (RFC 896) until the head is
    // acknowledged, and the peer's delayed ACK (RFC 1122 4.2.3.2) holds that for tens of ms: on a
    // kept connection with no FIN to push the body, every small response waited that long.
    const std::size_t joined = std::min(chunk.bytes.size(), kTcpAppChunk);
    std::vector<std::uint8_t> piece(head.size() + joined);
    std::memcpy(piece.data(), head.data(), head.size());
    std::memcpy(piece.data() + head.size(), chunk.bytes.data(), joined);
    bool ok = co_await write_counted(stream, piece, head.size());  // co_await alone: see serve
    if (!ok) co_return false;
    std::uint64_t done = joined;
    std::span<const std::uint8_t> rest = chunk.bytes.subspan(joined);
    for (;;) {
        if (!rest.empty()) {
            ok = co_await write_counted(stream, rest, 0);
            if (!ok) co_return false;
            done += rest.size();
        }
        if (done >= length) co_return true;
        chunk = co_await body.next();
        if (chunk.error != 0) {
            // Part of the response is out: the promised length cannot be kept.
            log_->warn("http: reading {} failed at its byte {}: {}; resetting the connection",
                       body.name(), done, std::strerror(chunk.error));
            ++io_errors_;
            ++counters_.errors;
            stream.abort();
            co_return false;
        }
        rest = chunk.bytes;
    }
}

Task<void> HttpServer::linger_close(TcpStream& stream) {
    // FIN after the response, then read what the peer still sends until its FIN: closing with
    // unread data would reset the connection and could destroy the response in flight. So would
    // giving up while the response is still queued: the peer gets kLinger after the last of our
    // data and FIN is acknowledged, and while it is not, each period in which the peer
    // acknowledged something (idle_timeout, or kLinger without one) earns another period.
    stream.shutdown();
    const auto period = [&] {
        const Time idle = options_.service.idle_timeout;
        return fin_unacknowledged(stream.info().state) ? std::max(idle, kLinger) : kLinger;
    };
    std::uint64_t acked = stream.info().bytes_acked;
    Time until = scheduler_.now() + period();
    std::array<std::uint8_t, 2048> sink{};
    for (;;) {
        const IoResult r = co_await stream.read(sink, until);
        if (r.ok()) continue;
        if (r.status == IoStatus::eof) break;
        if (r.status == IoStatus::deadline) {
            const TcpInfo info = stream.info();
            if (info.bytes_acked > acked) {
                acked = info.bytes_acked;
                until = scheduler_.now() + period();
                continue;
            }
            stream.abort();
            co_return;
        }
        counters_.failed(stream, r.status);
        co_return;
    }
    co_await finish_connection(stream, counters_, scheduler_);
}

void HttpServer::visit_counters(const CounterVisitor& visit) const {
    if (service_) service_->visit_counters(visit);  // set in start()
    visit("requests", requests_);
    visit("responses_2xx", responses_2xx_);
    visit("responses_4xx", responses_4xx_);
    visit("responses_5xx", responses_5xx_);
    visit("bad_requests", bad_requests_);
    visit("not_found", not_found_);
    visit("body_bytes", body_bytes_);
    visit("io_errors", io_errors_);
    counters_.visit(visit, false);
    source_->visit_counters(visit);
}

}  // namespace netloom::apps
