// Registration of `blk_sync`, blocking pread/pwrite on the loop thread; see sync_block.cpp.
#include "netloom/plugin.hpp"
#include "netloom/config.hpp"
#include "netloom/env.hpp"
#include "sync_block.hpp"

namespace {

std::unique_ptr<netloom::PluginObject> create(const netloom::Config& config, netloom::Env& env) {
    return netloom::block::make_sync_block(config, env);
}

}  // namespace

NETLOOM_PLUGIN(netloom_block_sync, block, "blk_sync", "1.0.0",
               "file or device read with one blocking pread/pwrite per operation (loop thread)",
               &create, nullptr);
