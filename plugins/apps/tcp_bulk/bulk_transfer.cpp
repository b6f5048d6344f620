// tcp_bulk: one connection's transfer, sending or receiving, as coroutines on the app API.
#include <algorithm>
#include <cstring>
#include <utility>

#include "tcp_app_support.hpp"
#include "tcp_bulk.hpp"

namespace netloom::apps {
namespace {

// What a failed connect reports as `tcp_error` (the stream holds no connection to ask).
TcpError tcp_error_of(IoStatus status) noexcept {
    switch (status) {
        case IoStatus::refused: return TcpError::refused;
        case IoStatus::reset: return TcpError::reset;
        case IoStatus::timed_out: return TcpError::timed_out;
        case IoStatus::unreachable: return TcpError::unreachable;
        case IoStatus::aborted: return TcpError::aborted;
        default: return TcpError::none;
    }
}

}  // namespace

BulkTransfer::BulkTransfer(const TcpBulkOptions& options, Scheduler& scheduler, TcpStream stream,
                           spdlog::logger& log)
    : options_(options),
      scheduler_(scheduler),
      stream_(std::move(stream)),
      log_(log),
      buffer_(kTcpAppChunk),
      stream_data_(options.seed.value_or(1)),
      input_done_(scheduler) {
    if (!options_.sender() && options_.seed) expected_.resize(kTcpAppChunk);
    result_.remote = stream_.remote();
}

BulkTransfer::~BulkTransfer() {
    if (sample_timer_ != 0) scheduler_.cancel_timer(sample_timer_);
}

void BulkTransfer::arm_sampler() {
    sample_timer_ = scheduler_.add_timer(scheduler_.now() + sample_interval_, [this] {
        sample_timer_ = 0;
        sample();
        arm_sampler();
    });
}

void BulkTransfer::sample() {
    auto& timeline = result_.timeline;
    if (timeline.size() >= kBulkMaxSamples) {
        // Halve the resolution: keep every other sample, sample half as often from now on.
        std::size_t kept = 0;
        for (std::size_t i = 0; i < timeline.size(); i += 2) timeline[kept++] = timeline[i];
        timeline.resize(kept);
        sample_interval_ *= 2;
    }
    const TcpInfo info = stream_.info();
    timeline.push_back({static_cast<double>((scheduler_.now() - started_).count()) / 1e6, info.cwnd,
                        info.srtt_us, info.bytes_in_flight, info.bytes_acked});
}

Task<void> BulkTransfer::run() {
    if (!stream_) {
        std::string why = error_text(stream_.status());
        if (!stream_.detail().empty()) why += ": " + stream_.detail();
        finish(false, "connect failed: " + why);
        co_return;
    }
    started_ = scheduler_.now();
    cpu_started_ = process_cpu_seconds();
    established_ = true;
    if (options_.sender() && !options_.report.empty()) {  // only a report shows it
        sample();
        arm_sampler();
    }
    log_.debug("tcp_bulk: connection {}:{} -> {}:{} established",
               stream_.local().address.to_string(), stream_.local().port,
               stream_.remote().address.to_string(), stream_.remote().port);
    if (options_.sender()) {
        co_await send();
    } else {
        co_await receive();
    }
}

// The writer: whole chunks through write_all, while watch_input() reads beside it.
Task<void> BulkTransfer::send() {
    TaskScope input(scheduler_);  // after stream_ (a member): destroyed before it
    input.spawn(watch_input());
    // With abort_after, only that many bytes are ever generated, hashed and sent.
    const std::uint64_t total =
        std::min(*options_.bytes, options_.abort_after.value_or(UINT64_MAX));
    IoResult w;
    while (moved_ < total) {
        buffer_.resize(static_cast<std::size_t>(
            std::min<std::uint64_t>(kTcpAppChunk, total - stream_data_.position())));
        stream_data_.fill(buffer_);
        if (options_.hash) hash_.update(buffer_);
        w = co_await stream_.write_all(buffer_);
        moved_ += w.bytes;
        if (!w.ok()) break;
    }
    if (peer_closed_) {
        // The receiver's FIN came first (watch_input shut our side, which stopped write_all).
        pending_failure_ = "the receiver closed after " + std::to_string(moved_) + " of " +
                           std::to_string(*options_.bytes) + " bytes";
        co_await close();
        co_return;
    }
    if (!w.ok()) {
        end_clock();
        co_return finish(false, "connection " + error_text(w.status) + " after " +
                                    std::to_string(moved_) + " bytes");
    }
    if (options_.abort_after) {
        end_clock();
        result_.aborted = true;
        result_.info = stream_.info();  // before the reset clears the connection's state
        stream_.abort();                // RFC 9293 3.10.5: RST, queued data dropped
        co_return finish(true, "");
    }
    stream_.shutdown();  // FIN after the last byte; the receiver closes at EOF
    write_shut_ = true;
    while (!input_ended_) co_await input_done_.wait();
    if (input_status_ != IoStatus::eof) {
        end_clock();
        co_return finish(false, "connection " + error_text(input_status_) + " after " +
                                    std::to_string(moved_) + " bytes");
    }
    co_await close();
}

// The sender's reader. The peer is not supposed to send anything; whatever comes is read and
// dropped so it cannot fill the receive window or turn our close into a reset. Its FIN means
// it has read everything (or, before we are done, that it gave up).
Task<void> BulkTransfer::watch_input() {
    IoResult r;
    do {
        r = co_await stream_.read(sink_);
    } while (r.ok());
    input_status_ = r.status;
    if (r.status == IoStatus::eof) {
        end_clock();
        if (!write_shut_) {
            peer_closed_ = true;
            stream_.shutdown();  // ends the writer's write_all at its next wake-up
        }
    }
    input_ended_ = true;
    // Later, not now: resuming the writer inline could end its frame, and with it this one.
    input_done_.notify_later();
}

// The receiver's optional stall: stops reading once, for stall_for.
Task<void> BulkTransfer::stall() {
    stall_done_ = true;
    log_.info("tcp_bulk: stops reading for {} ms after {} bytes",
              options_.stall_for.count() / 1'000'000, moved_);
    co_await scheduler_.sleep_for(options_.stall_for);
    result_.stall_readable_bytes = stream_.connection().readable_bytes();
    if (memory_probe_) result_.stall_engine_memory = memory_probe_();
}

Task<void> BulkTransfer::receive() {
    IoResult r;
    for (;;) {
        if (options_.stall_after && !stall_done_ && moved_ >= *options_.stall_after) {
            co_await stall();
        }
        r = co_await stream_.read(buffer_);
        if (!r.ok()) break;
        const std::span<const std::uint8_t> got(buffer_.data(), r.bytes);
        if (options_.hash) hash_.update(got);
        if (!expected_.empty()) verify(got);
        moved_ += r.bytes;
    }
    end_clock();
    if (r.status != IoStatus::eof) {
        if (options_.expect == TcpBulkOptions::Expect::reset && r.status == IoStatus::reset) {
            co_return finish(true, "");
        }
        co_return finish(false, "connection " + error_text(r.status) + " after " +
                                    std::to_string(moved_) + " bytes");
    }
    if (options_.expect == TcpBulkOptions::Expect::reset) {
        pending_failure_ = "the connection ended with a FIN, a reset was expected";
    } else if (options_.bytes && moved_ != *options_.bytes) {
        pending_failure_ = "received " + std::to_string(moved_) + " bytes, expected " +
                           std::to_string(*options_.bytes);
    } else if (first_mismatch_) {
        pending_failure_ =
            "content differs from the seed's stream at byte " + std::to_string(*first_mismatch_);
    }
    co_await close();  // CLOSE-WAIT -> LAST-ACK; done when our FIN is acknowledged
}

// Closes after both FINs and finishes with the failure decided at EOF, if any.
Task<void> BulkTransfer::close() {
    const IoResult closed = co_await stream_.close();
    if (!closed.ok()) {
        co_return finish(false, "error while closing: " + error_text(closed.status));
    }
    finish(pending_failure_.empty(), pending_failure_);
}

// Compares received bytes with the DataStream of `seed` (the receiver knows what to expect).
void BulkTransfer::verify(std::span<const std::uint8_t> got) {
    std::size_t offset = 0;
    while (offset < got.size()) {
        const std::size_t n = std::min(got.size() - offset, expected_.size());
        const std::span<std::uint8_t> expected(expected_.data(), n);
        stream_data_.fill(expected);
        if (!first_mismatch_ && std::memcmp(expected.data(), got.data() + offset, n) != 0) {
            std::size_t i = 0;
            while (expected[i] == got[offset + i]) ++i;
            first_mismatch_ = moved_ + offset + i;
        }
        offset += n;
    }
}

// The engine's words for what ended the connection ("connection reset"), else the status's.
std::string BulkTransfer::error_text(IoStatus status) const {
    TcpError error = tcp_error_of(status);
    if (stream_ && stream_.connection().error() != TcpError::none) {
        error = stream_.connection().error();
    }
    return std::string(error != TcpError::none ? to_string(error) : to_string(status));
}

void BulkTransfer::end_clock() {
    if (clock_stopped_) return;
    clock_stopped_ = true;
    ended_ = scheduler_.now();
    cpu_ended_ = process_cpu_seconds();
}

void BulkTransfer::finish(bool ok, std::string failure) {
    end_clock();
    if (sample_timer_ != 0) {
        scheduler_.cancel_timer(std::exchange(sample_timer_, 0));
        if (!result_.aborted) sample();  // the last point: the state at the end
    }
    if (!established_) {  // never established: a zero-length interval
        started_ = ended_;
        cpu_started_ = cpu_ended_;
    }
    result_.ok = ok;
    result_.failure = std::move(failure);
    result_.tcp_error = stream_ ? stream_.connection().error() : tcp_error_of(stream_.status());
    result_.bytes = moved_;
    if (options_.hash) result_.sha256 = Sha256::hex(hash_.final());
    result_.start_seconds = to_seconds(started_);
    result_.end_seconds = to_seconds(ended_);
    result_.cpu_start = cpu_started_;
    result_.cpu_end = cpu_ended_;
    if (!result_.aborted) result_.info = stream_.info();
}

nlohmann::json BulkResult::to_json() const {
    nlohmann::json j;
    j["ok"] = ok;
    j["bytes"] = bytes;
    j["sha256"] = sha256;
    j["seconds"] = seconds();
    j["cpu_seconds"] = cpu_seconds();
    j["gbit_per_s"] = gbit_per_s(bytes, seconds());
    j["error"] = failure.empty() ? nlohmann::json(nullptr) : nlohmann::json(failure);
    j["tcp_error"] = tcp_error_key(tcp_error);
    j["aborted"] = aborted;
    j["remote"] = remote.address.to_string() + ":" + std::to_string(remote.port);
    add_tcp_info(j, info);
    j["metrics"] = {{"throughput_gbit_s", gbit_per_s(bytes, seconds())}};
    if (stall_readable_bytes) j["stall_readable_bytes"] = *stall_readable_bytes;
    if (stall_engine_memory) j["stall_engine_memory"] = *stall_engine_memory;
    return j;
}

}  // namespace netloom::apps
