// test_addresses.hpp — the address the in-process app tests give the stack under test.
//
// Defined once here, not per file: the sanitizer tree is a unity build (scripts/test.sh), so the
// test files of one executable are compiled together and file-local names must not repeat.
#pragma once

#include "netloom/wire/ipv4_address.hpp"

namespace netloom::testing {

inline const Ipv4Address kOwn(10, 0, 0, 2);

}  // namespace netloom::testing
