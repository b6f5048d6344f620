// Registration of the "ref" checksum plugin: the RFC 1071 reference implementation.
#include <memory>

#include "netloom/config.hpp"
#include "netloom/env.hpp"
#include "netloom/plugin.hpp"
#include "ref_checksum.hpp"

namespace {

std::unique_ptr<netloom::PluginObject> make_ref_checksum(const netloom::Config& config,
                                                         netloom::Env&) {
    config.allow({"use"});
    config.done();  // no keys of its own
    return std::make_unique<netloom::checksum::RefChecksum>();
}

}  // namespace

NETLOOM_PLUGIN(ref_checksum_plugin, checksum, "ref", "1.0.0",
               "RFC 1071 reference checksum, one 16-bit word at a time", &make_ref_checksum,
               nullptr);
