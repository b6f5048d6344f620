// env.hpp — what the host gives a plugin's factory: its logger, the shared scheduler and checksum,
// the stack it belongs to, the named block devices, and a way to build nested components (a
// decorator's inner device).
//
// Contract: references returned by Env stay valid for the lifetime of the object being created
// (the host destroys components in reverse order of creation). Env itself may be a temporary:
// keep the references, not the Env.
#pragma once

#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

#include <spdlog/logger.h>

namespace netloom {

class BlockDevice;
class Checksum;
class Config;
class IpLayer;
class NetDevice;
class Scheduler;
class TcpEngine;

class Env {
public:
    virtual ~Env() = default;
    /// The component's named logger ("tcp", "driver.tap"...), level set from the config's `log`.
    virtual std::shared_ptr<spdlog::logger> logger(std::string_view component) = 0;
    virtual Scheduler& scheduler() = 0;
    virtual Checksum& checksum() = 0;
    /// Name of the stack being assembled ("" for process-wide components).
    virtual const std::string& stack_name() const = 0;
    /// Builds the device described by `config` (a mapping with `use:`), e.g. a decorator's inner.
    virtual std::shared_ptr<NetDevice> make_device(const Config& config) = 0;
    /// The stack's device chain (for the IP layer). Throws std::logic_error before it exists.
    virtual NetDevice& device() { throw std::logic_error("this Env has no device"); }
    /// The stack's IP layer (for transports and apps). Throws std::logic_error if the stack has
    /// none.
    virtual IpLayer& ip() { throw std::logic_error("this stack has no IP layer"); }
    /// True under `netloom check`: validate the config fully but acquire nothing that outlives
    /// the check or touches the system (no devices opened, no files written).
    virtual bool check_only() const { return false; }
    // New virtual functions go last, so plugins built against an older Env keep working.
    /// The stack's TCP engine (for apps). Throws std::logic_error if the stack has none.
    virtual TcpEngine& tcp() { throw std::logic_error("this stack has no TCP engine"); }
    /// The block device named `name` in the config's top-level `blocks:` mapping (for apps).
    /// Throws std::invalid_argument naming the known devices if there is none of that name.
    virtual BlockDevice& block(std::string_view name) {
        throw std::invalid_argument("no block device named '" + std::string(name) + "'");
    }
    /// Builds the block device described by `config` (a mapping with `use:`), e.g. a block
    /// decorator's inner device.
    virtual std::shared_ptr<BlockDevice> make_block(const Config& config) {
        (void)config;
        throw std::logic_error("this Env cannot build block devices");
    }
};

}  // namespace netloom
