// timer.hpp — PcbTimer: one named connection timer (retransmit, delayed ACK, persist, keepalive,
// TIME-WAIT) as a scheduler timer that is re-armed lazily.
//
// Contract: arm(deadline) makes the callback run once at or after `deadline`; stop() makes it
// not run. Moving a deadline later (every ACK moves the retransmit deadline) does not touch the
// scheduler: when the scheduled timer fires before the current deadline it re-schedules itself,
// so the common case costs one comparison. The callback holds only a weak reference to its
// owner (`Owner` derives from enable_shared_from_this), so a timer never keeps a dead
// connection alive and never calls into a destroyed one. cancel() removes the scheduler timer
// (when the connection retires).
#pragma once

#include <memory>
#include <optional>

#include "netloom/scheduler.hpp"

namespace netloom::classic {

template <typename Owner, void (Owner::*OnExpiry)()>
class PcbTimer {
public:
    bool armed() const noexcept { return deadline_.has_value(); }
    std::optional<Time> deadline() const noexcept { return deadline_; }

    void arm(Scheduler& scheduler, Owner& owner, Time deadline) {
        deadline_ = deadline;
        if (scheduled_id_ != 0 && scheduled_at_ <= deadline) return;  // fires early, re-arms
        if (scheduled_id_ != 0) scheduler.cancel_timer(scheduled_id_);
        schedule(scheduler, owner, deadline);
    }
    /// Arms only when not armed already.
    void arm_if_idle(Scheduler& scheduler, Owner& owner, Time deadline) {
        if (!deadline_) arm(scheduler, owner, deadline);
    }
    void stop() noexcept { deadline_.reset(); }
    void cancel(Scheduler& scheduler) noexcept {
        deadline_.reset();
        if (scheduled_id_ != 0) scheduler.cancel_timer(scheduled_id_);
        scheduled_id_ = 0;
    }

private:
    void schedule(Scheduler& scheduler, Owner& owner, Time at) {
        scheduled_at_ = at;
        std::weak_ptr<Owner> weak = owner.weak_from_this();
        Scheduler* sched = &scheduler;
        scheduled_id_ = scheduler.add_timer(at, [this, weak, sched] {
            auto self = weak.lock();
            if (!self) return;
            scheduled_id_ = 0;
            if (!deadline_) return;
            if (sched->now() < *deadline_) {
                schedule(*sched, *self, *deadline_);
                return;
            }
            deadline_.reset();
            ((*self).*OnExpiry)();
            self->after_timer();
        });
    }

    std::optional<Time> deadline_;
    Time scheduled_at_{0};
    TimerId scheduled_id_ = 0;
};

}  // namespace netloom::classic
