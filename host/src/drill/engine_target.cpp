// The engine target: Target over an EngineStack and its EngineSockets, plus sysctls mapped to
// engine keys.
#include "engine_target.hpp"

#include <charconv>
#include <map>
#include <sstream>
#include <vector>

#include "engine_sockets.hpp"
#include "engine_stack.hpp"

namespace netloom::drill {

namespace {

std::string trimmed(const std::string& text) {
    const auto first = text.find_first_not_of(" \t\n");
    if (first == std::string::npos) return {};
    return text.substr(first, text.find_last_not_of(" \t\n") - first + 1);
}

/// A whole decimal number, surrounding blanks allowed ("1", " 0\n").
std::optional<std::int64_t> number(const std::string& raw) {
    const std::string text = trimmed(raw);
    std::int64_t value = 0;
    const char* end = text.data() + text.size();
    const auto [stop, error] = std::from_chars(text.data(), end, value);
    if (text.empty() || error != std::errc{} || stop != end) return std::nullopt;
    return value;
}

/// Whitespace-separated integers ("4096 87380 6291456").
std::optional<std::vector<std::int64_t>> numbers(const std::string& text) {
    std::istringstream in(text);
    std::vector<std::int64_t> values;
    std::string word;
    while (in >> word) {
        const auto value = number(word);
        if (!value) return std::nullopt;
        values.push_back(*value);
    }
    return values;
}

class EngineTarget final : public Target {
public:
    explicit EngineTarget(const TargetOptions& options)
        : options_(options), stack_(options), sockets_(stack_, options) {}
    ~EngineTarget() override = default;

    std::string name() const override { return options_.engine; }

    std::int64_t now_us() override { return stack_.now_us(); }
    void run_until(std::int64_t t_us) override {
        stack_.run_until(t_us);
        sockets_.observe_all();
    }
    std::optional<CapturedPacket> next_packet(std::int64_t deadline_us) override {
        auto packet = stack_.next_packet(deadline_us);
        sockets_.observe_all();
        return packet;
    }
    void inject(std::span<const std::uint8_t> datagram) override {
        stack_.inject(datagram);
        sockets_.observe_all();  // so a later RST is judged against the state before it
    }

    std::string set_sysctl(const std::string& name, const std::string& value) override;
    std::optional<std::size_t> count_connections(std::uint8_t linux_state) override {
        return sockets_.count(linux_state);
    }

    CallResult socket(int domain, int type, int protocol) override {
        return sockets_.socket(domain, type, protocol);
    }
    CallResult bind(int fd) override { return sockets_.bind(fd); }
    CallResult listen(int fd, int backlog) override { return sockets_.listen(fd, backlog); }
    CallResult accept(int fd) override { return sockets_.accept(fd); }
    CallResult connect(int fd, bool unspec) override { return sockets_.connect(fd, unspec); }
    CallResult recv(int fd, std::size_t length, int flags) override {
        return sockets_.recv(fd, length, flags);
    }
    CallResult send(int fd, std::size_t length, int flags) override {
        return sockets_.send(fd, length, flags);
    }
    CallResult shutdown(int fd, int how) override { return sockets_.shutdown(fd, how); }
    CallResult close(int fd) override { return sockets_.close(fd); }
    CallResult getsockopt(int fd, int level, int name, OptionValue& value) override {
        return sockets_.getsockopt(fd, level, name, value);
    }
    CallResult setsockopt(int fd, int level, int name, const OptionValue& value) override {
        return sockets_.setsockopt(fd, level, name, value);
    }
    CallResult fcntl(int fd, int command, std::int64_t argument) override {
        return sockets_.fcntl(fd, command, argument);
    }
    CallResult ioctl(int fd, unsigned long request, std::int64_t& value) override {
        return sockets_.ioctl(fd, request, value);
    }
    CallResult poll(std::vector<PollEntry>& entries, int timeout_ms) override {
        return sockets_.poll(entries, timeout_ms);
    }
    std::optional<TcpInfoSnapshot> tcp_info(int fd) override { return sockets_.tcp_info(fd); }
    void close_all() override { sockets_.close_all(); }

private:
    /// A boolean sysctl onto a boolean engine key.
    std::string flag(const std::string& name, const std::string& value, const char* key) {
        const auto v = number(value);
        if (!v || *v < 0) return "sysctl " + name + ": invalid value '" + value + "'";
        return stack_.set(key, *v ? "true" : "false");
    }
    /// A value the engine only has one way: accepted when it is that one.
    static std::string only(const std::string& name, const std::string& value,
                            const std::string& accepted, const char* why) {
        const auto v = number(value);
        if (v && std::to_string(*v) == accepted) return "";
        return "sysctl " + name + "=" + value + ": " + why;
    }

    TargetOptions options_;
    std::map<std::string, std::string> sysctls_;  // the retry counts, for their shared key
    // Member order is destruction order reversed: the sockets (engine handles) die first.
    EngineStack stack_;
    EngineSockets sockets_;
};

std::string EngineTarget::set_sysctl(const std::string& name, const std::string& value) {
    const auto v = number(value);
    auto positive = [&]() -> std::optional<std::int64_t> {
        if (v && *v > 0) return v;
        return std::nullopt;
    };
    auto invalid = [&] { return "sysctl " + name + ": invalid value '" + value + "'"; };
    if (name == "tcp_sack") return flag(name, value, "sack");
    if (name == "tcp_timestamps") return flag(name, value, "timestamps");  // 2: no offset
    if (name == "tcp_window_scaling") return flag(name, value, "window_scaling");
    if (name == "tcp_syncookies") {
        if (v == 2) return stack_.set("syn_cookies", "always");  // cookies for every SYN
        return flag(name, value, "syn_cookies");
    }
    if (name == "tcp_rmem" || name == "tcp_wmem") {
        // The middle value is the default sk_rcvbuf / sk_sndbuf, which counts bookkeeping too:
        // the engine's buffer (payload) is half of it, as for SO_RCVBUF / SO_SNDBUF.
        const auto values = numbers(value);
        if (!values || values->size() != 3 || (*values)[1] <= 0) return invalid();
        return stack_.set(name == "tcp_rmem" ? "rcvbuf" : "sndbuf",
                          std::to_string((*values)[1] / 2));
    }
    if (name == "tcp_congestion_control") {
        const std::string name_text = trimmed(value);
        if (name_text == "cubic") return stack_.set("cc", "cubic");
        if (name_text == "reno") return stack_.set("cc", "newreno");
        return "sysctl tcp_congestion_control=" + value + ": the engines have cubic and reno";
    }
    if (name == "tcp_keepalive_time" || name == "tcp_keepalive_intvl" ||
        name == "tcp_fin_timeout") {
        if (!positive()) return invalid();
        const char* key = name == "tcp_keepalive_time"    ? "keepalive_idle"
                          : name == "tcp_keepalive_intvl" ? "keepalive_interval"
                                                          : "fin_wait_2_timeout";
        return stack_.set(key, std::to_string(*v) + "s");
    }
    if (name == "tcp_keepalive_probes") {
        if (!positive()) return invalid();
        return stack_.set("keepalive_count", std::to_string(*v));
    }
    if (name == "tcp_syn_retries" || name == "tcp_synack_retries") {
        // The engines have one count for SYN and SYN-ACK retransmissions.
        if (!positive()) return invalid();
        const std::string other =
            name == "tcp_syn_retries" ? "tcp_synack_retries" : "tcp_syn_retries";
        if (auto it = sysctls_.find(other);
            it != sysctls_.end() && it->second != std::to_string(*v))
            return "sysctl " + name + "=" + value + ": the engines share one count with " + other +
                   " (" + it->second + ")";
        std::string why = stack_.set("syn_retransmits", std::to_string(*v));
        if (why.empty()) sysctls_[name] = std::to_string(*v);
        return why;
    }
    if (name == "tcp_retries2") {
        if (!positive()) return invalid();
        return stack_.set("max_retransmits", std::to_string(*v));
    }
    if (name == "tcp_max_tw_buckets") {
        if (!v || *v < 0) return invalid();
        return stack_.set("max_time_wait", std::to_string(*v));
    }
    if (name == "tcp_challenge_ack_limit") {
        if (!positive()) return invalid();
        return stack_.set("challenge_ack_limit", std::to_string(*v));
    }
    if (name == "ip_local_port_range") {
        const auto values = numbers(value);
        if (!values || values->size() != 2) return invalid();
        return stack_.set("ephemeral_ports",
                          std::to_string((*values)[0]) + "-" + std::to_string((*values)[1]));
    }
    if (name == "tcp_tw_reuse")
        return only(name, value, "1",
                    "the engines always let connect() reuse a TIME-WAIT "
                    "4-tuple after time_wait_reuse_delay (Linux's 1)");
    if (name == "tcp_ecn")
        return only(name, value, "0", "the engines do not negotiate ECN (Linux's 0)");
    if (name == "tcp_fastopen") return only(name, value, "0", "the engines have no TCP Fast Open");
    if (name == "tcp_mtu_probing")
        return only(name, value, "0", "the engines do not probe the path MTU");
    if (name == "tcp_moderate_rcvbuf")
        return only(name, value, "0", "the engines do not autotune their buffers");
    if (name == "tcp_abort_on_overflow")
        return only(name, value, "0", "the engines drop (not reset) a SYN on a full queue");
    if (name == "tcp_syn_linear_timeouts")
        return only(name, value, "0",
                    "the engines back off every SYN retransmission exponentially (RFC 6298 5.5)");
    if (name == "tcp_no_metrics_save")
        return only(name, value, "1", "the engines keep no per-destination metrics");
    return "sysctl " + name + ": no engine key for it";
}

}  // namespace

std::unique_ptr<Target> make_engine_target(const TargetOptions& options) {
    return std::make_unique<EngineTarget>(options);
}

}  // namespace netloom::drill
