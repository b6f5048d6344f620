// Helpers shared by the TCP apps: config readers, clocks, JSON reports, connect failures.
#include "tcp_app_support.hpp"

#include <sys/resource.h>

#include <cstdio>
#include <exception>
#include <fstream>
#include <stdexcept>

namespace netloom::apps {

Ipv4Address read_target(const Config& config, std::string_view key) {
    const std::string text = config.get_string(key);
    const auto address = Ipv4Address::parse(text);
    if (!address || address->is_unspecified()) {
        config.fail(key, "an IPv4 address such as 10.0.0.2", text);
    }
    return *address;
}

std::uint16_t read_port(const Config& config, std::string_view key,
                        std::optional<std::uint16_t> fallback) {
    std::optional<std::int64_t> fallback_int;
    if (fallback) fallback_int = *fallback;
    return static_cast<std::uint16_t>(config.get_int(key, fallback_int, 1, 65535));
}

void refuse_keys(const Config& config, std::initializer_list<std::string_view> keys,
                 std::string_view why) {
    // "unknown key" would hide the real mistake (a key meant for the other role).
    for (std::string_view key : keys) {
        if (config.has(key)) {
            config.fail_message(key, "`" + std::string(key) + "` " + std::string(why));
        }
    }
}

std::string_view tcp_error_key(TcpError error) noexcept {
    switch (error) {
        case TcpError::none: return "none";
        case TcpError::refused: return "refused";
        case TcpError::reset: return "reset";
        case TcpError::timed_out: return "timed_out";
        case TcpError::unreachable: return "unreachable";
        case TcpError::aborted: return "aborted";
    }
    return "unknown";
}

double process_cpu_seconds() noexcept {
    rusage usage{};
    if (getrusage(RUSAGE_SELF, &usage) != 0) return 0.0;
    const auto seconds = [](const timeval& tv) {
        return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6;
    };
    return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

void add_tcp_info(nlohmann::json& report, const TcpInfo& info) {
    report["retransmits"] = info.retransmits;
    report["rto_count"] = info.rto_count;
    report["fast_retransmits"] = info.fast_retransmits;
    report["sack_recoveries"] = info.sack_recoveries;
}

void write_json_report(const std::string& path, const nlohmann::json& report) {
    // Written aside and renamed, so a reader (a bench script) never sees half a file.
    const std::string partial = path + ".partial";
    {
        std::ofstream out(partial);
        out << report.dump(2) << "\n";
        if (!out) throw std::runtime_error("cannot write report " + partial);
    }
    if (std::rename(partial.c_str(), path.c_str()) != 0) {
        throw std::runtime_error("cannot write report " + path);
    }
}

bool report_logged(spdlog::logger& log, std::string_view who, const std::function<void()>& write) {
    try {
        write();
        return true;
    } catch (const std::exception& e) {
        log.error("{}: {}", who, e.what());
        return false;
    }
}

std::string connect_failure(const TcpStream& failed, const TcpEndpoint& remote) {
    const std::string detail = failed.detail().empty() ? "" : " (" + failed.detail() + ")";
    return "connect to " + remote.address.to_string() + ":" + std::to_string(remote.port) + ": " +
           std::string(to_string(failed.status())) + detail;
}

}  // namespace netloom::apps
