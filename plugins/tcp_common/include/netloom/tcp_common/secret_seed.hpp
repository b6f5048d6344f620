// secret_seed.hpp — where a TCP engine's per-stack secrets come from (the RFC 6528 ISN key, the
// SYN-cookie key, the RFC 6056 port key and offset, the RFC 7323 timestamp offset).
//
// Contract: on a real clock the seed is drawn from std::random_device, so the secrets are
// unpredictable, as RFC 6528 3 requires. On a virtual clock (the `sim` scheduler) nothing may
// differ between two runs of the same config, or a simulation could not be replayed from its
// seed: the seed is then a fixed hash (FNV-1a) of the stack's name, distinct per stack and the
// same on every run. A simulation talks to nothing outside the process, so predictable secrets
// cost nothing there.
#pragma once

#include <cstdint>
#include <string_view>

#include "netloom/scheduler.hpp"

namespace netloom::tcp {

std::uint64_t engine_secret_seed(const Scheduler& scheduler, std::string_view stack_name);

}  // namespace netloom::tcp
