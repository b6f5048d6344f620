// The process-wide handler for exceptions escaping detached coroutines.
#include "netloom/task.hpp"

#include <cstdio>
#include <utility>

namespace netloom {
namespace {
DetachedExceptionHandler& handler() {
    static DetachedExceptionHandler h;
    return h;
}
}  // namespace

DetachedExceptionHandler set_detached_exception_handler(DetachedExceptionHandler h) {
    return std::exchange(handler(), std::move(h));
}

void report_detached_exception(std::exception_ptr error) noexcept {
    try {
        if (handler()) {
            handler()(error);
            return;
        }
        std::rethrow_exception(error);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "netloom: uncaught exception in a task: %s\n", e.what());
    } catch (...) {
        std::fprintf(stderr, "netloom: uncaught non-standard exception in a task\n");
    }
}

}  // namespace netloom
