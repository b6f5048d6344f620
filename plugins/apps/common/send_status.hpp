// send_status.hpp — a name for each IpSendStatus, for app log lines.
//
// Contract: never null. (ip.hpp declares netloom::to_string(IpSendStatus), but no library
// defines it yet; a plugin calling it would fail to load with an undefined symbol.)
#pragma once

#include "netloom/ip.hpp"

namespace netloom::apps {

constexpr const char* send_status_name(IpSendStatus status) noexcept {
    switch (status) {
        case IpSendStatus::sent: return "sent";
        case IpSendStatus::queued: return "queued";
        case IpSendStatus::no_route: return "no route";
        case IpSendStatus::too_big: return "too big";
        case IpSendStatus::dropped: return "dropped";
    }
    return "unknown";
}

}  // namespace netloom::apps
