// ping: config, the request schedule, reply bookkeeping and a summary in iputils' words.
#include "ping_app.hpp"

#include <algorithm>
#include <cstring>
#include <string>

#include <fmt/format.h>

#include "send_status.hpp"

namespace netloom::apps {
namespace {

// First identifier handed out when the config names none: "NL". Each further ping app in the
// process takes the next one, so two pings on one stack do not steal each other's replies and
// a run under the sim scheduler stays reproducible (no pid, no randomness).
constexpr std::uint16_t kFirstIdentifier = 0x4e4c;
std::uint16_t next_identifier = kFirstIdentifier;

}  // namespace

PingOptions PingOptions::from_config(const Config& config) {
    PingOptions o;
    const std::string target = config.get_string("target");
    const auto address = Ipv4Address::parse(target);
    if (!address || address->is_unspecified()) {
        config.fail("target", "an IPv4 address such as 10.0.0.1", target);
    }
    o.target = *address;
    o.count = static_cast<std::uint32_t>(config.get_int("count", 5, 1, kMaxCount));
    o.interval = config.get_duration("interval", std::chrono::milliseconds(100));
    o.size = static_cast<std::uint32_t>(config.get_int("size", 56, 0, kMaxSize));
    o.timeout = config.get_duration("timeout", std::chrono::seconds(1), Time{1});
    o.expect = static_cast<std::uint32_t>(config.get_int("expect", o.count, 0, o.count));
    if (config.has("identifier")) {
        o.identifier = static_cast<std::uint16_t>(config.get_int("identifier", {}, 0, 65535));
    }
    return o;
}

void fill_ping_data(std::span<std::uint8_t> out, std::uint16_t sequence) noexcept {
    for (std::size_t i = 0; i < out.size(); ++i) {
        out[i] = static_cast<std::uint8_t>((i * 11 + sequence * 17) % 251);
    }
}

std::unique_ptr<App> make_ping(const Config& config, Env& env) {
    PingOptions options = PingOptions::from_config(config);
    config.done();
    IpLayer& ip = env.ip();
    const std::uint16_t identifier = options.identifier ? *options.identifier : next_identifier++;
    return std::make_unique<PingApp>(options, identifier, ip, env.scheduler(),
                                     env.logger("app.ping"));
}

PingApp::PingApp(PingOptions options, std::uint16_t identifier, IpLayer& ip, Scheduler& scheduler,
                 std::shared_ptr<spdlog::logger> log)
    : options_(options),
      identifier_(identifier),
      ip_(ip),
      scheduler_(scheduler),
      log_(std::move(log)),
      scratch_(options.size),
      fates_(options.count, Fate::unsent),
      replies_(scheduler),
      scope_(scheduler) {}

PingApp::~PingApp() {
    if (listening_) ip_.on_echo_reply(identifier_, {});
}

void PingApp::start(std::function<void(int)> finished) {
    finished_ = std::move(finished);
    ip_.on_echo_reply(identifier_, [this](const EchoReply& reply) { on_reply(reply); });
    listening_ = true;
    log_->info("PING {} {}({}) bytes of data.", options_.target.to_string(), options_.size,
               options_.size + 28);
    scope_.spawn(run());
}

Task<void> PingApp::run() {
    const Time started = scheduler_.now();
    int status = 1;
    try {
        std::uint32_t next = 1;
        for (;;) {
            const Time now = scheduler_.now();
            expire(now);
            // Request n leaves at started + (n-1)*interval, as `ping -i` schedules them.
            const Time next_send = started + options_.interval * (next - 1);
            if (next <= options_.count && next_send <= now) {
                send(static_cast<std::uint16_t>(next++), now);
                continue;
            }
            if (next > options_.count && waiting_.empty()) break;
            Time deadline = kNoDeadline;
            if (next <= options_.count) deadline = next_send;
            if (!waiting_.empty()) {
                deadline = std::min(deadline, waiting_.begin()->second + options_.timeout);
            }
            // Woken by a reply or the deadline; either way the loop re-reads the state.
            co_await replies_.wait(deadline);
        }
        status = finish(started, scheduler_.now());
    } catch (const std::exception& e) {
        log_->error("ping {} failed: {}", options_.target.to_string(), e.what());
    }
    ip_.on_echo_reply(identifier_, {});
    listening_ = false;
    if (finished_) finished_(status);
}

void PingApp::send(std::uint16_t sequence, Time now) {
    fill_ping_data(scratch_, sequence);
    const IpSendStatus status =
        ip_.send_echo_request(options_.target, identifier_, sequence, scratch_);
    Fate& fate = fates_[sequence - 1];
    if (status == IpSendStatus::sent || status == IpSendStatus::queued) {
        ++counters_.transmitted;
        fate = Fate::waiting;
        waiting_.emplace(sequence, now);
    } else {
        ++counters_.send_failed;
        fate = Fate::failed;
        log_->warn("ping: request icmp_seq={} to {} not sent ({})", sequence,
                   options_.target.to_string(), send_status_name(status));
    }
}

void PingApp::on_reply(const EchoReply& reply) {
    // Runs inside the IP layer's receive path: book the reply, wake the coroutine, nothing more.
    const Time now = scheduler_.now();
    if (reply.from != options_.target) {
        ++counters_.foreign;
        return;
    }
    const std::uint16_t sequence = reply.sequence;
    if (sequence == 0 || sequence > options_.count) {
        ++counters_.corrupt;
        return;
    }
    fill_ping_data(scratch_, sequence);
    const bool intact = reply.data.size() == scratch_.size() &&
                        std::equal(reply.data.begin(), reply.data.end(), scratch_.begin());
    Fate& fate = fates_[sequence - 1];
    if (!intact) {
        ++counters_.corrupt;
        log_->warn("ping: reply icmp_seq={} from {}: wrong data ({} bytes, {} expected)", sequence,
                   reply.from.to_string(), reply.data.size(), scratch_.size());
        if (fate == Fate::waiting) {
            fate = Fate::corrupt;
            waiting_.erase(sequence);
            replies_.notify_later();
        }
        return;
    }
    switch (fate) {
        case Fate::waiting: {
            const auto it = waiting_.find(sequence);
            const Time rtt = now - it->second;
            rtt_.add(rtt);
            waiting_.erase(it);
            fate = Fate::received;
            ++counters_.received;
            log_->info("{} bytes from {}: icmp_seq={} time={:.3f} ms", reply.data.size() + 8,
                       reply.from.to_string(), sequence, to_ms(rtt));
            replies_.notify_later();
            break;
        }
        case Fate::received: ++counters_.duplicates; break;
        case Fate::lost: ++counters_.late; break;
        default: ++counters_.corrupt; break;  // a reply to a request never sent
    }
}

void PingApp::expire(Time now) {
    while (!waiting_.empty() && waiting_.begin()->second + options_.timeout <= now) {
        fates_[waiting_.begin()->first - 1] = Fate::lost;
        ++counters_.lost;
        waiting_.erase(waiting_.begin());
    }
}

int PingApp::finish(Time started, Time now) {
    const auto& c = counters_;
    const std::uint64_t tried = c.transmitted + c.send_failed;
    const unsigned loss_percent =
        tried == 0 ? 0 : static_cast<unsigned>((tried - c.received) * 100 / tried);
    std::string extra;
    if (c.duplicates) extra += fmt::format(", +{} duplicates", c.duplicates);
    if (c.corrupt) extra += fmt::format(", +{} corrupted", c.corrupt);
    if (c.send_failed) extra += fmt::format(", +{} errors", c.send_failed);
    log_->info("--- {} ping statistics ---", options_.target.to_string());
    log_->info("{} packets transmitted, {} received{}, {}% packet loss, time {}ms", tried,
               c.received, extra, loss_percent, (now - started).count() / 1000000);
    if (rtt_.count() > 0) {
        log_->info("rtt min/avg/max/mdev = {:.3f}/{:.3f}/{:.3f}/{:.3f} ms", to_ms(rtt_.min()),
                   to_ms(rtt_.mean()), to_ms(rtt_.max()), to_ms(rtt_.mdev()));
    }
    const bool ok = c.received >= options_.expect;
    if (!ok) log_->warn("ping: {} replies, {} expected", c.received, options_.expect);
    return ok ? 0 : 1;
}

void PingApp::visit_counters(const CounterVisitor& visit) const {
    visit("transmitted", counters_.transmitted);
    visit("send_failed", counters_.send_failed);
    visit("received", counters_.received);
    visit("lost", counters_.lost);
    visit("late", counters_.late);
    visit("duplicates", counters_.duplicates);
    visit("corrupt", counters_.corrupt);
    visit("foreign", counters_.foreign);
    visit("rtt_us_min", to_us(rtt_.min()));
    visit("rtt_us_avg", to_us(rtt_.mean()));
    visit("rtt_us_max", to_us(rtt_.max()));
    visit("rtt_us_mdev", to_us(rtt_.mdev()));
}

}  // namespace netloom::apps
