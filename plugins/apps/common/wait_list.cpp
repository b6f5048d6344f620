// WaitList: an intrusive list of suspended awaiters, woken by generation so a waiter that waits
// again from inside its resumption is not woken twice by the same notify.
#include "wait_list.hpp"

#include <utility>

namespace netloom::apps {

struct WaitList::Core {
    explicit Core(Scheduler& s) : scheduler(s) {}
    Scheduler& scheduler;
    Awaiter* head = nullptr;
    Awaiter* tail = nullptr;
    std::uint64_t generation = 0;
    bool dispatch_posted = false;
};

WaitList::WaitList(Scheduler& scheduler) : core_(std::make_shared<Core>(scheduler)) {}

WaitList::~WaitList() {
    // Detach the waiters: they stay suspended (owned by their TaskScope), their destructors
    // must not touch this list any more.
    for (Awaiter* a = core_->head; a != nullptr;) {
        Awaiter* next = a->next_;
        if (a->timer_ != 0) core_->scheduler.cancel_timer(std::exchange(a->timer_, 0));
        a->linked_ = false;
        a->core_ = nullptr;
        a->prev_ = a->next_ = nullptr;
        a = next;
    }
    core_->head = core_->tail = nullptr;
}

Scheduler& WaitList::scheduler() const noexcept {
    return core_->scheduler;
}
bool WaitList::has_waiters() const noexcept {
    return core_->head != nullptr;
}

void WaitList::notify_now() {
    dispatch(core_);
}

void WaitList::notify_later() {
    if (core_->dispatch_posted || core_->head == nullptr) return;
    core_->dispatch_posted = true;
    std::weak_ptr<Core> weak = core_;
    core_->scheduler.post([weak] {
        if (auto core = weak.lock()) {
            core->dispatch_posted = false;
            dispatch(core);
        }
    });
}

void WaitList::dispatch(std::shared_ptr<Core> core) {
    // `core` (a copy) keeps the block alive even if a resumed coroutine destroys the list.
    const std::uint64_t limit = core->generation++;
    for (;;) {
        Awaiter* a = core->head;
        while (a != nullptr && a->generation_ > limit) a = a->next_;
        if (a == nullptr) return;
        a->unlink();
        if (a->timer_ != 0) core->scheduler.cancel_timer(std::exchange(a->timer_, 0));
        a->notified_ = true;
        a->handle_.resume();  // `a` may be gone after this
    }
}

void WaitList::Awaiter::unlink() noexcept {
    if (!linked_) return;
    (prev_ ? prev_->next_ : core_->head) = next_;
    (next_ ? next_->prev_ : core_->tail) = prev_;
    prev_ = next_ = nullptr;
    linked_ = false;
}

WaitList::Awaiter::~Awaiter() {
    if (core_ == nullptr) return;
    unlink();
    if (timer_ != 0) core_->scheduler.cancel_timer(std::exchange(timer_, 0));
}

bool WaitList::Awaiter::await_ready() const noexcept {
    // A list already destroyed can never notify: do not wait for it.
    return core_ == nullptr || (deadline_ != kNoDeadline && deadline_ <= core_->scheduler.now());
}

void WaitList::Awaiter::await_suspend(std::coroutine_handle<> handle) {
    handle_ = handle;
    notified_ = false;
    generation_ = core_->generation;
    prev_ = core_->tail;
    next_ = nullptr;
    (core_->tail ? core_->tail->next_ : core_->head) = this;
    core_->tail = this;
    linked_ = true;
    if (deadline_ == kNoDeadline) return;
    timer_ = core_->scheduler.add_timer(deadline_, [this] {
        timer_ = 0;
        unlink();
        notified_ = false;
        handle_.resume();
    });
}

}  // namespace netloom::apps
