// targets.hpp — the factories of the two target kinds (defined in engine_target.cpp and
// linux_target.cpp), as the drill command sees them.
#pragma once

#include <memory>

#include "drill/target.hpp"

namespace netloom::drill {

std::unique_ptr<Target> make_engine_target(const TargetOptions& options);
std::unique_ptr<Target> make_linux_target(const TargetOptions& options);

}  // namespace netloom::drill
