// linux_target_capture.cpp — see linux_target_capture.hpp.
#include "linux_target_capture.hpp"

#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>
#include <vector>

namespace netloom::drill::linux_target_detail {
namespace {

// A deadline beyond this (31 years) waits as if it were this: keeps the nanosecond arithmetic
// far from overflow.
constexpr std::int64_t kFarDeadlineUs = 1'000'000'000'000'000;

// Largest datagram a TUN hands out: the IPv4 total length field's maximum.
constexpr std::size_t kMaxDatagram = 65535;

}  // namespace

std::int64_t monotonic_ns() noexcept {
    timespec now{};
    ::clock_gettime(CLOCK_MONOTONIC, &now);
    return std::int64_t{now.tv_sec} * 1'000'000'000 + now.tv_nsec;
}

TunCapture::TunCapture(int tun_fd, std::int64_t epoch_ns) : tun_fd_(tun_fd), epoch_ns_(epoch_ns) {
    wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (wake_fd_ < 0) {
        throw std::runtime_error(std::string("linux target: eventfd: ") + std::strerror(errno));
    }
    // The thread inherits this mask: process-directed signals (SIGINT, the blocking-call timer
    // of linux_target.cpp is thread-directed anyway) never land on it.
    sigset_t all{}, previous{};
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &previous);
    try {
        reader_ = std::thread([this] { read_loop(); });
    } catch (...) {
        pthread_sigmask(SIG_SETMASK, &previous, nullptr);
        ::close(wake_fd_);
        throw;
    }
    pthread_sigmask(SIG_SETMASK, &previous, nullptr);
    // Set from here, before the constructor returns, so no datagram is read at a lower one.
    // Above the interpreter threads (SCHED_RR at priority 1, linux_target.hpp): at equal
    // priority a busy interpreter of another script would hold this thread off for its whole
    // round-robin slice (SYNs stamped 30-90 ms late at -j 3 on 2 cores).
    sched_param priority{};
    priority.sched_priority = 2;
    (void)pthread_setschedparam(reader_.native_handle(), SCHED_FIFO, &priority);
}

TunCapture::~TunCapture() {
    const std::uint64_t one = 1;
    (void)!::write(wake_fd_, &one, sizeof one);
    if (reader_.joinable()) reader_.join();
    ::close(wake_fd_);
}

void TunCapture::stop_with(std::string error) {
    const std::lock_guard lock(mutex_);
    error_ = std::move(error);
    arrived_.notify_all();
}

bool TunCapture::drain(std::vector<std::uint8_t>& buffer) {
    for (;;) {
        const ssize_t length = ::read(tun_fd_, buffer.data(), buffer.size());
        if (length < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN) return true;
            stop_with(std::string("linux target: reading the TUN device: ") + std::strerror(errno));
            return false;
        }
        CapturedPacket packet;
        packet.at_us = (monotonic_ns() - epoch_ns_) / 1000;
        packet.datagram.assign(buffer.begin(), buffer.begin() + length);
        const std::lock_guard lock(mutex_);
        if (queue_.size() >= kMaxQueued) {
            overflow_ = true;
        } else {
            queue_.push_back(std::move(packet));
        }
        arrived_.notify_all();
    }
}

void TunCapture::read_loop() {
    std::vector<std::uint8_t> buffer(kMaxDatagram);
    pollfd watched[2] = {{tun_fd_, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
    for (;;) {
        if (::poll(watched, 2, -1) < 0) {
            if (errno == EINTR) continue;
            stop_with(std::string("linux target: poll on the TUN device: ") + std::strerror(errno));
            return;
        }
        if (watched[1].revents != 0) return;
        if ((watched[0].revents & (POLLERR | POLLHUP | POLLNVAL)) != 0) {
            stop_with("linux target: the TUN device went away");
            return;
        }
        if ((watched[0].revents & POLLIN) != 0 && !drain(buffer)) return;
    }
}

std::optional<CapturedPacket> TunCapture::next(std::int64_t deadline_us) {
    const std::int64_t bounded = std::clamp<std::int64_t>(deadline_us, 0, kFarDeadlineUs);
    const std::chrono::steady_clock::time_point deadline{
        std::chrono::nanoseconds(epoch_ns_ + bounded * 1000)};
    std::unique_lock lock(mutex_);
    // std::chrono::steady_clock is CLOCK_MONOTONIC on Linux (libstdc++ and libc++), the clock
    // of the timestamps, so the deadline and the arrival times share one time line.
    arrived_.wait_until(lock, deadline,
                        [this] { return !queue_.empty() || overflow_ || !error_.empty(); });
    if (overflow_) {
        throw std::runtime_error("linux target: more than " + std::to_string(kMaxQueued) +
                                 " outbound datagrams were never taken; capture stopped");
    }
    if (queue_.empty()) {
        if (!error_.empty()) throw std::runtime_error(error_);
        return std::nullopt;
    }
    CapturedPacket packet = std::move(queue_.front());
    queue_.pop_front();
    return packet;
}

void TunCapture::inject(std::span<const std::uint8_t> datagram) {
    for (;;) {
        const ssize_t written = ::write(tun_fd_, datagram.data(), datagram.size());
        if (written >= 0) return;
        if (errno == EINTR) continue;
        throw std::runtime_error(std::string("linux target: the TUN device refused a ") +
                                 std::to_string(datagram.size()) +
                                 "-byte datagram: " + std::strerror(errno));
    }
}

}  // namespace netloom::drill::linux_target_detail
