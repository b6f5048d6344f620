// rr client: transactions back to back on one connection (rr) or one connection each (crr),
// timed with the scheduler's clock, summarised in a histogram and a JSON report.
#include "rr.hpp"

#include <algorithm>
#include <array>
#include <cstring>

#include "tcp_app_support.hpp"

namespace netloom::apps {

namespace {
double to_us(Time t) noexcept {
    return static_cast<double>(t.count()) / 1e3;
}
}  // namespace

RrClient::RrClient(RrOptions options, TcpEngine& tcp, Scheduler& scheduler,
                   std::shared_ptr<spdlog::logger> log)
    : options_(std::move(options)),
      tcp_(tcp),
      scheduler_(scheduler),
      log_(std::move(log)),
      out_(std::min<std::size_t>(options_.size, kTcpAppChunk)),
      in_(std::min<std::size_t>(options_.response_size, kTcpAppChunk)),
      scope_(scheduler) {}

RrClient::~RrClient() = default;

void RrClient::start(std::function<void(int)> finished) {
    finished_ = std::move(finished);
    scope_.spawn(run());
}

bool RrClient::fail(std::string why) {
    if (failure_.empty()) failure_ = std::move(why);
    return false;
}

bool RrClient::clock_moves(Time begin, Time end) {
    same_time_ = end > begin ? 0 : same_time_ + 1;
    if (same_time_ < RrOptions::kStuckTransactions) return true;
    return fail(std::to_string(same_time_) +
                " transactions in a row took no time: the scheduler's clock stands still (a "
                "virtual clock over a link with neither latency nor rate?); give the link a "
                "latency or use `transactions` instead of `duration`");
}

bool RrClient::measuring_done(Time now) const noexcept {
    if (options_.transactions) return completed_ >= *options_.transactions;
    return now >= scheduler_start_ + options_.warmup + *options_.duration;
}

Task<void> RrClient::run() {
    cpu_start_ = process_cpu_seconds();
    scheduler_start_ = scheduler_.now();
    const Time measure_from = scheduler_start_ + options_.warmup;
    const bool crr = options_.mode == RrOptions::Mode::crr;
    std::optional<Time> first_measured;
    Time last_end = scheduler_start_;
    TcpStream stream;  // rr: the one connection for every transaction
    if (!crr) stream = co_await open(scheduler_start_ + options_.timeout);
    for (std::uint32_t transaction = 0; failure_.empty(); ++transaction) {
        const Time begin = scheduler_.now();
        const bool measured = begin >= measure_from;
        if (measured && measuring_done(begin)) break;
        const Time deadline = begin + options_.timeout;
        ++started_;
        if (crr) {
            TcpStream fresh = co_await open(deadline);
            if (!fresh) break;
            if (!co_await transact(fresh, transaction, deadline)) break;
            if (!co_await finish_stream(fresh, deadline)) break;
        } else if (!co_await transact(stream, transaction, deadline)) {
            break;
        }
        const Time end = scheduler_.now();
        if (options_.duration && !clock_moves(begin, end)) break;
        if (measured) {
            if (!first_measured) first_measured = begin;
            histogram_.add(end - begin);
            ++completed_;
            last_end = end;
        } else {
            ++warmup_done_;
        }
    }
    // rr: the connection ends cleanly too (no stray bytes after the last response).
    if (!crr && stream && failure_.empty()) {
        co_await finish_stream(stream, scheduler_.now() + options_.timeout);
    }
    if (failure_.empty() && completed_ == 0) fail("no transaction was measured (warmup too long?)");
    const bool reported = report_logged(
        *log_, "rr client", [&] { report(first_measured.value_or(last_end), last_end); });
    if (finished_) finished_(failure_.empty() && reported ? 0 : 1);
}

Task<TcpStream> RrClient::open(Time deadline) {
    TcpConnectOptions connect_options;
    connect_options.nodelay = options_.nodelay;
    TcpStream stream = co_await tcp_connect(scheduler_, tcp_, {options_.target, options_.port},
                                            deadline, connect_options);
    if (!stream) {
        ++errors_;
        fail(connect_failure(stream, {options_.target, options_.port}));
        co_return stream;
    }
    ++connections_;
    stream.set_nodelay(options_.nodelay);
    co_return stream;
}

Task<bool> RrClient::transact(TcpStream& stream, std::uint32_t transaction, Time deadline) {
    const std::string name = "transaction " + std::to_string(transaction);
    std::array<std::uint8_t, kRrHeaderSize> header{};
    encode_rr_header({options_.size, options_.response_size, transaction}, header);
    for (std::uint64_t offset = 0; offset < options_.size;) {
        const auto n =
            static_cast<std::size_t>(std::min<std::uint64_t>(out_.size(), options_.size - offset));
        const std::span<std::uint8_t> piece(out_.data(), n);
        fill_rr_pattern(piece, false, transaction, offset);
        if (offset < kRrHeaderSize) {
            const std::size_t k = std::min<std::size_t>(n, kRrHeaderSize - offset);
            std::memcpy(piece.data(), header.data() + offset, k);
        }
        const IoResult w = co_await stream.write_all(piece, deadline);
        bytes_sent_ += w.bytes;
        if (!w.ok()) {
            ++errors_;
            co_return fail(name + ": sending the request: " + std::string(to_string(w.status)));
        }
        offset += n;
    }
    // crr: our FIN rides with the request; the server closes once it has answered.
    if (options_.mode == RrOptions::Mode::crr) stream.shutdown();
    for (std::uint64_t offset = 0; offset < options_.response_size;) {
        const auto n = static_cast<std::size_t>(
            std::min<std::uint64_t>(in_.size(), options_.response_size - offset));
        const std::span<std::uint8_t> piece(in_.data(), n);
        const IoResult r = co_await stream.read_exact(piece, deadline);
        bytes_received_ += r.bytes;
        if (r.status == IoStatus::eof) {
            ++corrupt_;
            co_return fail(name + ": response ended after " + std::to_string(offset + r.bytes) +
                           " of " + std::to_string(options_.response_size) + " bytes");
        }
        if (!r.ok()) {
            ++errors_;
            co_return fail(name + ": reading the response: " + std::string(to_string(r.status)));
        }
        if (!check_rr_pattern(piece, true, transaction, offset)) {
            ++corrupt_;
            co_return fail(name + ": response bytes differ from the pattern near byte " +
                           std::to_string(offset));
        }
        offset += n;
    }
    co_return true;
}

Task<bool> RrClient::finish_stream(TcpStream& stream, Time deadline) {
    if (options_.mode == RrOptions::Mode::rr) stream.shutdown();
    std::uint8_t extra = 0;
    const IoResult r = co_await stream.read({&extra, 1}, deadline);
    if (r.ok()) {
        ++corrupt_;
        co_return fail("the server sent more bytes than the responses");
    }
    if (r.status != IoStatus::eof) {
        ++errors_;
        co_return fail("waiting for the server to close: " + std::string(to_string(r.status)));
    }
    const IoResult closed = co_await stream.close(deadline);
    const TcpInfo info = stream.info();
    tcp_sums_.retransmits += info.retransmits;
    tcp_sums_.rto_count += info.rto_count;
    tcp_sums_.fast_retransmits += info.fast_retransmits;
    tcp_sums_.sack_recoveries += info.sack_recoveries;
    if (!closed.ok()) {
        ++errors_;
        co_return fail("closing: " + std::string(to_string(closed.status)));
    }
    co_return true;
}

void RrClient::report(Time measured_from, Time measured_to) {
    const double seconds = to_seconds(measured_to - measured_from);
    const double rate = seconds > 0 ? static_cast<double>(completed_) / seconds : 0.0;
    const bool crr = options_.mode == RrOptions::Mode::crr;
    const LatencyHistogram& h = histogram_;
    log_->info(
        "rr client {}:{} {} {}/{} B: {} transactions in {:.3f} s, {:.0f}/s, latency p50 {:.1f} us "
        "p99 {:.1f} us{}",
        options_.target.to_string(), options_.port, crr ? "crr" : "rr", options_.size,
        options_.response_size, completed_, seconds, rate, to_us(h.quantile(0.5)),
        to_us(h.quantile(0.99)), failure_.empty() ? "" : " (FAILED: " + failure_ + ")");
    if (options_.report.empty()) return;
    nlohmann::json metrics;
    metrics["rr_per_s"] = rate;
    metrics["latency_p50_us"] = to_us(h.quantile(0.5));
    metrics["latency_p99_us"] = to_us(h.quantile(0.99));
    if (crr) metrics["connections_per_s"] = rate;  // one connection per transaction
    nlohmann::json report;
    report["metrics"] = metrics;
    report["mode"] = crr ? "crr" : "rr";
    report["size"] = options_.size;
    report["response_size"] = options_.response_size;
    report["transactions"] = completed_;
    report["warmup_transactions"] = warmup_done_;
    report["connections"] = connections_;
    report["seconds"] = seconds;
    report["cpu_seconds"] = process_cpu_seconds() - cpu_start_;
    report["latency_us"] = {{"min", to_us(h.min())},          {"mean", to_us(h.mean())},
                            {"p50", to_us(h.quantile(0.5))},  {"p90", to_us(h.quantile(0.9))},
                            {"p99", to_us(h.quantile(0.99))}, {"p999", to_us(h.quantile(0.999))},
                            {"max", to_us(h.max())}};
    report["bytes_sent"] = bytes_sent_;
    report["bytes_received"] = bytes_received_;
    report["errors"] = errors_;
    report["corrupt"] = corrupt_;
    report["ok"] = failure_.empty();
    report["error"] = failure_.empty() ? nlohmann::json(nullptr) : nlohmann::json(failure_);
    nlohmann::json tcp;
    add_tcp_info(tcp, tcp_sums_);
    report["tcp"] = tcp;
    write_json_report(options_.report, report);
}

void RrClient::visit_counters(const CounterVisitor& visit) const {
    visit("transactions", completed_);
    visit("transactions_started", started_);
    visit("warmup_transactions", warmup_done_);
    visit("connections", connections_);
    visit("bytes_sent", bytes_sent_);
    visit("bytes_received", bytes_received_);
    visit("corrupt", corrupt_);
    visit("errors", errors_);
    visit("latency_us_p50", static_cast<std::uint64_t>(to_us(histogram_.quantile(0.5))));
    visit("latency_us_p99", static_cast<std::uint64_t>(to_us(histogram_.quantile(0.99))));
}

}  // namespace netloom::apps
