// linux_target_netns.hpp — the sandbox the Linux target runs a script in: a network namespace of
// its own holding one TUN device, configured with ioctls and rtnetlink (never a shell command).
//
// Contract: constructing a LinuxSandbox moves the calling thread (only it: unshare(2) is per
// thread) into a fresh network namespace, applies the baseline sysctls listed in
// linux_target.hpp, brings `lo` up and creates the TUN device `kDeviceName` (IFF_TUN |
// IFF_NO_PI, non-blocking fd) with the options' MTU, local address and prefix, a pfifo root
// qdisc, IPv6 disabled, and a host route to remote_ip (via gateway_ip when that is on the
// local subnet, else a device route). Any failure throws std::runtime_error naming the step and
// leaves the thread in its original namespace. The destructor closes the TUN (the device
// disappears with its last fd) and returns the thread to its original namespace, so the new
// one is freed by the kernel once nothing else refers to it (the process exiting frees it too).
#pragma once

#include <netinet/in.h>

#include <string>

#include "target.hpp"

namespace netloom::drill::linux_target_detail {

inline constexpr const char* kDeviceName = "drill0";
/// The congestion control of the stock kernel, pinned in the namespace (linux_target.hpp).
inline constexpr const char* kCongestionControl = "cubic";

/// `text` as an IPv4 address; throws std::runtime_error naming `what` when it is not one.
in_addr parse_ipv4(const std::string& text, const char* what);

/// Writes `value` to /proc/sys/<path> in the calling thread's network namespace. Returns "" on
/// success, else why not ("no such setting ...", "invalid value ..."), and then the errno in
/// `*error` when given. `path` uses '/'.
std::string write_proc_sys(const std::string& path, const std::string& value, int* error = nullptr);

class LinuxSandbox {
public:
    explicit LinuxSandbox(const TargetOptions& options);
    ~LinuxSandbox();
    LinuxSandbox(const LinuxSandbox&) = delete;
    LinuxSandbox& operator=(const LinuxSandbox&) = delete;

    /// Read: the kernel's outbound IP datagrams; write: one datagram injected per write().
    int tun_fd() const noexcept { return tun_fd_; }
    /// False when the host forbids making kCongestionControl the namespace's default: then
    /// every TCP socket must select it itself (TCP_CONGESTION).
    bool congestion_control_is_default() const noexcept { return congestion_control_is_default_; }

private:
    void configure(const TargetOptions& options);
    void release() noexcept;

    int original_namespace_ = -1;  // fd of the namespace to return to
    bool moved_ = false;           // the thread is in the new namespace
    int tun_fd_ = -1;
    bool congestion_control_is_default_ = true;
};

}  // namespace netloom::drill::linux_target_detail
