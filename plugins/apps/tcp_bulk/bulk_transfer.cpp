// tcp_bulk: one connection's transfer, sending or receiving, as a state machine stepped by a
// coroutine that sleeps on the connection's events.
#include <algorithm>
#include <cstring>
#include <utility>

#include "tcp_app_support.hpp"
#include "tcp_bulk.hpp"

namespace netloom::apps {

BulkTransfer::BulkTransfer(const TcpBulkOptions& options, Scheduler& scheduler,
                           std::unique_ptr<TcpConnection> connection, spdlog::logger& log,
                           std::function<void()> on_done)
    : options_(options),
      scheduler_(scheduler),
      connection_(std::move(connection)),
      log_(log),
      on_done_(std::move(on_done)),
      buffer_(options.sender() ? 0 : kTcpAppChunk),
      stream_(options.seed.value_or(1)),
      wakeup_(scheduler) {
    if (!options_.sender() && options_.seed) expected_.resize(kTcpAppChunk);
    result_.remote = connection_->remote();
}

BulkTransfer::~BulkTransfer() {
    if (sample_timer_ != 0) scheduler_.cancel_timer(sample_timer_);
    if (stall_timer_ != 0) scheduler_.cancel_timer(stall_timer_);
    connection_->on_event({});
}

void BulkTransfer::arm_sampler() {
    sample_timer_ = scheduler_.add_timer(scheduler_.now() + sample_interval_, [this] {
        sample_timer_ = 0;
        if (done_) return;
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
    const TcpInfo info = connection_->info();
    timeline.push_back({static_cast<double>((scheduler_.now() - started_).count()) / 1e6, info.cwnd,
                        info.srtt_us, info.bytes_in_flight, info.bytes_acked});
}

void BulkTransfer::start() {
    notify_on_events(*connection_, wakeup_);
    wakeup_.spawn(run());
}

Task<void> BulkTransfer::run() {
    while (phase_ != Phase::done) {
        if (!step()) co_await wakeup_.wait();
    }
    on_done_();  // the owner collects us on a later loop turn
}

// One pass of the state machine; false when nothing can happen until the next event.
bool BulkTransfer::step() {
    TcpConnection& c = *connection_;
    switch (phase_) {
        case Phase::opening:
            if (c.error() != TcpError::none) {
                finish(false, "connect failed: " + std::string(to_string(c.error())));
                return true;
            }
            if (tcp_opening(c.state())) return false;
            started_ = scheduler_.now();
            cpu_started_ = process_cpu_seconds();
            phase_ = Phase::moving;
            if (options_.sender() && !options_.report.empty()) {  // only a report shows it
                sample();
                arm_sampler();
            }
            log_.debug("tcp_bulk: connection {}:{} -> {}:{} established",
                       c.local().address.to_string(), c.local().port,
                       c.remote().address.to_string(), c.remote().port);
            return true;
        case Phase::moving: return options_.sender() ? send_some() : receive_some();
        case Phase::closing: {
            const bool moved = discard_input();
            if (c.error() != TcpError::none) {
                finish(false, "error while closing: " + std::string(to_string(c.error())));
                return true;
            }
            if (tcp_finished(c.state())) {
                finish(pending_failure_.empty(), pending_failure_);
                return true;
            }
            return moved;
        }
        case Phase::done: return false;
    }
    return false;
}

bool BulkTransfer::send_some() {
    TcpConnection& c = *connection_;
    if (c.error() != TcpError::none) {
        end_clock();
        finish(false, "connection " + std::string(to_string(c.error())) + " after " +
                          std::to_string(moved_) + " bytes");
        return true;
    }
    // With abort_after, only that many bytes are ever generated, hashed and sent.
    const std::uint64_t total =
        std::min(*options_.bytes, options_.abort_after.value_or(UINT64_MAX));
    bool moved = false;
    while (moved_ < total && c.send_space() > 0) {
        if (buffer_sent_ == buffer_.size()) {
            const auto size = static_cast<std::size_t>(
                std::min<std::uint64_t>(kTcpAppChunk, total - stream_.position()));
            buffer_.resize(size);
            stream_.fill(buffer_);
            if (options_.hash) hash_.update(buffer_);
            buffer_sent_ = 0;
        }
        const std::size_t n = c.send(std::span<const std::uint8_t>(buffer_).subspan(buffer_sent_));
        if (n == 0) break;
        buffer_sent_ += n;
        moved_ += n;
        moved = true;
    }
    if (options_.abort_after && moved_ >= *options_.abort_after) {
        end_clock();
        result_.aborted = true;
        result_.info = c.info();  // before the reset clears the connection's state
        c.abort();                // RFC 9293 3.10.5: RST, queued data dropped
        finish(true, "");
        return true;
    }
    if (moved_ == *options_.bytes && !write_shut_) {
        c.shutdown_write();  // FIN after the last byte; the receiver closes at EOF
        write_shut_ = true;
        moved = true;
    }
    moved = discard_input() || moved;
    if (c.eof()) {
        end_clock();  // the peer's FIN: it has read everything
        if (!write_shut_) {
            pending_failure_ = "the receiver closed after " + std::to_string(moved_) + " of " +
                               std::to_string(*options_.bytes) + " bytes";
        }
        c.close();
        phase_ = Phase::closing;
        return true;
    }
    return moved;
}

// The receiver's optional stall: true while it must not read.
bool BulkTransfer::stalled() {
    if (!options_.stall_after || stall_done_) return false;
    if (stall_timer_ == 0 && stall_until_ == Time{0}) {
        if (moved_ < *options_.stall_after) return false;
        stall_until_ = scheduler_.now() + options_.stall_for;
        stall_timer_ = scheduler_.add_timer(stall_until_, [this] {
            stall_timer_ = 0;
            wakeup_.notify();
        });
        log_.info("tcp_bulk: stops reading for {} ms after {} bytes",
                  options_.stall_for.count() / 1'000'000, moved_);
    }
    if (scheduler_.now() < stall_until_) return true;
    stall_done_ = true;
    result_.stall_readable_bytes = connection_->readable_bytes();
    if (memory_probe_) result_.stall_engine_memory = memory_probe_();
    return false;
}

bool BulkTransfer::receive_some() {
    TcpConnection& c = *connection_;
    bool moved = false;
    if (stalled()) return false;
    for (std::size_t n; (n = c.recv(buffer_)) > 0;) {
        const std::span<const std::uint8_t> got(buffer_.data(), n);
        if (options_.hash) hash_.update(got);
        if (!expected_.empty()) verify(got);
        moved_ += n;
        moved = true;
    }
    if (c.error() != TcpError::none) {
        end_clock();
        if (options_.expect == TcpBulkOptions::Expect::reset && c.error() == TcpError::reset) {
            finish(true, "");
        } else {
            finish(false, "connection " + std::string(to_string(c.error())) + " after " +
                              std::to_string(moved_) + " bytes");
        }
        return true;
    }
    if (!c.eof()) return moved;
    end_clock();
    if (options_.expect == TcpBulkOptions::Expect::reset) {
        pending_failure_ = "the connection ended with a FIN, a reset was expected";
    } else if (options_.bytes && moved_ != *options_.bytes) {
        pending_failure_ = "received " + std::to_string(moved_) + " bytes, expected " +
                           std::to_string(*options_.bytes);
    } else if (first_mismatch_) {
        pending_failure_ =
            "content differs from the seed's stream at byte " + std::to_string(*first_mismatch_);
    }
    c.close();  // CLOSE-WAIT -> LAST-ACK; done when our FIN is acknowledged
    phase_ = Phase::closing;
    return true;
}

// Compares received bytes with the DataStream of `seed` (the receiver knows what to expect).
void BulkTransfer::verify(std::span<const std::uint8_t> got) {
    std::size_t offset = 0;
    while (offset < got.size()) {
        const std::size_t n = std::min(got.size() - offset, expected_.size());
        const std::span<std::uint8_t> expected(expected_.data(), n);
        stream_.fill(expected);
        if (!first_mismatch_ && std::memcmp(expected.data(), got.data() + offset, n) != 0) {
            std::size_t i = 0;
            while (expected[i] == got[offset + i]) ++i;
            first_mismatch_ = moved_ + offset + i;
        }
        offset += n;
    }
}

bool BulkTransfer::discard_input() {
    // A sender's peer is not supposed to send anything; whatever comes is read and dropped so
    // it cannot fill the receive window or turn our close into a reset.
    std::uint8_t sink[2048];
    bool any = false;
    while (connection_->recv(sink) > 0) any = true;
    return any;
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
    if (phase_ == Phase::opening) {  // never established: a zero-length interval
        started_ = ended_;
        cpu_started_ = cpu_ended_;
    }
    const TcpConnection& c = *connection_;
    result_.ok = ok;
    result_.failure = std::move(failure);
    result_.tcp_error = c.error();
    result_.bytes = moved_;
    if (options_.hash) result_.sha256 = Sha256::hex(hash_.final());
    result_.start_seconds = to_seconds(started_);
    result_.end_seconds = to_seconds(ended_);
    result_.cpu_start = cpu_started_;
    result_.cpu_end = cpu_ended_;
    if (!result_.aborted) result_.info = c.info();
    phase_ = Phase::done;
    done_ = true;
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
