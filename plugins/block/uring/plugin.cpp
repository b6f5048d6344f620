// Registration of the `blk_uring` block device (io_uring on a file or block device); the device
// lives in uring_device.cpp and uring_setup.cpp.
#include "netloom/plugin.hpp"
#include "netloom/config.hpp"
#include "netloom/env.hpp"
#include "uring_device.hpp"

namespace {

std::unique_ptr<netloom::PluginObject> create(const netloom::Config& config, netloom::Env& env) {
    return netloom::block::make_uring_device(config, env);
}

// Checked before create(): io_uring can be compiled out, disabled by sysctl or by a seccomp
// filter (containers); say which instead of failing when the first request is submitted.
const char* unavailable() {
    return netloom::block::uring_unavailable();
}

}  // namespace

NETLOOM_PLUGIN(netloom_block_uring, block, "blk_uring", "1.0.0",
               "io_uring block device on a file or a disk, O_DIRECT, registered buffers", &create,
               &unavailable);
