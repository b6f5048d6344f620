// The seed and keys of a TCP engine's secrets: getrandom(2) on a real clock, derived from a hash
// of the stack name on a virtual one (secret_seed.hpp).
#include "netloom/tcp_common/secret_seed.hpp"

#include <sys/random.h>

#include <cerrno>
#include <cstring>
#include <span>
#include <system_error>

namespace netloom::tcp {

namespace {

void fill_random(std::span<std::uint8_t> out) {
    while (!out.empty()) {
        // Blocks only until the kernel's pool is first initialised (early boot), never after.
        const ssize_t n = ::getrandom(out.data(), out.size(), 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            throw std::system_error(errno, std::generic_category(), "getrandom");
        }
        out = out.subspan(static_cast<std::size_t>(n));
    }
}

/// SplitMix64 (Steele, Lea, Flood 2014): spreads one 64-bit seed into independent-looking words.
std::uint64_t split_mix(std::uint64_t& state) {
    std::uint64_t z = (state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

}  // namespace

std::optional<std::uint64_t> engine_secret_seed(const Scheduler& scheduler,
                                                std::string_view stack_name) {
    if (!scheduler.virtual_clock()) return std::nullopt;
    std::uint64_t hash = 0xcbf29ce484222325ull;  // FNV-1a 64 offset basis
    for (const char c : stack_name) {
        hash ^= static_cast<unsigned char>(c);
        hash *= 0x100000001b3ull;  // FNV-1a 64 prime
    }
    return hash;
}

EngineSecrets draw_engine_secrets(std::optional<std::uint64_t> seed) {
    EngineSecrets s;
    SipKey* const keys[] = {&s.isn_key, &s.cookie_key, &s.port_key, &s.ts_key};
    if (!seed) {
        for (SipKey* key : keys) fill_random(*key);
        fill_random({reinterpret_cast<std::uint8_t*>(&s.port_counter), sizeof s.port_counter});
        return s;
    }
    std::uint64_t state = *seed;
    for (SipKey* key : keys) {
        for (std::size_t i = 0; i < key->size(); i += 8) {
            const std::uint64_t word = split_mix(state);
            std::memcpy(key->data() + i, &word, 8);
        }
    }
    s.port_counter = static_cast<std::uint32_t>(split_mix(state));
    return s;
}

}  // namespace netloom::tcp
