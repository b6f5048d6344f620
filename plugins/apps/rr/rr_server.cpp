// rr server: one coroutine accepts, one per connection answers requests in order.
#include "rr.hpp"

#include <algorithm>
#include <array>
#include <stdexcept>
#include <string>

#include "tcp_app_support.hpp"

namespace netloom::apps {

namespace {
// How long a finished connection may take to close before it is reset.
constexpr Time kCloseTimeout = std::chrono::seconds(30);
}  // namespace

Time RrServer::deadline() const noexcept {
    return options_.idle_timeout > Time{0} ? scheduler_.now() + options_.idle_timeout : kNoDeadline;
}

void RrServer::count_failure(IoStatus status) noexcept {
    if (status == IoStatus::eof) {
        ++bad_requests_;  // a request cut short
    } else if (status == IoStatus::deadline) {
        ++timeouts_;
    } else {
        ++errors_;
    }
}

RrServer::RrServer(const RrOptions& options, TcpEngine& tcp, Scheduler& scheduler,
                   std::shared_ptr<spdlog::logger> log)
    : options_(options),
      tcp_(tcp),
      scheduler_(scheduler),
      log_(std::move(log)),
      scope_(scheduler) {}

RrServer::~RrServer() = default;

void RrServer::start(std::function<void(int)> /*a server never finishes*/) {
    try {
        acceptor_ = std::make_unique<TcpAcceptor>(scheduler_, tcp_, options_.port);
    } catch (const std::exception& e) {
        throw std::runtime_error("rr server: cannot listen on TCP port " +
                                 std::to_string(options_.port) + ": " + e.what());
    }
    log_->info("rr server listening on port {}", options_.port);
    scope_.spawn(accept_loop());
}

Task<void> RrServer::accept_loop() {
    for (;;) {
        TcpStream stream = co_await acceptor_->accept();
        if (!stream) continue;
        if (current_ >= options_.max_connections) {
            ++refused_;
            stream.abort();
            continue;
        }
        ++connections_;
        ++current_;  // here, not in serve(): serve starts on a later loop turn
        scope_.spawn(serve(std::move(stream)));
    }
}

Task<void> RrServer::serve(TcpStream stream) {
    // Counted down however the coroutine ends (its frame may be destroyed with the scope).
    struct Live {
        std::uint64_t& n;
        ~Live() { --n; }
    } live{current_};
    stream.set_nodelay(true);  // a response must not wait for an ACK of the previous one
    std::vector<std::uint8_t> buffer;
    std::array<std::uint8_t, kRrHeaderSize> raw{};
    for (;;) {
        const IoResult r = co_await stream.read_exact(raw, deadline());
        if (r.status == IoStatus::eof && r.bytes == 0) break;  // the client is done
        if (!r.ok()) {
            count_failure(r.status);
            stream.abort();
            co_return;
        }
        bytes_in_ += kRrHeaderSize;
        const RrHeader header = decode_rr_header(raw);
        if (header.request_length < kRrHeaderSize || header.request_length > options_.max_size ||
            header.response_length == 0 || header.response_length > options_.max_size) {
            ++bad_requests_;
            log_->debug("rr server: bad request header (request {} B, response {} B)",
                        header.request_length, header.response_length);
            stream.abort();
            co_return;
        }
        if (!co_await answer(stream, header, buffer)) co_return;
        ++transactions_;
    }
    const IoResult closed = co_await stream.close(scheduler_.now() + kCloseTimeout);
    if (!closed.ok()) {
        ++errors_;
        stream.abort();
    }
}

Task<bool> RrServer::answer(TcpStream& stream, RrHeader header, std::vector<std::uint8_t>& buffer) {
    const std::size_t largest =
        std::max<std::size_t>(header.request_length - kRrHeaderSize, header.response_length);
    buffer.resize(std::min(largest, kTcpAppChunk));  // grows to the largest message, at most 64 KiB
    for (std::uint64_t offset = kRrHeaderSize; offset < header.request_length;) {
        const auto n = static_cast<std::size_t>(
            std::min<std::uint64_t>(buffer.size(), header.request_length - offset));
        const std::span<std::uint8_t> piece(buffer.data(), n);
        IoResult r;
        for (std::size_t got = 0; got < n; got += r.bytes) {  // each read within idle_timeout
            r = co_await stream.read(piece.subspan(got), deadline());
            bytes_in_ += r.bytes;
            if (!r.ok()) {
                count_failure(r.status);
                stream.abort();
                co_return false;
            }
        }
        if (!check_rr_pattern(piece, false, header.transaction, offset)) {
            ++corrupt_;
            log_->warn("rr server: request {} differs from the pattern near byte {}",
                       header.transaction, offset);
            stream.abort();
            co_return false;
        }
        offset += n;
    }
    for (std::uint64_t offset = 0; offset < header.response_length;) {
        const auto n = static_cast<std::size_t>(
            std::min<std::uint64_t>(buffer.size(), header.response_length - offset));
        const std::span<std::uint8_t> piece(buffer.data(), n);
        fill_rr_pattern(piece, true, header.transaction, offset);
        const IoResult w = co_await stream.write_all_idle(piece, options_.idle_timeout);
        bytes_out_ += w.bytes;
        if (!w.ok()) {
            count_failure(w.status);
            stream.abort();
            co_return false;
        }
        offset += n;
    }
    co_return true;
}

void RrServer::visit_counters(const CounterVisitor& visit) const {
    visit("connections", connections_);
    visit("connections_current", current_);
    visit("connections_refused", refused_);
    visit("transactions", transactions_);
    visit("bad_requests", bad_requests_);
    visit("corrupt", corrupt_);
    visit("errors", errors_);
    visit("timeouts", timeouts_);
    visit("bytes_received", bytes_in_);
    visit("bytes_sent", bytes_out_);
}

}  // namespace netloom::apps
