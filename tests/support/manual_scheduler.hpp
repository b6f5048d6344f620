// manual_scheduler.hpp — ManualScheduler: a deterministic netloom::Scheduler for unit tests, whose
// virtual clock moves only when the test says so.
//
// Contract: now() starts at 0 and changes only in advance_to/advance/run. Nothing runs by itself:
// - run_posted() runs the callbacks posted so far (one loop turn's worth), returns how many;
// - run_until_idle() runs due timers (deadline <= now), posted callbacks and pollers, repeatedly,
//   until a whole round finds nothing to do; it throws std::runtime_error after kMaxSteps
//   callbacks, so something that re-arms itself forever fails the test instead of hanging it;
// - advance_to(t) / advance(d) move the clock to each timer deadline up to t in order, running
//   that timer (with now() == its deadline) and settling with run_until_idle() before the next,
//   as a real loop would; then now() == t;
// - run() settles, jumps to the next timer, repeats; returns on stop() or when nothing is left.
// Timers with equal deadlines run in the order added. watch_readable throws std::logic_error.
// Callbacks may add, cancel and remove anything, themselves included; exceptions propagate.
#pragma once

#include <algorithm>
#include <cstddef>
#include <deque>
#include <functional>
#include <map>
#include <stdexcept>
#include <utility>
#include <vector>

#include "netloom/scheduler.hpp"

namespace netloom::testing {

class ManualScheduler final : public Scheduler {
public:
    static constexpr std::size_t kMaxSteps = 1'000'000;

    Time now() const noexcept override { return now_; }
    bool virtual_clock() const noexcept override { return true; }

    TimerId add_timer(Time deadline, Callback cb) override {
        const TimerId id = next_id_++;
        timers_.emplace(TimerKey{deadline, id}, std::move(cb));
        deadlines_.emplace(id, deadline);
        return id;
    }
    bool cancel_timer(TimerId id) noexcept override {
        const auto it = deadlines_.find(id);
        if (it == deadlines_.end()) return false;
        timers_.erase(TimerKey{it->second, id});
        deadlines_.erase(it);
        return true;
    }

    WatchId watch_readable(int /*fd*/, Callback /*on_readable*/) override {
        throw std::logic_error("ManualScheduler has no file descriptors; use a poller or post()");
    }
    void unwatch(WatchId /*id*/) noexcept override {}

    WatchId add_poller(std::function<bool()> poll) override {
        const WatchId id = next_id_++;
        pollers_.emplace(id, std::move(poll));
        return id;
    }
    void remove_poller(WatchId id) noexcept override { pollers_.erase(id); }

    void post(Callback cb) override { posted_.push_back(std::move(cb)); }

    void run() override {
        running_ = true;
        struct Reset {
            ManualScheduler& self;
            ~Reset() { self.running_ = self.stop_requested_ = false; }
        } reset{*this};
        while (!stop_requested_) {
            run_until_idle();
            if (stop_requested_ || timers_.empty()) break;
            now_ = std::max(now_, timers_.begin()->first.deadline);
        }
    }
    void stop() noexcept override { stop_requested_ = true; }

    std::size_t run_posted() {
        std::size_t ran = 0;
        for (std::size_t count = posted_.size(); ran < count && !halted(); ++ran) {
            Callback cb = std::move(posted_.front());
            posted_.pop_front();
            cb();
        }
        return ran;
    }

    /// Returns the number of timer and posted callbacks run (poller calls not counted).
    std::size_t run_until_idle() {
        std::size_t ran = 0, steps = 0;
        const auto charge = [&steps](std::size_t n) {
            steps += n;
            if (steps > kMaxSteps) {
                throw std::runtime_error("ManualScheduler: not idle after kMaxSteps callbacks");
            }
        };
        while (!halted()) {
            std::size_t round = 0;
            while (!halted() && !timers_.empty() && timers_.begin()->first.deadline <= now_) {
                charge(1);  // a timer re-arming itself at now() would loop here
                fire_first_timer();
                ++round;
            }
            const std::size_t posted = run_posted();
            const bool busy = run_pollers();
            charge(posted + 1);
            round += posted;
            ran += round;
            if (round == 0 && !busy) break;
        }
        return ran;
    }

    void advance_to(Time t) {
        if (t < now_) throw std::invalid_argument("ManualScheduler::advance_to: time goes forward");
        run_until_idle();
        while (!halted() && !timers_.empty() && timers_.begin()->first.deadline <= t) {
            now_ = std::max(now_, timers_.begin()->first.deadline);
            run_until_idle();
        }
        if (!halted()) now_ = t;
    }
    void advance(Time d) { advance_to(now_ + d); }

    std::size_t pending_timers() const noexcept { return timers_.size(); }
    std::size_t pending_posted() const noexcept { return posted_.size(); }
    std::size_t poller_count() const noexcept { return pollers_.size(); }

private:
    struct TimerKey {
        Time deadline;
        TimerId id;
        auto operator<=>(const TimerKey&) const = default;  // deadline first, then order added
    };

    // stop() only interrupts run(); outside it the helpers always run to completion.
    bool halted() const noexcept { return running_ && stop_requested_; }

    void fire_first_timer() {
        // Taken out of the map before it runs, so cancelling itself returns false and the
        // callback object survives whatever the callback does to the map.
        auto node = timers_.extract(timers_.begin());
        deadlines_.erase(node.key().id);
        node.mapped()();
    }

    bool run_pollers() {
        std::vector<WatchId> ids;
        for (const auto& entry : pollers_) ids.push_back(entry.first);
        bool busy = false;
        for (WatchId id : ids) {
            const auto it = pollers_.find(id);
            if (it == pollers_.end() || halted()) continue;
            auto poll = it->second;  // a copy: the poller may remove itself
            busy = poll() || busy;
        }
        return busy;
    }

    Time now_{0};
    TimerId next_id_ = 1;
    std::map<TimerKey, Callback> timers_;
    std::map<TimerId, Time> deadlines_;
    std::deque<Callback> posted_;
    std::map<WatchId, std::function<bool()>> pollers_;
    bool running_ = false;
    bool stop_requested_ = false;
};

}  // namespace netloom::testing
