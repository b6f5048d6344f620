// The block request awaiter and the named-device lookup of block_io.hpp.
#include "block_io.hpp"

#include <stdexcept>
#include <string>

namespace netloom::apps {

BlockAwaiter::~BlockAwaiter() {
    // The frame holding this awaiter is being destroyed: a later completion must not resume it.
    if (state_) state_->handle = nullptr;
}

void BlockAwaiter::await_suspend(std::coroutine_handle<> handle) {
    state_ = std::make_shared<State>();
    state_->handle = handle;
    // The completion never runs inside submit (block.hpp), so the coroutine is suspended by then.
    device_.submit(request_, [state = state_](int error) {
        state->error = error;
        if (auto h = std::exchange(state->handle, nullptr)) h.resume();
    });
}

int BlockAwaiter::await_resume() const noexcept {
    return state_ ? state_->error : 0;
}

BlockDevice& block_device(const Config& config, Env& env, std::string_view key) {
    const std::string name = config.get_string(key);
    try {
        return env.block(name);
    } catch (const std::invalid_argument& e) {
        config.fail_message(key, e.what());
    }
}

}  // namespace netloom::apps
