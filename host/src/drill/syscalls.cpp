// System call events (reference §5-§7): arguments evaluated with Linux's numbers, the call made
// on the target, the result and errno checked. fds in scripts are labels (§6): the number after
// `=` in socket/accept names the real fd from then on.
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <functional>

#include "drill/interpreter_impl.hpp"
#include "drill/symbols.hpp"

namespace netloom::drill {

std::string seconds_text(std::int64_t usecs);

namespace {

bool is_ellipsis(const Expression& e) {
    return e.kind == Expression::Kind::ellipsis;
}

const Expression* field_named(const Expression& e, const std::string& name) {
    for (const auto& f : e.fields)
        if (f.name == name) return &f.value;
    return nullptr;
}

}  // namespace

std::int64_t Interpreter::integer(const Event& event, const Expression& e) const {
    switch (e.kind) {
        case Expression::Kind::integer: return e.value;
        case Expression::Kind::symbol: {
            auto v = lookup_symbol(e.text);
            if (!v) throw ScriptInvalid{event.at.line, "unknown symbol: '" + e.text + "'"};
            return *v;
        }
        case Expression::Kind::bit_or: {
            std::int64_t v = 0;
            for (const auto& part : e.elements) v |= integer(event, part);
            return v;
        }
        case Expression::Kind::list:
            if (e.elements.size() == 1) return integer(event, e.elements[0]);
            break;
        case Expression::Kind::call:
            if ((e.text == "htons" || e.text == "htonl") && e.elements.size() == 1)
                return integer(event, e.elements[0]);
            break;
        default: break;
    }
    throw ScriptInvalid{event.at.line, "expected an integer expression"};
}

int Interpreter::fd_of(const Event& event, const Expression& e) const {
    const std::int64_t label = integer(event, e);
    auto it = fds_.find(label);
    // An fd the script never opened is passed through: the call then fails with EBADF, as the
    // script may well expect.
    return it == fds_.end() ? static_cast<int>(label > 1'000'000 ? -1 : label + 1'000'000)
                            : it->second;
}

namespace {
// Total bytes of an iovec list `[{..., 100}, {..., 200}]`.
std::size_t iov_total(const Interpreter&, const Expression& list,
                      const std::function<std::int64_t(const Expression&)>& eval) {
    std::size_t total = 0;
    for (const auto& element : list.elements) {
        if (element.kind != Expression::Kind::structure || element.fields.empty()) continue;
        const Expression* len = field_named(element, "iov_len");
        if (!len) len = &element.fields.back().value;
        total += static_cast<std::size_t>(eval(*len));
    }
    return total;
}
}  // namespace

CallResult Interpreter::dispatch(const Event& event, const SyscallEvent& call) {
    const auto& a = call.arguments;
    auto need = [&](std::size_t n) {
        if (a.size() < n)
            throw ScriptInvalid{event.at.line, call.name + ": expected at least " +
                                                   std::to_string(n) + " arguments"};
    };
    auto eval = [&](const Expression& e) { return integer(event, e); };
    const std::string& n = call.name;
    if (n == "socket") {
        need(3);
        const int domain = is_ellipsis(a[0]) ? AF_INET : static_cast<int>(eval(a[0]));
        return target_.socket(domain, static_cast<int>(eval(a[1])), static_cast<int>(eval(a[2])));
    }
    if (n == "bind") {
        need(1);
        return target_.bind(fd_of(event, a[0]));
    }
    if (n == "listen") {
        need(2);
        const int fd = fd_of(event, a[0]);
        if (under_test_ && fds_.count(*under_test_) && fds_.at(*under_test_) == fd)
            state_ = TestState::listening;
        return target_.listen(fd, static_cast<int>(eval(a[1])));
    }
    if (n == "accept" || n == "accept4") {
        need(1);
        return target_.accept(fd_of(event, a[0]));
    }
    if (n == "connect") {
        need(2);
        bool unspec = false;
        if (a[1].kind == Expression::Kind::integer || a[1].kind == Expression::Kind::symbol) {
            unspec = eval(a[1]) == AF_UNSPEC;
        } else if (a[1].kind == Expression::Kind::structure) {
            const Expression* family = field_named(a[1], "sa_family");
            unspec = family && eval(*family) == AF_UNSPEC;
        }
        const bool on_test_socket =
            under_test_ && fds_.count(*under_test_) && fds_.at(*under_test_) == fd_of(event, a[0]);
        if (!unspec && on_test_socket &&
            (state_ == TestState::init || state_ == TestState::listening)) {
            state_ = TestState::active_connecting;
            local_port_ = 0;  // learned from the SYN the stack is about to send
            remote_port_ = settings_.connect_port;
        }
        return target_.connect(fd_of(event, a[0]), unspec);
    }
    // The target supplies the buffer (zero bytes out, any bytes in): a script that names one,
    // such as NULL to provoke EFAULT, asks for something it cannot express.
    auto own_buffer = [&] {
        if (!is_ellipsis(a[1]))
            throw ScriptUnsupported{event.at.line, n + " with a buffer other than ..."};
    };
    if (n == "read" || n == "recv" || n == "recvfrom") {
        need(3);
        own_buffer();
        const int flags = n == "read" || a.size() < 4 ? 0 : static_cast<int>(eval(a[3]));
        return target_.recv(fd_of(event, a[0]), static_cast<std::size_t>(eval(a[2])), flags);
    }
    if (n == "write" || n == "send" || n == "sendto") {
        need(3);
        own_buffer();
        const int flags = n == "write" || a.size() < 4 ? 0 : static_cast<int>(eval(a[3]));
        if (n == "sendto" && a.size() >= 5 && !is_ellipsis(a[4]) &&
            a[4].kind != Expression::Kind::integer)
            throw ScriptUnsupported{event.at.line, "sendto with an address (TCP Fast Open)"};
        if (flags & MSG_FASTOPEN)
            throw ScriptUnsupported{event.at.line, "MSG_FASTOPEN (TCP Fast Open)"};
        return target_.send(fd_of(event, a[0]), static_cast<std::size_t>(eval(a[2])), flags);
    }
    if (n == "readv" || n == "writev") {
        need(3);
        if (a[1].kind != Expression::Kind::list)
            throw ScriptInvalid{event.at.line, n + ": the second argument must be an iovec list"};
        if (static_cast<std::size_t>(eval(a[2])) != a[1].elements.size())
            throw ScriptInvalid{event.at.line, n + ": the count must equal the number of iovecs"};
        const std::size_t total = iov_total(*this, a[1], eval);
        return n == "readv" ? target_.recv(fd_of(event, a[0]), total, 0)
                            : target_.send(fd_of(event, a[0]), total, 0);
    }
    if (n == "recvmsg" || n == "sendmsg") {
        need(3);
        const Expression* iov = field_named(a[1], "msg_iov");
        if (!iov || iov->kind != Expression::Kind::list)
            throw ScriptInvalid{event.at.line, n + ": expected {msg_iov(N)=[...], ...}"};
        if (field_named(a[1], "msg_control"))
            throw ScriptUnsupported{event.at.line, n + " with control messages"};
        const std::size_t total = iov_total(*this, *iov, eval);
        const int flags = static_cast<int>(eval(a[2]));
        // The target sends one contiguous buffer. With MSG_ZEROCOPY the kernel maps each iovec
        // into fragments of its own, so their number shapes the segments; without it the bytes
        // are copied and the layout does not matter.
        if (n == "sendmsg" && (flags & MSG_ZEROCOPY) && iov->elements.size() > 1)
            throw ScriptUnsupported{event.at.line, "sendmsg with MSG_ZEROCOPY over " +
                                                       std::to_string(iov->elements.size()) +
                                                       " iovecs (the target sends one buffer)"};
        return n == "recvmsg" ? target_.recv(fd_of(event, a[0]), total, flags)
                              : target_.send(fd_of(event, a[0]), total, flags);
    }
    if (n == "shutdown") {
        need(2);
        return target_.shutdown(fd_of(event, a[0]), static_cast<int>(eval(a[1])));
    }
    if (n == "close") {
        need(1);
        return target_.close(fd_of(event, a[0]));
    }
    if (n == "getsockopt") {
        need(4);
        OptionValue value;
        CallResult r = target_.getsockopt(fd_of(event, a[0]), static_cast<int>(eval(a[1])),
                                          static_cast<int>(eval(a[2])), value);
        if (!r.unsupported.empty() || r.value < 0) return r;
        const Expression& want = a[3];
        const Expression* item = want.kind == Expression::Kind::list && want.elements.size() == 1
                                     ? &want.elements[0]
                                     : &want;
        if (is_ellipsis(*item)) return r;
        if (item->kind == Expression::Kind::structure) {
            // struct linger {onoff, linger}: two ints as Linux lays them out.
            const Expression* onoff = field_named(*item, "onoff");
            const Expression* linger = field_named(*item, "linger");
            if (!onoff || !linger || value.bytes.size() < 8)
                throw ScriptUnsupported{event.at.line, "getsockopt with this structure"};
            int got[2];
            std::memcpy(got, value.bytes.data(), sizeof got);
            if (got[0] != eval(*onoff) || got[1] != eval(*linger)) {
                throw ScriptFailure{
                    event.at.line,
                    "Bad getsockopt optval: expected: {onoff=" + std::to_string(eval(*onoff)) +
                        ", linger=" + std::to_string(eval(*linger)) + "} actual: {onoff=" +
                        std::to_string(got[0]) + ", linger=" + std::to_string(got[1]) + "}"};
            }
            return r;
        }
        if (item->kind == Expression::Kind::string) {
            std::string got(value.bytes.begin(), value.bytes.end());
            if (auto nul = got.find('\0'); nul != std::string::npos) got.resize(nul);
            if (got != item->text)
                throw ScriptFailure{event.at.line, "Bad getsockopt optval: expected: \"" +
                                                       item->text + "\" actual: \"" + got + "\""};
            return r;
        }
        const std::int64_t expected = eval(*item);
        if (!value.is_int)
            throw ScriptUnsupported{event.at.line, "getsockopt value of this option as an integer"};
        // An int option is 32 bits: the script may write it unsigned (tcp_notsent_lowat's
        // default 4294967295 comes back as -1), as upstream compares the int's bytes.
        const bool same = value.bytes.size() == 4 ? static_cast<std::uint32_t>(value.integer) ==
                                                        static_cast<std::uint32_t>(expected)
                                                  : value.integer == expected;
        if (!same) {
            std::string got = std::to_string(value.integer);
            if (item->kind == Expression::Kind::symbol && item->text.size() > 1 &&
                item->text[0] == 'E') {
                const std::string name = errno_name(static_cast<int>(value.integer));
                if (!name.empty()) got += " (" + name + ")";
            }
            const std::string message =
                "Bad getsockopt optval: expected: " + std::to_string(expected) + " actual: " + got;
            if (settings_.non_fatal_syscall) {
                warnings.push_back(std::to_string(event.at.line) + ": " + message);
                return r;
            }
            throw ScriptFailure{event.at.line, message};
        }
        return r;
    }
    if (n == "setsockopt") {
        need(4);
        OptionValue value;
        const Expression& v = a[3];
        const Expression* item =
            v.kind == Expression::Kind::list && v.elements.size() == 1 ? &v.elements[0] : &v;
        if (item->kind == Expression::Kind::structure) {
            const Expression* onoff = field_named(*item, "onoff");
            const Expression* linger = field_named(*item, "linger");
            if (!onoff || !linger)
                throw ScriptUnsupported{event.at.line, "setsockopt with this structure"};
            const int words[2] = {static_cast<int>(eval(*onoff)), static_cast<int>(eval(*linger))};
            value.is_int = false;
            value.bytes.resize(sizeof words);
            std::memcpy(value.bytes.data(), words, sizeof words);
        } else if (item->kind == Expression::Kind::string) {
            value.is_int = false;
            value.bytes.assign(item->text.begin(), item->text.end());
        } else {
            value.integer = eval(*item);
        }
        return target_.setsockopt(fd_of(event, a[0]), static_cast<int>(eval(a[1])),
                                  static_cast<int>(eval(a[2])), value);
    }
    if (n == "fcntl") {
        need(2);
        return target_.fcntl(fd_of(event, a[0]), static_cast<int>(eval(a[1])),
                             a.size() > 2 ? eval(a[2]) : 0);
    }
    if (n == "ioctl") {
        need(2);
        std::int64_t value = 0;
        CallResult r =
            target_.ioctl(fd_of(event, a[0]), static_cast<unsigned long>(eval(a[1])), value);
        if (r.unsupported.empty() && r.value >= 0 && a.size() > 2 && !is_ellipsis(a[2])) {
            const std::int64_t expected = eval(a[2]);
            if (expected != value)
                throw ScriptFailure{event.at.line,
                                    "Bad ioctl optval: expected: " + std::to_string(expected) +
                                        " actual: " + std::to_string(value)};
        }
        return r;
    }
    if (n == "poll") {
        need(3);
        if (a[0].kind != Expression::Kind::list)
            throw ScriptInvalid{event.at.line, "poll: the first argument must be a list"};
        std::vector<PollEntry> entries;
        std::vector<std::int64_t> expected_revents;
        for (const auto& e : a[0].elements) {
            const Expression* fd = field_named(e, "fd");
            const Expression* events = field_named(e, "events");
            const Expression* revents = field_named(e, "revents");
            if (!fd || !events)
                throw ScriptInvalid{event.at.line,
                                    "poll: expected {fd=N, events=..., revents=...}"};
            entries.push_back({fd_of(event, *fd), static_cast<short>(eval(*events)), 0});
            expected_revents.push_back(revents ? eval(*revents) : -1);
        }
        CallResult r = target_.poll(entries, static_cast<int>(eval(a[2])));
        if (r.unsupported.empty() && r.value >= 0) {
            for (std::size_t i = 0; i < entries.size(); ++i) {
                if (expected_revents[i] >= 0 && entries[i].revents != expected_revents[i])
                    throw ScriptFailure{event.at.line,
                                        "poll: revents of entry " + std::to_string(i + 1) +
                                            ": expected: " + std::to_string(expected_revents[i]) +
                                            " actual: " + std::to_string(entries[i].revents)};
            }
        }
        return r;
    }
    throw ScriptUnsupported{event.at.line, "system call " + n};
}

void Interpreter::check_result(const Event& event, const SyscallEvent& call,
                               const CallResult& result) {
    if (is_ellipsis(call.result)) return;
    const std::int64_t expected = integer(event, call.result);
    const bool labels = call.name == "socket" || call.name == "accept" || call.name == "accept4";
    std::string message;
    if (labels && expected >= 0 && result.value >= 0) {
        // Label -> real fd (§6). The newest socket (or accepted child) is the one under test.
        fds_[expected] = static_cast<int>(result.value);
        if (call.name == "socket") {
            // packetdrill: the newest socket is the one under test, starting afresh (a passive
            // child made by a SYN stays under test through accept()).
            under_test_ = expected;
            state_ = TestState::init;
            remote_port_ = settings_.remote_port;
        } else {
            under_test_ = expected;  // the accepted child: the connection already under test
        }
    } else if (result.value != expected) {
        message = "Expected result " + std::to_string(expected) + " but got " +
                  std::to_string(result.value);
        if (result.value < 0)
            message += " with errno " + std::to_string(result.error) + " (" +
                       errno_text(result.error) + ")";
    }
    if (message.empty() && call.errno_name) {
        auto want = lookup_symbol(*call.errno_name);
        if (!want) throw ScriptInvalid{event.at.line, "unknown errno: '" + *call.errno_name + "'"};
        if (result.value < 0 && result.error != *want) {
            message = "Expected errno " + std::to_string(*want) + " (" +
                      errno_text(static_cast<int>(*want)) + ") but got " +
                      std::to_string(result.error) + " (" + errno_text(result.error) + ")";
        }
    }
    if (message.empty()) {
        if (call.name == "close" && result.value == 0) {
            for (auto it = fds_.begin(); it != fds_.end(); ++it) {
                if (it->first == integer(event, call.arguments[0])) {
                    fds_.erase(it);
                    break;
                }
            }
        }
        return;
    }
    message = "runtime error in " + call.name + " call: " + message;
    if (settings_.non_fatal_syscall) {
        warnings.push_back(std::to_string(event.at.line) + ": " + message);
        return;
    }
    throw ScriptFailure{event.at.line, message};
}

void Interpreter::syscall(const Event& event, const SyscallEvent& call, const Timing& timing) {
    if (event.time.blocking_end)
        throw ScriptUnsupported{event.at.line, "blocking system calls with START...END times"};
    wait_for(event, timing, "system call");
    CallResult result = dispatch(event, call);
    if (!result.unsupported.empty()) throw ScriptUnsupported{event.at.line, result.unsupported};
    check_result(event, call, result);
    previous_end_ = script_now();
}

}  // namespace netloom::drill
