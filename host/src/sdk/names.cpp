// Text names of the enums in ip.hpp and tcp.hpp, as they appear in logs and stats.
#include "netloom/ip.hpp"
#include "netloom/tcp.hpp"

namespace netloom {

const char* to_string(IpSendStatus status) noexcept {
    switch (status) {
        case IpSendStatus::sent: return "sent";
        case IpSendStatus::queued: return "queued";
        case IpSendStatus::no_route: return "no_route";
        case IpSendStatus::too_big: return "too_big";
        case IpSendStatus::dropped: return "dropped";
    }
    return "unknown";
}

std::string_view to_string(TcpState state) noexcept {
    switch (state) {
        case TcpState::closed: return "CLOSED";
        case TcpState::listen: return "LISTEN";
        case TcpState::syn_sent: return "SYN-SENT";
        case TcpState::syn_received: return "SYN-RECEIVED";
        case TcpState::established: return "ESTABLISHED";
        case TcpState::fin_wait_1: return "FIN-WAIT-1";
        case TcpState::fin_wait_2: return "FIN-WAIT-2";
        case TcpState::close_wait: return "CLOSE-WAIT";
        case TcpState::closing: return "CLOSING";
        case TcpState::last_ack: return "LAST-ACK";
        case TcpState::time_wait: return "TIME-WAIT";
    }
    return "?";
}

std::string_view to_string(TcpError error) noexcept {
    switch (error) {
        case TcpError::none: return "none";
        case TcpError::refused: return "connection refused";
        case TcpError::reset: return "connection reset";
        case TcpError::timed_out: return "timed out";
        case TcpError::unreachable: return "unreachable";
        case TcpError::aborted: return "aborted";
    }
    return "?";
}

}  // namespace netloom
