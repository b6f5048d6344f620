// pcap: capture of both directions around an inner device.
#include "pcap_device.hpp"

#include <chrono>
#include <cstring>
#include <stdexcept>

namespace netloom::drivers {

PcapOptions PcapOptions::from_config(const Config& config) {
    PcapOptions options;
    config.allow({"use"});  // read by the host to pick this plugin
    options.file = config.get_string("file");
    if (options.file.empty()) config.fail("file", "a file path", "\"\"");
    options.snaplen = static_cast<std::uint32_t>(config.get_int("snaplen", 65535, 64, 262144));
    options.flush_interval =
        config.get_duration("flush_interval", std::chrono::milliseconds(100), Time{1});
    config.allow({"inner"});  // built by the factory through Env::make_device
    config.done();
    return options;
}

PcapDevice::PcapDevice(PcapOptions options, std::shared_ptr<NetDevice> inner, Scheduler& scheduler,
                       std::shared_ptr<spdlog::logger> log)
    : options_(std::move(options)),
      inner_(std::move(inner)),
      scheduler_(&scheduler),
      log_(std::move(log)),
      writer_(options_.file, options_.snaplen) {
    capture_sink_ = [this](Packet&& frame) {
        record(frame);
        (*outer_sink_)(std::move(frame));
    };
}

PcapDevice::~PcapDevice() {
    if (flush_timer_ != 0) scheduler_->cancel_timer(flush_timer_);
    // writer_ flushes in its destructor
}

std::string PcapDevice::describe() const {
    return "pcap(" + options_.file + ") > " + inner_->describe();
}

void PcapDevice::attach(Scheduler& scheduler, std::function<void()> rx_ready) {
    if (flush_timer_ != 0) {
        scheduler_->cancel_timer(flush_timer_);
        flush_timer_ = 0;
    }
    scheduler_ = &scheduler;
    inner_->attach(scheduler, std::move(rx_ready));
}

bool PcapDevice::transmit(Packet&& frame) {
    record(frame);
    return inner_->transmit(std::move(frame));
}

std::size_t PcapDevice::poll(std::size_t max, const FrameSink& sink) {
    const FrameSink* saved = outer_sink_;  // tolerate a nested poll from inside the sink
    outer_sink_ = &sink;
    std::size_t n = inner_->poll(max, capture_sink_);
    outer_sink_ = saved;
    return n;
}

void PcapDevice::record(const Packet& frame) {
    std::int64_t unix_ns;
    if (scheduler_->virtual_clock()) {
        unix_ns = scheduler_->now().count();
    } else {
        unix_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
    }
    writer_.write(frame.bytes(), unix_ns);
    if (flush_timer_ == 0 && writer_.has_buffered()) {
        flush_timer_ = scheduler_->add_timer(scheduler_->now() + options_.flush_interval,
                                             [this] { on_flush_timer(); });
    }
}

void PcapDevice::on_flush_timer() {
    flush_timer_ = 0;
    flush();
}

void PcapDevice::flush() {
    if (!writer_.flush() && !error_logged_) {
        error_logged_ = true;  // once: the counter tells how many more
        log_->error("pcap '{}': write failed: {} (further failures only counted)", options_.file,
                    std::strerror(writer_.last_error()));
    }
}

void PcapDevice::visit_counters(const CounterVisitor& visit) const {
    visit("pcap_records", writer_.records());
    visit("pcap_write_errors", writer_.write_errors());
    // Not the inner device's: the host builds it through Env::make_device and lists it itself.
}

std::unique_ptr<NetDevice> make_pcap_device(const Config& config, Env& env) {
    auto options = PcapOptions::from_config(config);
    auto inner = env.make_device(config.child("inner"));
    // `netloom check` validates without touching the file system: an existing capture must not be
    // truncated by a check. The host never runs a checked composition.
    if (env.check_only())
        return std::make_unique<CheckedPcapDevice>(options.file, std::move(inner));
    try {
        return std::make_unique<PcapDevice>(std::move(options), std::move(inner), env.scheduler(),
                                            env.logger("driver.pcap"));
    } catch (const std::runtime_error& error) {
        config.fail_message("file", error.what());
    }
}

}  // namespace netloom::drivers
