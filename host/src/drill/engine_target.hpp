// engine_target.hpp — the in-process target of `netloom drill`: one netloom stack with
// tcp_utcp or tcp_classic on the `sim` virtual clock (engine_stack.hpp), its device handing
// every datagram to the interpreter, and a Linux-numbered socket API over the engine
// (engine_sockets.hpp).
//
// Contract: `make_engine_target` checks the options before returning (a bad --config or
// `//! config:` is a ConfigError at its file:line:column; an unknown engine or a plugin that
// cannot be loaded is std::invalid_argument); the stack itself is built at the first listen,
// connect or injected packet, so options and sysctls set before that become engine keys.
// Everything else is target.hpp's contract.
#pragma once

#include <memory>

#include "target.hpp"

namespace netloom::drill {

std::unique_ptr<Target> make_engine_target(const TargetOptions& options);

}  // namespace netloom::drill
