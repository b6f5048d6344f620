// Registration of the `blk_faults` block decorator; the device lives in faults_block.cpp.
#include "netloom/plugin.hpp"
#include "faults_block.hpp"
#include "netloom/config.hpp"
#include "netloom/env.hpp"

namespace {

std::unique_ptr<netloom::PluginObject> create(const netloom::Config& config, netloom::Env& env) {
    return netloom::block::make_faults_block(config, env);
}

}  // namespace

NETLOOM_PLUGIN(netloom_block_faults, block, "blk_faults", "1.0.0",
               "block decorator injecting seeded EIO (chosen sectors, rates) and latency", &create,
               nullptr);
