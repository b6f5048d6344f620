// The link registry: name -> weak link, guarded by one mutex (only touched when devices are
// built or destroyed, never on the frame path).
#include "wire_link.hpp"

#include <algorithm>
#include <mutex>
#include <unordered_map>

namespace netloom::drivers {
namespace {

struct Registry {
    std::mutex mutex;
    std::unordered_map<std::string, std::weak_ptr<WireLink>> links;
};

Registry& registry() {
    static Registry instance;
    return instance;
}

}  // namespace

std::shared_ptr<WireLink> WireLink::join(const std::string& name, WireDevice* device) {
    auto& reg = registry();
    std::lock_guard lock(reg.mutex);
    auto& slot = reg.links[name];
    auto link = slot.lock();
    if (!link) {
        link = std::make_shared<WireLink>(name);
        slot = link;
    }
    link->members_.push_back(device);
    return link;
}

void WireLink::leave(WireDevice* device) {
    std::lock_guard lock(registry().mutex);
    std::erase(members_, device);
}

WireLink::~WireLink() {
    auto& reg = registry();
    std::lock_guard lock(reg.mutex);
    // A new link of the same name may already have replaced this one: only erase a dead entry.
    auto it = reg.links.find(name_);
    if (it != reg.links.end() && it->second.expired()) reg.links.erase(it);
}

std::size_t WireLink::live_links() {
    auto& reg = registry();
    std::lock_guard lock(reg.mutex);
    return static_cast<std::size_t>(std::count_if(reg.links.begin(), reg.links.end(),
                                                  [](auto& e) { return !e.second.expired(); }));
}

}  // namespace netloom::drivers
