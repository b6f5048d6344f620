// Registration of the `tap` driver (Linux TAP interface); the device lives in tap_device.cpp.
#include <unistd.h>

#include "netloom/config.hpp"
#include "netloom/env.hpp"
#include "netloom/plugin.hpp"
#include "tap_device.hpp"

namespace {

std::unique_ptr<netloom::PluginObject> create(const netloom::Config& config, netloom::Env& env) {
    // The TAP fd is watched with watch_readable, which a virtual-clock scheduler (sim) refuses:
    // say so here, as a config error, rather than fail when the stack starts.
    if (env.scheduler().virtual_clock()) {
        config.fail_message("use",
                            "tap needs a scheduler that watches fds; this one has a virtual clock "
                            "(sim): use epoll, fair or busypoll, or the wire driver");
    }
    return netloom::drivers::make_tap_device(config, env);
}

// Checked before create(): a clear reason instead of a failing open() later.
const char* unavailable() {
    return ::access("/dev/net/tun", F_OK) == 0 ? nullptr : "/dev/net/tun does not exist";
}

}  // namespace

NETLOOM_PLUGIN(netloom_driver_tap, driver, "tap", "1.0.0",
               "Linux TAP interface: the kernel (or a namespace) is the other end of the link",
               &create, &unavailable);
