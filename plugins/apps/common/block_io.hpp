// block_io.hpp — block devices in the app API: a request as one `co_await`, and the lookup of a
// named device from an app's config.
//
//     BlockDevice& disk = block_device(config, env, "device");   // at construction
//     int error = co_await block_read(disk, sector, buffer);       // 0, or EIO, EINVAL...
//
// Contract: single-threaded, on the scheduler's thread. Each call submits one request (the
// device splits and queues it) and resumes the coroutine from the request's completion with 0 or
// a positive errno (block.hpp), never an exception. The awaiter is cancellation safe for the
// coroutine: a frame destroyed while its request is pending is not resumed. The buffer is not:
// like any request's, it must outlive the completion, and block devices outlive apps (the host
// destroys them last), so a task that may be destroyed mid-request (its TaskScope ends with the
// app) should read into memory from BlockDevice::allocate, which may be released while a request
// on it is pending (block.hpp).
#pragma once

#include <coroutine>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

#include "netloom/block.hpp"
#include "netloom/config.hpp"
#include "netloom/env.hpp"

namespace netloom::apps {

class BlockAwaiter {
public:
    BlockAwaiter(BlockDevice& device, const BlockRequest& request)
        : device_(device), request_(request) {}
    BlockAwaiter(const BlockAwaiter&) = delete;
    BlockAwaiter& operator=(const BlockAwaiter&) = delete;
    ~BlockAwaiter();
    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> handle);
    int await_resume() const noexcept;

private:
    struct State {
        std::coroutine_handle<> handle;  ///< null once the frame is gone or resumed
        int error = 0;
    };
    BlockDevice& device_;
    BlockRequest request_;
    std::shared_ptr<State> state_;
};

/// `co_await block_io(device, request)`: 0 or a positive errno.
inline BlockAwaiter block_io(BlockDevice& device, const BlockRequest& request) {
    return BlockAwaiter(device, request);
}
/// Reads `buffer.size()` bytes (a whole number of sectors) from `sector` on.
inline BlockAwaiter block_read(BlockDevice& device, std::uint64_t sector,
                               std::span<std::uint8_t> buffer) {
    return BlockAwaiter(device, BlockRequest{BlockOp::read, sector, buffer});
}
/// Writes `buffer` (a whole number of sectors) from `sector` on.
inline BlockAwaiter block_write(BlockDevice& device, std::uint64_t sector,
                                std::span<std::uint8_t> buffer) {
    return BlockAwaiter(device, BlockRequest{BlockOp::write, sector, buffer});
}
/// Completes once every write completed before it is durable.
inline BlockAwaiter block_flush(BlockDevice& device) {
    return BlockAwaiter(device, BlockRequest{BlockOp::flush, 0, {}});
}

/// The block device named by `key` of the app's `config` (in the config's `blocks:`), for an
/// app's factory: a missing name is a ConfigError at that key, naming the devices there are.
BlockDevice& block_device(const Config& config, Env& env, std::string_view key = "device");

}  // namespace netloom::apps
