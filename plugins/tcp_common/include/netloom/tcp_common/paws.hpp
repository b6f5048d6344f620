// paws.hpp — Protection Against Wrapped Sequences (RFC 7323 5), the test both engines run on a
// segment's TSval before the sequence-number test.
//
// Contract (pure): paws_rejects() is R1 of RFC 7323 5.3 — a segment whose TSval is older than
// TS.Recent is a stale duplicate — with the idle rule of RFC 7323 5.5: when TS.Recent is more
// than 24 days old (`ts_recent_age`, measured by the engine from when it last set TS.Recent)
// the peer's timestamp clock may have wrapped its sign bit meanwhile, so TS.Recent is no longer
// valid and must not reject anything. RST segments are never subject to PAWS (RFC 7323 5.3
// applies it to the segments whose TSval is used); the engine filters them out.
#pragma once

#include <chrono>
#include <cstdint>

namespace netloom::tcp {

/// RFC 7323 5.5: 24 days, the shortest time in which a 1 ms timestamp clock (the fastest RFC 7323
/// 5.4 allows) moves 2^31 ticks.
inline constexpr std::chrono::nanoseconds kPawsIdleLimit = std::chrono::hours(24 * 24);

constexpr bool paws_rejects(std::uint32_t ts_val, std::uint32_t ts_recent,
                            std::chrono::nanoseconds ts_recent_age) noexcept {
    if (static_cast<std::int32_t>(ts_val - ts_recent) >= 0) return false;
    return ts_recent_age <= kPawsIdleLimit;
}

}  // namespace netloom::tcp
