// wire_link.hpp — the process-wide registry of in-process links, and one link's member list.
//
// Contract: `WireLink::join(name, device)` returns the link called `name`, creating it when no
// live device holds it, and adds `device` to its members; `leave` removes it. The registry holds
// links weakly, so a link disappears with its last device and a later `join` starts a fresh one.
// join/leave may run on any thread (they lock the registry); `members()` is read on the one
// scheduler thread that runs every member of the link.
#pragma once

#include <memory>
#include <string>
#include <vector>

namespace netloom::drivers {

class WireDevice;

class WireLink {
public:
    explicit WireLink(std::string name) : name_(std::move(name)) {}
    ~WireLink();
    WireLink(const WireLink&) = delete;
    WireLink& operator=(const WireLink&) = delete;

    static std::shared_ptr<WireLink> join(const std::string& name, WireDevice* device);
    void leave(WireDevice* device);

    const std::string& name() const noexcept { return name_; }
    const std::vector<WireDevice*>& members() const noexcept { return members_; }
    /// Number of links alive in this process (for tests).
    static std::size_t live_links();

private:
    std::string name_;
    std::vector<WireDevice*> members_;
};

}  // namespace netloom::drivers
