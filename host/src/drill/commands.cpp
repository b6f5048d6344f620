// Backquoted commands and %{ }% blocks, read as data (commands.hpp), and their events.
#include "drill/commands.hpp"

#include <algorithm>
#include <map>
#include <sstream>
#include <stdexcept>

#include "drill/interpreter_impl.hpp"

namespace netloom::drill {
namespace {

std::string trim(const std::string& s) {
    const auto b = s.find_first_not_of(" \t\r\n");
    if (b == std::string::npos) return "";
    return s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
}

std::vector<std::string> words(const std::string& s) {
    std::istringstream in(s);
    std::vector<std::string> out;
    for (std::string w; in >> w;) out.push_back(w);
    return out;
}

// Linux tcp_states.h numbering, by the names sockstat (FreeBSD) and ss/netstat print.
const std::map<std::string, std::uint8_t>& state_names() {
    static const std::map<std::string, std::uint8_t> names = {
        {"ESTABLISHED", 1}, {"ESTAB", 1},      {"SYN_SENT", 2},  {"SYN_RCVD", 3},
        {"SYN_RECV", 3},    {"FIN_WAIT_1", 4}, {"FIN_WAIT1", 4}, {"FIN_WAIT_2", 5},
        {"FIN_WAIT2", 5},   {"TIME_WAIT", 6},  {"CLOSED", 7},    {"CLOSE_WAIT", 8},
        {"LAST_ACK", 9},    {"LISTEN", 10},    {"CLOSING", 11},
    };
    return names;
}

// FreeBSD sysctls of the common corpora: mapped to a Linux name, or accepted at their default.
struct BsdSysctl {
    const char* name;
    const char* linux_name;  // nullptr: no equivalent
    const char* accepted;    // with no equivalent: the values that change nothing here
};
constexpr BsdSysctl kBsd[] = {
    {"net.inet.tcp.sack.enable", "tcp_sack", nullptr},
    {"net.inet.tcp.syncookies", "tcp_syncookies", nullptr},
    {"net.inet.tcp.ecn.enable", "tcp_ecn", nullptr},
    {"net.inet.tcp.keepinit", nullptr, "75000"},
    {"net.inet.tcp.hostcache.purgenow", nullptr, "*"},
    {"net.inet.tcp.blackhole", nullptr, "0"},
    {"net.inet.tcp.insecure_rst", nullptr, "0"},
    {"net.inet.tcp.insecure_syn", nullptr, "0"},
    {"net.inet.tcp.drop_synfin", nullptr, "0"},
    {"net.inet.tcp.fastopen.client_enable", nullptr, "0"},
    {"net.inet.tcp.fastopen.server_enable", nullptr, "0"},
    {"kern.ipc.maxsockbuf", nullptr, "*"},
    {"net.inet.tcp.icmp_may_rst", nullptr, "1"},
    {"net.inet.tcp.udp_tunneling_port", nullptr, "0"},
    {"net.inet.tcp.udp_tunneling_overhead", nullptr, "*"},
};

void plan_sysctl(const std::vector<std::string>& w, std::vector<CommandAction>& out) {
    // procps sysctl writes every NAME=VALUE argument with or without -w; -q only silences the
    // echo of the new value. Other options (-n, -a, -p FILE, -e...) read or change semantics.
    std::size_t i = 1;
    for (; i < w.size() && w[i].size() > 1 && w[i][0] == '-'; ++i) {
        if (w[i].find_first_not_of("wq", 1) != std::string::npos)
            throw std::invalid_argument("sysctl option " + w[i] + " (only -w and -q)");
    }
    if (i >= w.size()) throw std::invalid_argument("sysctl without NAME=VALUE");
    for (; i < w.size(); ++i) {
        const auto eq = w[i].find('=');
        if (eq == std::string::npos)
            throw std::invalid_argument(
                "sysctl reads a value (only NAME=VALUE writes are supported)");
        std::string name = w[i].substr(0, eq);
        std::string value = w[i].substr(eq + 1);
        // sysctl -w net.ipv4.tcp_rmem="4096 87380 6291456" arrives split by the shell's rules;
        // take the quoted words back together.
        if (!value.empty() && value.front() == '"') {
            while (value.back() != '"' && i + 1 < w.size()) value += " " + w[++i];
            if (value.size() < 2 || value.back() != '"')
                throw std::invalid_argument("unterminated quote in sysctl value");
            value = value.substr(1, value.size() - 2);
        }
        std::replace(name.begin(), name.end(), '/', '.');
        if (name.rfind("net.ipv4.", 0) == 0) {
            out.push_back({CommandAction::Kind::sysctl, name.substr(9), value, 0, 0});
            continue;
        }
        if (name == "net.inet.tcp.rfc1323") {  // FreeBSD: 1 both, 0 neither (2/3: one of them)
            const bool ts = value == "1" || value == "3";
            const bool ws = value == "1" || value == "2";
            out.push_back({CommandAction::Kind::sysctl, "tcp_timestamps", ts ? "1" : "0", 0, 0});
            out.push_back(
                {CommandAction::Kind::sysctl, "tcp_window_scaling", ws ? "1" : "0", 0, 0});
            continue;
        }
        bool known = false;
        for (const BsdSysctl& b : kBsd) {
            if (name != b.name) continue;
            known = true;
            if (b.linux_name) {
                out.push_back({CommandAction::Kind::sysctl, b.linux_name, value, 0, 0});
            } else if (std::string(b.accepted) != "*" && value != b.accepted) {
                throw std::invalid_argument("sysctl " + name + "=" + value +
                                            " (no netloom equivalent)");
            }
        }
        if (!known) throw std::invalid_argument("sysctl " + name);
    }
}

// `sockstat -4 -P tcp [-p 8080] [-s] [| grep packetdril] | grep -c STATE | grep N`
void plan_sockstat(const std::string& text, std::vector<CommandAction>& out) {
    std::vector<std::string> stages;
    std::string stage;
    std::istringstream in(text);
    while (std::getline(in, stage, '|')) stages.push_back(trim(stage));
    std::optional<std::uint8_t> state;
    std::optional<std::size_t> count;
    for (std::size_t s = 1; s < stages.size(); ++s) {
        auto w = words(stages[s]);
        if (w.size() == 3 && w[0] == "grep" && w[1] == "-c") {
            auto it = state_names().find(w[2]);
            if (it == state_names().end()) throw std::invalid_argument("sockstat state " + w[2]);
            state = it->second;
        } else if (w.size() == 2 && w[0] == "grep" && state &&
                   w[1].find_first_not_of("0123456789") == std::string::npos && !w[1].empty()) {
            count = std::stoul(w[1]);
        } else if (w.size() == 2 && w[0] == "grep" && !state) {
            continue;  // a filter on the process name: every connection here is the script's
        } else {
            throw std::invalid_argument("command stage '" + stages[s] + "'");
        }
    }
    if (!state || !count) throw std::invalid_argument("sockstat without grep -c STATE | grep N");
    out.push_back({CommandAction::Kind::count_state, "", "", *state, *count});
}

}  // namespace

std::vector<CommandAction> plan_command(const std::string& text) {
    std::vector<CommandAction> out;
    std::string rest = text;
    for (char& c : rest)
        if (c == '\n') c = ';';
    // Split at ';' and '&&' (a failing part fails the whole command either way).
    std::vector<std::string> parts;
    std::size_t start = 0;
    for (std::size_t i = 0; i <= rest.size(); ++i) {
        if (i == rest.size() || rest[i] == ';' ||
            (rest[i] == '&' && i + 1 < rest.size() && rest[i + 1] == '&')) {
            parts.push_back(trim(rest.substr(start, i - start)));
            if (i < rest.size() && rest[i] == '&') ++i;
            start = i + 1;
        }
    }
    for (const auto& part : parts) {
        if (part.empty()) continue;
        auto w = words(part);
        if (w[0] == "sysctl" && part.find('|') == std::string::npos) {
            plan_sysctl(w, out);
        } else if (w[0] == "sockstat") {
            plan_sockstat(part, out);
        } else if (w[0] == "true" || w[0] == ":") {
            continue;
        } else {
            throw std::invalid_argument("shell command '" + part + "'");
        }
    }
    return out;
}

std::vector<CodeAssertion> plan_code(const std::string& code) {
    static const std::map<std::string, std::int64_t> constants = {
        {"TCPI_ESTABLISHED", 1},
        {"TCPI_SYN_SENT", 2},
        {"TCPI_SYN_RECEIVED", 3},
        {"TCPI_SYN_RECV", 3},
        {"TCPI_FIN_WAIT_1", 4},
        {"TCPI_FIN_WAIT1", 4},
        {"TCPI_FIN_WAIT_2", 5},
        {"TCPI_FIN_WAIT2", 5},
        {"TCPI_TIME_WAIT", 6},
        {"TCPI_CLOSED", 7},
        {"TCPI_CLOSE", 7},
        {"TCPI_CLOSE_WAIT", 8},
        {"TCPI_LAST_ACK", 9},
        {"TCPI_LISTEN", 10},
        {"TCPI_CLOSING", 11},
        {"TCPI_OPT_TIMESTAMPS", 1},
        {"TCPI_OPT_SACK", 2},
        {"TCPI_OPT_WSCALE", 4},
        {"TCPI_OPT_ECN", 8},
        // Linux's own names (tcp_states.h), which upstream packetdrill's Python also defines.
        {"TCP_ESTABLISHED", 1},
        {"TCP_SYN_SENT", 2},
        {"TCP_SYN_RECV", 3},
        {"TCP_FIN_WAIT1", 4},
        {"TCP_FIN_WAIT2", 5},
        {"TCP_TIME_WAIT", 6},
        {"TCP_CLOSE", 7},
        {"TCP_CLOSE_WAIT", 8},
        {"TCP_LAST_ACK", 9},
        {"TCP_LISTEN", 10},
        {"TCP_CLOSING", 11},
    };
    std::vector<CodeAssertion> out;
    std::istringstream in(code);
    for (std::string line; std::getline(in, line);) {
        line = trim(line);
        if (line.empty() || line[0] == '#') continue;
        if (auto comma = line.find(','); comma != std::string::npos)
            line = trim(line.substr(0, comma));
        auto w = words(line);
        if (w.size() < 4 || w[0] != "assert" || w[2] != "==")
            throw std::invalid_argument("Python code '" + line + "'");
        CodeAssertion a;
        a.text = line;
        if (w[1] == "tcpi_state") {
            a.field = CodeAssertion::Field::state;
        } else if (w[1] == "tcpi_options") {
            a.field = CodeAssertion::Field::options;
        } else {
            throw std::invalid_argument("Python code reading " + w[1]);
        }
        std::string expr;
        for (std::size_t i = 3; i < w.size(); ++i) expr += w[i];
        std::int64_t value = 0;
        std::string token;
        auto flush = [&] {
            if (token.empty()) return;
            if (auto it = constants.find(token); it != constants.end()) {
                value |= it->second;
            } else if (token.find_first_not_of("0123456789") == std::string::npos) {
                value |= std::stoll(token);
            } else {
                throw std::invalid_argument("Python name " + token);
            }
            token.clear();
        };
        for (char c : expr) {
            if (c == '(' || c == ')' || c == '|') {
                flush();
            } else {
                token += c;
            }
        }
        flush();
        a.expected = value;
        out.push_back(a);
    }
    return out;
}

// ---- events -----------------------------------------------------------------------------------

void Interpreter::command(const Event& event, const std::string& text, bool cleanup) {
    std::vector<CommandAction> actions;
    try {
        actions = plan_command(text);
    } catch (const std::invalid_argument& e) {
        throw ScriptUnsupported{event.at.line, e.what()};
    }
    for (const auto& action : actions) {
        if (action.kind == CommandAction::Kind::sysctl) {
            const std::string why = target_.set_sysctl(action.name, action.value);
            if (!why.empty() && !cleanup)
                throw ScriptUnsupported{event.at.line,
                                        "sysctl " + action.name + "=" + action.value + ": " + why};
        } else if (action.kind == CommandAction::Kind::count_state) {
            auto count = target_.count_connections(action.linux_state);
            if (!count) throw ScriptUnsupported{event.at.line, "counting connections by state"};
            if (*count != action.expected_count) {
                throw ScriptFailure{event.at.line,
                                    "error executing `" + text + "` command: non-zero status 1 (" +
                                        std::to_string(*count) + " connections in that state, " +
                                        "expected " + std::to_string(action.expected_count) + ")"};
            }
        }
    }
}

void Interpreter::code_block(const Event& event, const CodeEvent& code) {
    Snapshot s{event.at.line, code.code, std::nullopt};
    if (under_test_) {
        if (auto it = fds_.find(*under_test_); it != fds_.end())
            s.info = target_.tcp_info(it->second);
    }
    snapshots_.push_back(std::move(s));
}

void Interpreter::evaluate_code_blocks() {
    for (const auto& s : snapshots_) {
        auto asserts = plan_code(s.code);  // checked before the script started
        if (!s.info) throw ScriptFailure{s.line, "no socket under test for TCP_INFO"};
        for (const auto& a : asserts) {
            const std::int64_t actual =
                a.field == CodeAssertion::Field::state ? s.info->state : s.info->options;
            if (actual != a.expected) {
                throw ScriptFailure{s.line, "error in Python code: AssertionError: " + a.text +
                                                " (actual " + std::to_string(actual) + ")"};
            }
        }
    }
}

}  // namespace netloom::drill
