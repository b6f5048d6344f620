// app.hpp — App: a program running on a stack (echo server, ping, iperf3...), the `app` kind.
//
// Contract: the factory reads its config and takes what it needs from Env (the stack's IpLayer,
// the scheduler); nothing runs before `start`. A finite app (a client) calls `finished(status)`
// exactly once when it is done (status 0 = success); the host stops the run when every finite
// app has finished and reports the first non-zero status as its exit status. A server is not
// finite and never calls it. Apps are destroyed before the stack's transports and IP layer.
#pragma once

#include <functional>

#include "netloom/counters.hpp"
#include "netloom/plugin.hpp"

namespace netloom {

class App : public PluginObject, public CounterSource {
public:
    virtual void start(std::function<void(int status)> finished) = 0;
    virtual bool finite() const noexcept = 0;
    void visit_counters(const CounterVisitor&) const override {}
};

}  // namespace netloom
