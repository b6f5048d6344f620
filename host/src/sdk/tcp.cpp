// tcp.cpp — the out-of-line members of tcp.hpp's exception type: its key function lives in
// libnetloom so every plugin throws and catches one and the same type.
#include "netloom/tcp.hpp"

namespace netloom {

TcpNoFreePort::TcpNoFreePort(const std::string& what,
                             std::optional<std::chrono::nanoseconds> retry_at)
    : std::runtime_error(what), retry_at_(retry_at) {}

TcpNoFreePort::~TcpNoFreePort() = default;

}  // namespace netloom
