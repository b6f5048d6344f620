// Registration of the "fast" checksum plugin: portable, four 64-bit accumulators.
#include <memory>

#include "fast_checksum.hpp"
#include "netloom/config.hpp"
#include "netloom/env.hpp"
#include "netloom/plugin.hpp"

namespace {

std::unique_ptr<netloom::PluginObject> make_fast_checksum(const netloom::Config& config,
                                                          netloom::Env&) {
    config.allow({"use"});
    config.done();  // no keys of its own
    return std::make_unique<netloom::checksum::FastChecksum>();
}

}  // namespace

NETLOOM_PLUGIN(fast_checksum_plugin, checksum, "fast", "1.0.0",
               "portable RFC 1071 checksum, 32-bit loads into four 64-bit accumulators",
               &make_fast_checksum, nullptr);
