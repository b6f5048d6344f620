// sched_test_util.hpp — helpers shared by the scheduler tests: an eventfd that closes itself, a
// hang guard that stops a runaway loop, and a minimal Env for building plugins via their factory.
//
// Contract: nothing here sleeps or measures time. HangGuard arms a timer far in the future that
// stops the loop and records that it fired; tests assert it did not (it is a safety net against
// a hung test, not a timing assertion).
#pragma once

#include <sys/eventfd.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <system_error>

#include <spdlog/logger.h>

#include "netloom/env.hpp"
#include "netloom/scheduler.hpp"

namespace netloom::testing {

class EventFd {
public:
    EventFd() : fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
        if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "eventfd");
    }
    ~EventFd() { ::close(fd_); }
    EventFd(const EventFd&) = delete;
    EventFd& operator=(const EventFd&) = delete;

    int fd() const noexcept { return fd_; }
    void signal(std::uint64_t n = 1) const {
        if (::write(fd_, &n, sizeof n) != static_cast<ssize_t>(sizeof n)) {
            throw std::system_error(errno, std::generic_category(), "eventfd write");
        }
    }
    /// Reads (and so clears) the counter; 0 when it was not readable.
    std::uint64_t drain() const noexcept {
        std::uint64_t n = 0;
        return ::read(fd_, &n, sizeof n) == static_cast<ssize_t>(sizeof n) ? n : 0;
    }

private:
    int fd_;
};

class HangGuard {
public:
    explicit HangGuard(Scheduler& sched, Time after = std::chrono::seconds(5)) : sched_(sched) {
        id_ = sched.add_timer(sched.now() + after, [this] {
            fired_ = true;
            sched_.stop();
        });
    }
    ~HangGuard() { sched_.cancel_timer(id_); }
    HangGuard(const HangGuard&) = delete;
    HangGuard& operator=(const HangGuard&) = delete;

    bool fired() const noexcept { return fired_; }
    /// Cancels the guard so that run() may return once the loop is idle.
    void disarm() noexcept { sched_.cancel_timer(id_); }

private:
    Scheduler& sched_;
    TimerId id_ = 0;
    bool fired_ = false;
};

/// Enough of Env for a scheduler factory: a logger with no sinks; everything else refuses.
class MinimalEnv final : public Env {
public:
    std::shared_ptr<spdlog::logger> logger(std::string_view component) override {
        return std::make_shared<spdlog::logger>(std::string(component));
    }
    Scheduler& scheduler() override { throw std::logic_error("MinimalEnv: no scheduler"); }
    Checksum& checksum() override { throw std::logic_error("MinimalEnv: no checksum"); }
    const std::string& stack_name() const override { return stack_; }
    std::shared_ptr<NetDevice> make_device(const Config&) override {
        throw std::logic_error("MinimalEnv: no devices");
    }

private:
    std::string stack_;
};

}  // namespace netloom::testing
