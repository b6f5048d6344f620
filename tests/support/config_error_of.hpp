// config_error_of.hpp — error_of(f): runs `f` and returns the ConfigError it throws; the test
// fails if it throws nothing.
#pragma once

#include <catch2/catch.hpp>

#include <stdexcept>

#include "netloom/config.hpp"

namespace netloom::testing {

template <typename F>
ConfigError error_of(F&& f) {
    try {
        f();
    } catch (const ConfigError& e) {
        return e;
    }
    FAIL("expected a ConfigError");
    throw std::logic_error("unreachable");
}

}  // namespace netloom::testing
