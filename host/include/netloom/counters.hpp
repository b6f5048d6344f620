// counters.hpp — how components expose their counters (drops by reason, frames, bytes...).
//
// Contract: `visit` reports every counter of a component as (name, value), names in snake_case
// and stable across versions (tests and the `stats` output read them). Reading is cheap and has no
// side effects. Counters only grow, except gauges, whose names end in `_current` (a level such as
// bytes held by reassembly now); a gauge's high-water mark is reported as `<name>_peak`.
#pragma once

#include <cstdint>
#include <functional>
#include <string_view>

namespace netloom {

using CounterVisitor = std::function<void(std::string_view name, std::uint64_t value)>;

class CounterSource {
public:
    virtual ~CounterSource() = default;
    virtual void visit_counters(const CounterVisitor& visit) const = 0;
};

}  // namespace netloom
