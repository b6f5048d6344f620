// tcp_engine_factory.hpp — the one place the engine tests construct a TCP engine, by its plugin
// name ("tcp_utcp" or "tcp_classic"), from a `tcp:` section, on an IP layer and a scheduler, the
// way the engines' plugin factories do. Tests then use it through the public TcpEngine interface
// (and Transport, for ip_error and for putting the engine back as its layer's TCP transport).
//
// Contract: an unknown name throws std::invalid_argument; a bad key throws ConfigError as the
// plugin would. The few things no public interface offers (the engine's effective options, the
// size of one connection's protocol state) are answered here too, so that a change to an
// engine's headers or constructor is fixed in tcp_engine_factory.cpp alone.
#pragma once

#include <spdlog/logger.h>
#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

#include "netloom/config.hpp"
#include "netloom/ip.hpp"
#include "netloom/scheduler.hpp"
#include "netloom/tcp.hpp"
#include "netloom/tcp_common/engine_options.hpp"

namespace netloom::testing {

inline constexpr std::array<std::string_view, 2> kTcpEngineNames{"tcp_utcp", "tcp_classic"};

/// A started-or-not engine of kind `engine` (not started: the caller calls start()).
/// `secret_seed` seeds its secrets (ISNs, ports, cookies) as under a virtual clock; unset, they
/// come from getrandom(2).
std::unique_ptr<TcpEngine> make_tcp_engine(std::string_view engine, const Config& section,
                                           IpLayer& ip, Scheduler& scheduler,
                                           std::shared_ptr<spdlog::logger> log,
                                           std::optional<std::uint64_t> secret_seed = {});

/// The engine as its IP layer's TCP transport.
Transport& transport_of(TcpEngine& engine);

/// The options engine `engine` reads from `section` (throws ConfigError as its plugin would).
tcp::EngineOptions read_tcp_engine_options(std::string_view engine, const Config& section);

/// The effective options of a running engine (defaults filled, MSS clamped to the device).
const tcp::EngineOptions& effective_options(const TcpEngine& engine);

/// The per-connection options the engine's connections run with, where they are a copy of
/// their own (tcp_utcp's pure core); null where they are read from effective_options().
const tcp::ConnectionOptions* connection_options_copy(const TcpEngine& engine);

/// Bytes of one connection's protocol state (tcp_classic's Pcb, tcp_utcp's Tcb): an idle
/// connection costs at least this much.
std::size_t connection_state_size(std::string_view engine);

}  // namespace netloom::testing
