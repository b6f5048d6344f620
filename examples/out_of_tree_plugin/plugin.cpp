// The sample plugin's registration: this is all a plugin.cpp holds.
#include "netloom/plugin.hpp"
#include "netloom/config.hpp"
#include "sum32_checksum.hpp"

namespace {

std::unique_ptr<netloom::PluginObject> make(const netloom::Config& config, netloom::Env&) {
    config.done();  // no keys of its own
    return std::make_unique<example::Sum32Checksum>();
}

}  // namespace

NETLOOM_PLUGIN(example_sum32, checksum, "sum32", "0.1.0",
               "sample out-of-tree checksum: RFC 1071 over 32-bit words", &make, nullptr);
