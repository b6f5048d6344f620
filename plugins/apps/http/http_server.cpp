// http server: the connection loop (read a head, answer, keep alive or close), responses, file
// streaming with pread, path resolution under the root; the config keys and factory.
#include "http_server.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string_view>

#include "tcp_app_support.hpp"

namespace netloom::apps {

namespace fs = std::filesystem;

namespace {

// After our response and FIN are acknowledged: how long the peer has to send its FIN.
constexpr Time kLinger = std::chrono::seconds(2);

struct FileDescriptor {  // closed however the coroutine holding it ends
    int fd = -1;
    explicit FileDescriptor(int f) : fd(f) {}
    FileDescriptor(const FileDescriptor&) = delete;
    FileDescriptor& operator=(const FileDescriptor&) = delete;
    ~FileDescriptor() {
        if (fd >= 0) ::close(fd);
    }
};

std::string_view as_text(const std::vector<std::uint8_t>& buffer, std::size_t n) {
    return {reinterpret_cast<const char*>(buffer.data()), n};
}

bool within(const fs::path& path, const fs::path& root) {
    const auto [r, p] = std::mismatch(root.begin(), root.end(), path.begin(), path.end());
    return r == root.end();
}

std::span<const std::uint8_t> bytes_of(const std::string& s) {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

bool fin_unacknowledged(TcpState state) noexcept {
    return state == TcpState::fin_wait_1 || state == TcpState::closing ||
           state == TcpState::last_ack;
}

}  // namespace

int open_served_file(int root_fd, const fs::path& root, const fs::path& relative) {
    // No symlink may be met (the path was made canonical, so one now is a swap), nothing may
    // resolve outside root_fd; O_NONBLOCK so a FIFO swapped in cannot block the loop in open().
    constexpr int kFlags = O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC;
    open_how how{};
    how.flags = kFlags;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
    int fd = static_cast<int>(::syscall(SYS_openat2, root_fd, relative.c_str(), &how, sizeof how));
    if (fd < 0 && (errno == ENOSYS || errno == EPERM)) {
        // A kernel before 5.6 (or a seccomp filter): O_NOFOLLOW guards the last component only,
        // so check where the descriptor really leads.
        fd = ::openat(root_fd, relative.c_str(), kFlags);
        if (fd >= 0) {
            std::error_code ec;
            const fs::path real = fs::read_symlink("/proc/self/fd/" + std::to_string(fd), ec);
            if (ec || !within(real, root)) {
                ::close(fd);
                return -1;
            }
        }
    }
    if (fd < 0) return -1;
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        ::close(fd);
        return -1;
    }
    return fd;
}

HttpOptions HttpOptions::from_config(const Config& config) {
    HttpOptions o;
    o.service = ServiceOptions::from_config(config, 80, false);
    if (!config.has("idle_timeout")) o.service.idle_timeout = std::chrono::seconds(10);
    const std::string root = config.get_string("root");
    std::error_code ec;
    o.root = fs::canonical(root, ec);
    if (ec || !fs::is_directory(o.root, ec)) config.fail("root", "an existing directory", root);
    const std::uint64_t max_request = config.get_size("max_request_bytes", 8 * 1024);
    if (max_request < 256 || max_request > (1u << 20)) {
        config.fail("max_request_bytes", "a size from 256 B to 1 MiB",
                    config.get_string("max_request_bytes"));
    }
    o.max_request_bytes = static_cast<std::size_t>(max_request);
    o.limits.max_target = std::min<std::size_t>(o.limits.max_target, o.max_request_bytes);
    return o;
}

std::unique_ptr<App> make_http(const Config& config, Env& env) {
    HttpOptions options = HttpOptions::from_config(config);
    config.done();
    return std::make_unique<HttpServer>(std::move(options), env.tcp(), env.scheduler(),
                                        env.logger("app.http"));
}

HttpServer::HttpServer(HttpOptions options, TcpEngine& tcp, Scheduler& scheduler,
                       std::shared_ptr<spdlog::logger> log)
    : options_(std::move(options)),
      tcp_(tcp),
      scheduler_(scheduler),
      log_(std::move(log)),
      root_fd_(::open(options_.root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC)),
      scope_(scheduler) {
    if (root_fd_ < 0) {
        throw std::runtime_error("http server: cannot open root " + options_.root.string() + ": " +
                                 std::strerror(errno));
    }
}

HttpServer::~HttpServer() {
    ::close(root_fd_);  // the coroutines destroyed after this use only their own descriptors
}

void HttpServer::start(std::function<void(int)> /*a server never finishes*/) {
    service_ = std::make_unique<TcpService>("http", scheduler_, tcp_, options_.service, scope_,
                                            [this](TcpStream& s) { return serve(s); });
    service_->start();
    log_->info("http server on TCP port {} serving {}", options_.service.port,
               options_.root.string());
}

std::optional<fs::path> HttpServer::resolve(const std::string& path) const {
    std::error_code ec;
    // weakly_canonical follows symlinks, so a link pointing out of the root lands outside.
    fs::path real = fs::weakly_canonical(options_.root / path.substr(1), ec);
    if (ec || !within(real, options_.root)) return std::nullopt;
    if (fs::is_directory(real, ec)) {
        real = fs::weakly_canonical(real / "index.html", ec);
        if (ec || !within(real, options_.root)) return std::nullopt;
    }
    if (!fs::is_regular_file(real, ec)) return std::nullopt;
    return real;
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
    const auto file = resolve(request.path);
    FileDescriptor fd(
        file ? open_served_file(root_fd_, options_.root, file->lexically_relative(options_.root))
             : -1);
    struct stat st {};
    if (fd.fd < 0 || ::fstat(fd.fd, &st) != 0) {
        ++not_found_;
        co_return Outcome{co_await send_error(stream, 404, head_only, connection), keep};
    }
    const auto size = static_cast<std::uint64_t>(st.st_size);
    const ByteRange range = request.range ? parse_byte_range(*request.range, size) : ByteRange{};
    if (range.kind == ByteRange::Kind::unsatisfiable) {
        const std::string extra = "Content-Range: bytes */" + std::to_string(size) + "\r\n";
        co_return Outcome{co_await send_error(stream, 416, head_only, connection, extra), keep};
    }
    std::string extra = "Content-Type: " + std::string(content_type_for(file->string())) +
                        "\r\nAccept-Ranges: bytes\r\n";
    std::uint64_t first = 0, length = size;
    if (range.kind == ByteRange::Kind::partial) {
        first = range.first;
        length = range.last - range.first + 1;
        extra += "Content-Range: bytes " + std::to_string(range.first) + "-" +
                 std::to_string(range.last) + "/" + std::to_string(size) + "\r\n";
    }
    const int status = range.kind == ByteRange::Kind::partial ? 206 : 200;
    const std::string head = response_head(status, extra, length, connection);
    bool ok = false;  // co_await in statements of their own (see serve)
    if (head_only || length == 0) {
        ok = co_await send_text(stream, head);
    } else {
        ok = co_await send_file(stream, head, fd.fd, first, length);
    }
    co_return Outcome{ok, keep};
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

Task<bool> HttpServer::send_file(TcpStream& stream, const std::string& head, int fd,
                                 std::uint64_t first, std::uint64_t length) {
    // The head rides in the first piece's write. Written on its own, a head shorter than a
    // segment leaves a small body behind it to Nagle (RFC 896) until the head is acknowledged,
    // and the peer's delayed ACK (RFC 1122 4.2.3.2) holds that for tens of ms: on a kept
    // connection with no FIN to push the body, every small response waited that long.
    std::vector<std::uint8_t> piece(head.size() + std::min<std::uint64_t>(length, kTcpAppChunk));
    std::memcpy(piece.data(), head.data(), head.size());
    std::size_t prefix = head.size();  // head bytes at the front of this piece
    for (std::uint64_t done = 0; done < length;) {
        const auto want =
            static_cast<std::size_t>(std::min<std::uint64_t>(piece.size() - prefix, length - done));
        const ssize_t got =
            ::pread(fd, piece.data() + prefix, want, static_cast<off_t>(first + done));
        if (got <= 0) {
            // The file shrank or failed under us: the promised length cannot be kept.
            log_->warn("http: reading a file failed at offset {}: {}", first + done,
                       got < 0 ? std::strerror(errno) : "end of file");
            ++counters_.errors;
            stream.abort();
            co_return false;
        }
        const IoResult w = co_await stream.write_all_idle(
            std::span<const std::uint8_t>(piece.data(), prefix + static_cast<std::size_t>(got)),
            options_.service.idle_timeout);
        counters_.bytes_sent += w.bytes;
        body_bytes_ += w.bytes - std::min(w.bytes, prefix);
        if (!w.ok()) {
            counters_.failed(stream, w.status);
            co_return false;
        }
        done += static_cast<std::uint64_t>(got);
        prefix = 0;
    }
    co_return true;
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
    counters_.visit(visit, false);
}

}  // namespace netloom::apps
