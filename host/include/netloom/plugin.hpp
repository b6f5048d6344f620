// plugin.hpp — the plugin ABI: one descriptor per plugin, found by name in a shared object
// (dynamic build) or in a compile-time registry (static build).
//
// Contract: a plugin exports exactly one `PluginDescriptor` through NETLOOM_PLUGIN. The host reads
// `abi_version` first and `kind` second, and touches nothing else of a plugin whose values differ
// from what it expects. `create` builds the plugin's object from its config; the object is
// `static_cast` by the host to the interface of `kind`, so it must derive from that interface.
// Every object a plugin creates is handed out through a handle that keeps the plugin's library
// loaded (the host's `create_object`, host/src/host/catalog.hpp: the object's deleter holds the
// library), so no object can outlive its code.
// `kAbiVersion` comes from netloom/abi_version.hpp, generated at build time from a hash of every
// header of this directory (cmake/netloom_abi_version.cmake): changing any of them changes it.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>

#include "netloom/abi_version.hpp"  // kAbiVersion (generated)

namespace netloom {

enum class PluginKind : std::uint32_t {
    driver = 1,     ///< NetDevice (netdev.hpp)
    ip = 2,         ///< IpLayer (ip.hpp)
    tcp = 3,        ///< TcpEngine (tcp.hpp)
    checksum = 4,   ///< Checksum (checksum.hpp)
    scheduler = 5,  ///< Scheduler (scheduler.hpp)
    app = 6,        ///< App (app.hpp)
    block = 7,      ///< BlockDevice (block.hpp)
};

std::string_view to_string(PluginKind kind) noexcept;

class Config;
class Env;

/// Base of every object a plugin creates; the host only ever deletes through this.
class PluginObject {
public:
    virtual ~PluginObject() = default;
};

using PluginFactory = std::unique_ptr<PluginObject> (*)(const Config& config, Env& env);
/// Returns nullptr when the plugin can run on this machine, else a one-line reason (e.g. a
/// missing CPU feature). Called after the ABI and kind checks, before `create`.
using PluginProbe = const char* (*)();

struct PluginDescriptor {
    std::uint32_t abi_version;  // must stay the first member: it is read before anything else
    PluginKind kind;
    const char* name;
    const char* version;  // semantic version of the plugin itself
    const char* description;
    PluginFactory create;
    PluginProbe unavailable;  // may be null: always available
};

namespace detail {
/// Static build only: adds a descriptor to the process-wide table (see static_registry.cpp).
struct StaticRegistration {
    explicit StaticRegistration(const PluginDescriptor& descriptor);
};
}  // namespace detail

}  // namespace netloom

#define NETLOOM_PP_CAT2(a, b) a##b
#define NETLOOM_PP_CAT(a, b) NETLOOM_PP_CAT2(a, b)

#if defined(NETLOOM_STATIC_BUILD)
#define NETLOOM_PLUGIN_EXPORT(ident)                                                          \
    static const ::netloom::detail::StaticRegistration NETLOOM_PP_CAT(ident, _registration) { \
        ident                                                                                 \
    }
#else
#include <boost/dll/alias.hpp>
#define NETLOOM_PLUGIN_EXPORT(ident) BOOST_DLL_ALIAS(ident, netloom_plugin_descriptor)
#endif

/// The one line a plugin.cpp ends with:
///   NETLOOM_PLUGIN(ref_checksum, checksum, "ref", "1.0.0", "RFC 1071 reference", &make, nullptr);
/// `ident` must be unique across all plugins (it names the static registration).
#define NETLOOM_PLUGIN(ident, kind, name, version, description, factory, probe) \
    extern const ::netloom::PluginDescriptor ident;                             \
    const ::netloom::PluginDescriptor ident{::netloom::kAbiVersion,             \
                                            ::netloom::PluginKind::kind,        \
                                            name,                               \
                                            version,                            \
                                            description,                        \
                                            factory,                            \
                                            probe};                             \
    NETLOOM_PLUGIN_EXPORT(ident)
