// uring_test_support.hpp — what the blk_uring and blkbench tests share: scratch files of a given
// size on a disk file system (/var/tmp) or a tmpfs (/dev/shm), a null logger, and running an
// epoll scheduler until a count of completions arrived (with a deadline that fails the test
// instead of hanging it).
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

#include "epoll_scheduler.hpp"

namespace netloom::testing {

inline std::shared_ptr<spdlog::logger> null_logger() {
    return std::make_shared<spdlog::logger>("test",
                                            std::make_shared<spdlog::sinks::null_sink_mt>());
}

/// A file of `bytes` bytes, each byte `pattern(offset)`, removed with the object.
class ScratchFile {
public:
    ScratchFile(const std::string& directory, std::uint64_t bytes,
                std::function<std::uint8_t(std::uint64_t)> pattern = {}) {
        std::string name = directory + "/netloom_uring_XXXXXX";
        std::vector<char> text(name.begin(), name.end());
        text.push_back('\0');
        const int fd = ::mkstemp(text.data());
        if (fd < 0) throw std::runtime_error("mkstemp in " + directory);
        path_ = text.data();
        std::vector<std::uint8_t> data(bytes);
        for (std::uint64_t i = 0; i < bytes; ++i) data[i] = pattern ? pattern(i) : 0;
        const bool written = ::write(fd, data.data(), data.size()) == static_cast<ssize_t>(bytes);
        ::close(fd);
        if (!written) throw std::runtime_error("cannot write " + path_);
    }
    ~ScratchFile() { std::filesystem::remove(path_); }
    ScratchFile(const ScratchFile&) = delete;
    ScratchFile& operator=(const ScratchFile&) = delete;
    const std::string& path() const { return path_; }
    std::vector<std::uint8_t> contents() const {
        std::vector<std::uint8_t> data(std::filesystem::file_size(path_));
        const int fd = ::open(path_.c_str(), O_RDONLY);
        const auto got = ::pread(fd, data.data(), data.size(), 0);
        ::close(fd);
        if (got != static_cast<ssize_t>(data.size())) throw std::runtime_error("short read");
        return data;
    }

private:
    std::string path_;
};

inline std::uint8_t byte_at(std::uint64_t offset) {
    return static_cast<std::uint8_t>((offset * 131) ^ (offset >> 9));
}

/// Runs `sched` until stop() is called or `deadline` passes; returns false on the deadline.
inline bool run_with_deadline(sched::EpollScheduler& sched,
                              std::chrono::milliseconds deadline = std::chrono::seconds(20)) {
    bool timed_out = false;
    const TimerId timer = sched.add_timer(sched.now() + deadline, [&] {
        timed_out = true;
        sched.stop();
    });
    sched.run();
    sched.cancel_timer(timer);
    return !timed_out;
}

}  // namespace netloom::testing
