// The seed of a TCP engine's secrets: random on a real clock, a hash of the stack name on a
// virtual one (secret_seed.hpp).
#include "netloom/tcp_common/secret_seed.hpp"

#include <random>

namespace netloom::tcp {

std::uint64_t engine_secret_seed(const Scheduler& scheduler, std::string_view stack_name) {
    if (!scheduler.virtual_clock()) {
        std::random_device device;
        return (std::uint64_t{device()} << 32) ^ device();
    }
    std::uint64_t hash = 0xcbf29ce484222325ull;  // FNV-1a 64 offset basis
    for (const char c : stack_name) {
        hash ^= static_cast<unsigned char>(c);
        hash *= 0x100000001b3ull;  // FNV-1a 64 prime
    }
    return hash;
}

}  // namespace netloom::tcp
