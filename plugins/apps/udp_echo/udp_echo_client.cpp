// udp_echo client: sends numbered datagrams on a fixed schedule and matches the echoes.
#include <algorithm>
#include <cstring>

#include "netloom/wire/bytes.hpp"
#include "udp_echo.hpp"

namespace netloom::apps {

UdpEchoClient::UdpEchoClient(UdpEchoOptions options, IpLayer& ip, Scheduler& scheduler,
                             std::shared_ptr<spdlog::logger> log)
    : options_(options),
      ip_(ip),
      scheduler_(scheduler),
      log_(std::move(log)),
      scratch_(options.size),
      fates_(options.count, Fate::unsent),
      scope_(scheduler) {}

UdpEchoClient::~UdpEchoClient() = default;

void UdpEchoClient::start(std::function<void(int)> finished) {
    finished_ = std::move(finished);
    channel_ = std::make_unique<UdpChannel>(scheduler_, ip_);
    scope_.spawn(run());
}

Task<void> UdpEchoClient::run() {
    const Time started = scheduler_.now();
    int status = 1;
    try {
        std::uint32_t next = 1;  // the next sequence number to send (1-based, like ping)
        for (;;) {
            const Time now = scheduler_.now();
            expire(now);
            // Datagram n leaves at started + (n-1)*interval: a late loop sends at once but
            // does not shift the later ones.
            const Time next_send = started + options_.interval * (next - 1);
            if (next <= options_.count && next_send <= now) {
                send(next++, now);
                continue;
            }
            if (next > options_.count && waiting_.empty()) break;
            Time deadline = kNoDeadline;
            if (next <= options_.count) deadline = next_send;
            if (!waiting_.empty()) {
                deadline = std::min(deadline, waiting_.begin()->second + options_.timeout);
            }
            UdpReceiveResult r = co_await channel_->receive(deadline);
            // Everything already queued is taken at this one instant, before anything expires
            // (an echo in the queue is not lost because another one was taken first).
            const Time arrived = scheduler_.now();
            while (r.status != IoStatus::deadline) {
                take(r, arrived);
                r = co_await channel_->receive(arrived);  // deadline now: only what is queued
            }
        }
        status = finish(started, scheduler_.now());
    } catch (const std::exception& e) {
        log_->error("udp_echo client failed: {}", e.what());
    }
    if (finished_) finished_(status);
}

void UdpEchoClient::take(const UdpReceiveResult& result, Time now) {
    if (result.datagram) return take_echo(*result.datagram, now);
    if (counters_.icmp_errors++ == 0 && result.error) {
        const IcmpErrorReport& error = *result.error;
        log_->warn("udp_echo client: ICMP type {} code {} from {} about {}:{}", error.type,
                   error.code, error.reporter.to_string(), error.destination.to_string(),
                   error.destination_port);
    }
}

void UdpEchoClient::send(std::uint32_t sequence, Time now) {
    fill_echo_payload(scratch_, sequence);
    const IoStatus status = channel_->send_to({options_.target, options_.port}, scratch_);
    Fate& fate = fates_[sequence - 1];
    if (status == IoStatus::ok) {
        ++counters_.sent;
        fate = Fate::waiting;
        waiting_.emplace(sequence, now);
    } else {
        ++counters_.send_failed;
        fate = Fate::failed;
        log_->debug("udp_echo client: datagram {} not sent ({})", sequence, to_string(status));
    }
}

void UdpEchoClient::take_echo(const UdpDatagram& datagram, Time now) {
    if (datagram.from != UdpEndpoint{options_.target, options_.port}) {
        ++counters_.foreign;
        return;
    }
    const auto bytes = datagram.payload.bytes();
    std::uint32_t sequence = 0;
    if (bytes.size() >= UdpEchoOptions::kMinSize) sequence = wire::load_be32(bytes.data() + 4);
    if (sequence == 0 || sequence > options_.count) {
        ++counters_.corrupt;  // not one of ours at all, or the header itself is damaged
        return;
    }
    fill_echo_payload(scratch_, sequence);
    const bool intact = bytes.size() == scratch_.size() &&
                        std::memcmp(bytes.data(), scratch_.data(), bytes.size()) == 0;
    Fate& fate = fates_[sequence - 1];
    if (!intact) {
        ++counters_.corrupt;
        if (fate == Fate::waiting) {
            fate = Fate::corrupt;
            waiting_.erase(sequence);
        }
        return;
    }
    switch (fate) {
        case Fate::waiting: {
            const auto it = waiting_.find(sequence);
            rtt_.add(now - it->second);
            waiting_.erase(it);
            fate = Fate::received;
            ++counters_.received;
            break;
        }
        case Fate::received: ++counters_.duplicates; break;
        case Fate::lost: ++counters_.late; break;
        default: ++counters_.corrupt; break;  // an echo of something never sent
    }
}

void UdpEchoClient::expire(Time now) {
    // Equal timeouts: the oldest datagram has the earliest deadline.
    while (!waiting_.empty() && waiting_.begin()->second + options_.timeout <= now) {
        fates_[waiting_.begin()->first - 1] = Fate::lost;
        ++counters_.lost;
        waiting_.erase(waiting_.begin());
    }
}

int UdpEchoClient::finish(Time started, Time now) {
    const bool ok = counters_.received == options_.count && counters_.corrupt == 0;
    log_->info(
        "udp_echo client {}:{}: {} sent, {} received, {} lost, {} corrupt, {} late in {:.1f} ms; "
        "rtt min/median/max = {:.3f}/{:.3f}/{:.3f} ms{}",
        options_.target.to_string(), options_.port, counters_.sent, counters_.received,
        counters_.lost, counters_.corrupt, counters_.late, to_ms(now - started), to_ms(rtt_.min()),
        to_ms(rtt_.median()), to_ms(rtt_.max()), ok ? "" : " (FAILED)");
    return ok ? 0 : 1;
}

void UdpEchoClient::visit_counters(const CounterVisitor& visit) const {
    visit("sent", counters_.sent);
    visit("send_failed", counters_.send_failed);
    visit("received", counters_.received);
    visit("corrupt", counters_.corrupt);
    visit("lost", counters_.lost);
    visit("late", counters_.late);
    visit("duplicates", counters_.duplicates);
    visit("foreign", counters_.foreign);
    visit("icmp_errors", counters_.icmp_errors);
    visit("rtt_us_min", to_us(rtt_.min()));
    visit("rtt_us_median", to_us(rtt_.median()));
    visit("rtt_us_max", to_us(rtt_.max()));
}

}  // namespace netloom::apps
