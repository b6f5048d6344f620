// secret_seed.hpp — where a TCP engine's per-stack secrets come from (the RFC 6528 ISN key, the
// SYN-cookie key, the RFC 6056 port key and counter, the RFC 7323 timestamp-offset key).
//
// Contract: `engine_secret_seed` is empty on a real clock, and `draw_engine_secrets` then reads
// every key from getrandom(2): 128 unpredictable bits each, as RFC 6528 3 requires (never the
// output of a PRNG seeded with fewer bits). On a virtual clock (the `sim` scheduler) nothing may
// differ between two runs of the same config, or a simulation could not be replayed from its
// seed: the seed is then a fixed hash (FNV-1a) of the stack's name, distinct per stack and the
// same on every run, and the keys are derived from it. A simulation talks to nothing outside the
// process, so predictable secrets cost nothing there. The keys are distinct from each other, so
// learning one (a SYN cookie reveals its hash) says nothing about another.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "netloom/scheduler.hpp"
#include "netloom/tcp_common/siphash.hpp"

namespace netloom::tcp {

struct EngineSecrets {
    SipKey isn_key{};                ///< RFC 6528 3 (F's key)
    SipKey cookie_key{};             ///< RFC 4987 3.6 SYN cookies
    SipKey port_key{};               ///< RFC 6056 3.3.3 (F's key of the port offset)
    SipKey ts_key{};                 ///< RFC 7323 5.4 / 7.1 per-connection TSval offset
    std::uint32_t port_counter = 0;  ///< RFC 6056 3.3.3's counter starts anywhere
};

/// Empty on a real clock; a hash of the stack name under a virtual one.
std::optional<std::uint64_t> engine_secret_seed(const Scheduler& scheduler,
                                                std::string_view stack_name);

/// getrandom(2) when `seed` is empty (throws std::system_error if the kernel cannot give
/// random bytes); derived from the seed otherwise.
EngineSecrets draw_engine_secrets(std::optional<std::uint64_t> seed);

}  // namespace netloom::tcp
