// Registration of `blk_ram`, a block device in memory; the device lives in ram_block.cpp.
#include "netloom/plugin.hpp"
#include "netloom/config.hpp"
#include "netloom/env.hpp"
#include "ram_block.hpp"

namespace {

std::unique_ptr<netloom::PluginObject> create(const netloom::Config& config, netloom::Env& env) {
    return netloom::block::make_ram_block(config, env);
}

}  // namespace

NETLOOM_PLUGIN(netloom_block_ram, block, "blk_ram", "1.0.0",
               "block device in memory (tests), optionally loaded from an image file", &create,
               nullptr);
