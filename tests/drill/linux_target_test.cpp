// The Linux kernel target of `netloom drill`: its sandbox (namespace, TUN, quiet wire, teardown),
// the wire (inject, capture with timestamps) and the socket calls, against the real kernel.
// Every case needs root and skips without it.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <dirent.h>
#include <linux/sockios.h>
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "../wire/wire_test_support.hpp"
#include "drill/linux_target.hpp"
#include "netloom/wire/ipv4.hpp"
#include "netloom/wire/tcp.hpp"
#include "skip.hpp"

using namespace netloom::drill;
using namespace netloom::wire;

namespace {

constexpr std::uint8_t kEstablished = 1, kSynSent = 2, kSynRecv = 3, kTimeWait = 6, kClose = 7,
                       kListen = 10;
constexpr std::uint16_t kPeerPort = 40000;
constexpr std::int64_t kMicrosecondsPerSecond = 1'000'000;

const Ipv4Address kLocalAddress(192, 168, 0, 1);
const Ipv4Address kRemoteAddress(192, 0, 2, 1);

bool is_root() {
    return ::geteuid() == 0;
}

/// A datagram from the script's peer (remote_ip:kPeerPort) to local_ip:8080 by default, built the
/// way the interpreter builds inbound lines: TTL 255, ID 0, no DF, correct checksums.
std::vector<std::uint8_t> inbound(std::uint8_t flags, std::uint32_t seq, std::uint32_t ack,
                                  const TcpOptions& options = {},
                                  std::uint16_t source_port = kPeerPort,
                                  std::uint16_t destination_port = 8080) {
    TcpRepr tcp;
    tcp.source_port = source_port;
    tcp.destination_port = destination_port;
    tcp.sequence_number = seq;
    tcp.acknowledgment_number = ack;
    tcp.flags = flags;
    tcp.window = 65535;
    tcp.options = options;
    Ipv4Repr ip;
    ip.source = kRemoteAddress;
    ip.destination = kLocalAddress;
    ip.payload_length = static_cast<std::uint16_t>(tcp.buffer_len());
    ip.ttl = 255;
    ip.dont_fragment = false;
    std::vector<std::uint8_t> datagram(Ipv4Repr::header_len() + tcp.buffer_len());
    REQUIRE(ip.emit(datagram, wire_test::checksum()));
    REQUIRE(tcp.emit(std::span(datagram).subspan(Ipv4Repr::header_len()), kRemoteAddress,
                     kLocalAddress, wire_test::checksum()) == tcp.buffer_len());
    return datagram;
}

/// A captured datagram taken apart; the spans point into `packet`.
struct Segment {
    CapturedPacket packet;
    Ipv4Repr ip;
    TcpRepr tcp;
};

/// The next outbound datagram within `wait_us`, which must be a well-formed TCP segment whose
/// checksums are final (no offload left them to a device).
std::optional<Segment> next_segment(Target& target, std::int64_t wait_us = kMicrosecondsPerSecond) {
    auto packet = target.next_packet(target.now_us() + wait_us);
    if (!packet) return std::nullopt;
    Segment segment{std::move(*packet), {}, {}};
    const auto view = Ipv4View::parse(segment.packet.datagram);
    REQUIRE(view.ok());
    CHECK(view->verify_checksum(wire_test::checksum()));
    REQUIRE(view->protocol() == IpProtocol::tcp);
    const auto tcp_view = TcpView::parse(view->payload());
    REQUIRE(tcp_view.ok());
    CHECK(tcp_view->verify_checksum(wire_test::checksum(), view->source(), view->destination()));
    const auto ip = Ipv4Repr::parse(*view);
    const auto tcp = TcpRepr::parse(*tcp_view);
    REQUIRE(ip.ok());
    REQUIRE(tcp.ok());
    segment.ip = *ip;
    segment.tcp = *tcp;
    return segment;
}

int open_socket(Target& target) {
    const CallResult fd = target.socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    REQUIRE(fd.unsupported.empty());
    REQUIRE(fd.value >= 0);
    return static_cast<int>(fd.value);
}

/// Inode of the calling thread's network namespace.
ino_t namespace_inode() {
    struct stat info {};
    return ::stat("/proc/thread-self/ns/net", &info) == 0 ? info.st_ino : 0;
}

/// Whether any thread of any process is in the namespace with this inode.
bool namespace_in_use(ino_t inode) {
    DIR* processes = ::opendir("/proc");
    if (processes == nullptr) return false;
    bool found = false;
    while (const dirent* process = ::readdir(processes)) {
        const std::string task_dir = std::string("/proc/") + process->d_name + "/task";
        DIR* tasks = ::opendir(task_dir.c_str());
        if (tasks == nullptr) continue;
        while (const dirent* task = ::readdir(tasks)) {
            struct stat info {};
            const std::string link = task_dir + "/" + task->d_name + "/ns/net";
            if (::stat(link.c_str(), &info) == 0 && info.st_ino == inode) found = true;
        }
        ::closedir(tasks);
    }
    ::closedir(processes);
    return found;
}

}  // namespace

TEST_CASE("linux target: passive open gets a SYN-ACK acking the SYN, with the MTU's MSS",
          "[drill][linux]") {
    if (!is_root()) NETLOOM_SKIP(root, "the linux target needs root");
    TargetOptions options;
    options.mtu = 1400;
    auto target = make_linux_target(options);
    CHECK(target->name() == "linux");

    const int listener = open_socket(*target);
    CHECK(target->bind(listener).value == 0);
    CHECK(target->listen(listener, 1).value == 0);
    CHECK(target->count_connections(kListen) == 1u);
    CHECK(target->count_connections(kSynRecv) == 0u);

    TcpOptions syn_options;
    syn_options.mss = 1300;
    syn_options.sack_permitted = true;
    const std::int64_t sent_at = target->now_us();
    target->inject(inbound(tcp_flag::syn, 1000, 0, syn_options));
    const auto syn_ack = next_segment(*target);
    REQUIRE(syn_ack);
    CHECK(syn_ack->packet.at_us >= sent_at);
    CHECK(syn_ack->packet.at_us <= target->now_us());
    CHECK(syn_ack->ip.source == kLocalAddress);
    CHECK(syn_ack->ip.destination == kRemoteAddress);
    CHECK(syn_ack->tcp.source_port == 8080);
    CHECK(syn_ack->tcp.destination_port == kPeerPort);
    CHECK(syn_ack->tcp.flags == (tcp_flag::syn | tcp_flag::ack));
    CHECK(syn_ack->tcp.acknowledgment_number == 1001);
    CHECK(syn_ack->tcp.options.mss == 1360);  // MTU 1400 - 20 (IPv4) - 20 (TCP)
    CHECK(syn_ack->tcp.options.sack_permitted);
    CHECK(target->count_connections(kSynRecv) == 1u);

    target->inject(inbound(tcp_flag::ack, 1001, syn_ack->tcp.sequence_number + 1));
    const CallResult accepted = target->accept(listener);
    REQUIRE(accepted.value >= 0);
    const auto info = target->tcp_info(static_cast<int>(accepted.value));
    REQUIRE(info);
    CHECK(info->state == kEstablished);
    CHECK((info->options & 2) != 0);  // TCPI_OPT_SACK
    CHECK(info->snd_mss == 1300);
    CHECK(target->count_connections(kEstablished) == 1u);
    OptionValue algorithm;
    algorithm.is_int = false;
    algorithm.bytes.resize(16);
    CHECK(
        target->getsockopt(static_cast<int>(accepted.value), IPPROTO_TCP, TCP_CONGESTION, algorithm)
            .value == 0);
    CHECK(std::string(algorithm.bytes.begin(), algorithm.bytes.end()).c_str() ==
          std::string("cubic"));  // the stock kernel's, whatever the host's default

    // Active close: FIN, the peer's FIN-ACK, the last ACK, and the socket is in TIME_WAIT.
    CHECK(target->close(static_cast<int>(accepted.value)).value == 0);
    CHECK(target->close(static_cast<int>(accepted.value)).error == EBADF);
    const auto fin = next_segment(*target);
    REQUIRE(fin);
    CHECK(fin->tcp.flags == (tcp_flag::fin | tcp_flag::ack));
    target->inject(inbound(tcp_flag::fin | tcp_flag::ack, 1001, fin->tcp.sequence_number + 1));
    const auto last_ack = next_segment(*target);
    REQUIRE(last_ack);
    CHECK(last_ack->tcp.flags == tcp_flag::ack);
    CHECK(last_ack->tcp.acknowledgment_number == 1002);
    CHECK(target->count_connections(kTimeWait) == 1u);
    CHECK(target->count_connections(kEstablished) == 0u);
}

TEST_CASE("linux target: packets are captured while a blocking call waits in another thread",
          "[drill][linux]") {
    if (!is_root()) NETLOOM_SKIP(root, "the linux target needs root");
    // A 5 s limit: whatever fails, the connect thread returns before the future is destroyed.
    auto target = make_linux_target(TargetOptions{}, 5 * kMicrosecondsPerSecond);
    const int fd = open_socket(*target);  // blocking
    std::future<CallResult> connected =
        std::async(std::launch::async, [&] { return target->connect(fd, false); });
    const auto syn = next_segment(*target);
    REQUIRE(syn);
    CHECK(syn->tcp.flags == tcp_flag::syn);
    target->run_until(syn->packet.at_us + 100'000);
    CHECK(connected.wait_for(std::chrono::seconds(0)) == std::future_status::timeout);

    const std::int64_t answered_at = target->now_us();
    TcpOptions options;
    options.mss = 1000;
    target->inject(inbound(tcp_flag::syn | tcp_flag::ack, 5000, syn->tcp.sequence_number + 1,
                           options, 8080, syn->tcp.source_port));
    const CallResult result = connected.get();
    CHECK(result.value == 0);
    const auto ack = next_segment(*target);
    REQUIRE(ack);
    CHECK(ack->tcp.flags == tcp_flag::ack);
    CHECK(ack->tcp.acknowledgment_number == 5001);
    CHECK(ack->packet.at_us >= answered_at);
    CHECK(syn->packet.at_us < answered_at - 100'000);
}

TEST_CASE("linux target: a thread outside its namespace cannot reach the host through it",
          "[drill][linux]") {
    if (!is_root()) NETLOOM_SKIP(root, "the linux target needs root");
    // The thread exists before the target, so it stays in the original namespace.
    std::unique_ptr<Target> target;
    std::promise<void> go;
    struct Release {  // the thread must never wait forever, whatever fails below
        std::promise<void>& go;
        bool done = false;
        void now() {
            if (!done) go.set_value();
            done = true;
        }
        ~Release() { now(); }
    } release{go};
    auto outside = std::async(std::launch::async, [&target, ready = go.get_future()] {
        ready.wait();
        if (!target) return std::make_tuple(std::string(), std::string(), true);
        return std::make_tuple(target->socket(AF_INET, SOCK_STREAM, 0).unsupported,
                               target->set_sysctl("tcp_sack", "0"),
                               target->count_connections(kListen).has_value());
    });
    target = make_linux_target(TargetOptions{});
    release.now();
    const auto [socket_refusal, sysctl_refusal, counted] = outside.get();
    CHECK(socket_refusal == "socket() from a thread outside the namespace");
    CHECK(sysctl_refusal == "set_sysctl from a thread outside the namespace");
    CHECK_FALSE(counted);
}

TEST_CASE("linux target: a non-blocking connect gives EINPROGRESS and its SYN is captured",
          "[drill][linux]") {
    if (!is_root()) NETLOOM_SKIP(root, "the linux target needs root");
    auto target = make_linux_target(TargetOptions{});
    const int fd = open_socket(*target);
    CHECK(target->fcntl(fd, F_GETFL, 0).value == O_RDWR);
    CHECK(target->fcntl(fd, F_SETFL, O_RDWR | O_NONBLOCK).value == 0);

    const CallResult connected = target->connect(fd, false);
    CHECK(connected.value == -1);
    CHECK(connected.error == EINPROGRESS);
    const auto syn = next_segment(*target);
    REQUIRE(syn);
    CHECK(syn->ip.source == kLocalAddress);
    CHECK(syn->ip.destination == kRemoteAddress);
    CHECK(syn->tcp.destination_port == 8080);
    CHECK(syn->tcp.flags == tcp_flag::syn);
    CHECK(syn->tcp.acknowledgment_number == 0);
    CHECK(syn->tcp.options.mss == 1460);
    CHECK(syn->tcp.options.sack_permitted);
    CHECK(syn->tcp.options.timestamps.has_value());
    CHECK(syn->tcp.options.window_scale == 7);  // tcp_rmem[2] pinned to 6 MiB
    const auto info = target->tcp_info(fd);
    REQUIRE(info);
    CHECK(info->state == kSynSent);

    OptionValue error;
    CHECK(target->getsockopt(fd, SOL_SOCKET, SO_ERROR, error).value == 0);
    CHECK(error.integer == 0);
    CHECK(error.bytes.size() == sizeof(int));
}

TEST_CASE("linux target: set_sysctl tcp_sack=0 takes SACK-permitted out of the SYN",
          "[drill][linux]") {
    if (!is_root()) NETLOOM_SKIP(root, "the linux target needs root");
    auto target = make_linux_target(TargetOptions{});
    CHECK(target->set_sysctl("tcp_sack", "0") == "");
    CHECK(target->set_sysctl("tcp_no_such_setting", "1").find("no such setting") !=
          std::string::npos);
    CHECK_FALSE(target->set_sysctl("../../kernel/hostname", "x").empty());
    CHECK_FALSE(target->set_sysctl("tcp_sack", "1\nx").empty());

    const int fd = open_socket(*target);
    CHECK(target->fcntl(fd, F_SETFL, O_RDWR | O_NONBLOCK).value == 0);
    CHECK(target->connect(fd, false).error == EINPROGRESS);
    const auto syn = next_segment(*target);
    REQUIRE(syn);
    CHECK(syn->tcp.flags == tcp_flag::syn);
    CHECK_FALSE(syn->tcp.options.sack_permitted);
    CHECK(syn->tcp.options.mss == 1460);
}

TEST_CASE("linux target: the wire is quiet and run_until lets real time pass", "[drill][linux]") {
    if (!is_root()) NETLOOM_SKIP(root, "the linux target needs root");
    const auto thread = static_cast<id_t>(::syscall(SYS_gettid));
    const int nice_before = ::getpriority(PRIO_PROCESS, thread);
    const int policy_before = ::sched_getscheduler(0);
    auto target = make_linux_target(TargetOptions{});
    // The interpreter wakes on time: real-time round robin as upstream packetdrill (root may).
    CHECK(::sched_getscheduler(0) == SCHED_RR);
    // ... and the capture thread above it, so that no interpreter delays a datagram's stamp.
    sched_param own{};
    REQUIRE(::sched_getparam(0, &own) == 0);
    int capture_threads = 0;
    if (DIR* tasks = ::opendir("/proc/self/task")) {
        while (const dirent* entry = ::readdir(tasks)) {
            const pid_t tid = static_cast<pid_t>(std::atoi(entry->d_name));
            sched_param other{};
            if (tid <= 0 || tid == static_cast<pid_t>(thread) ||
                ::sched_getscheduler(tid) != SCHED_FIFO || ::sched_getparam(tid, &other) != 0)
                continue;
            CHECK(other.sched_priority > own.sched_priority);
            ++capture_threads;
        }
        ::closedir(tasks);
    }
    CHECK(capture_threads == 1);
    // No IPv6 router solicitation, MLD report or anything else appears by itself.
    const std::int64_t until = target->now_us() + 1'200'000;
    CHECK_FALSE(target->next_packet(until).has_value());
    CHECK(target->now_us() >= until);
    target->run_until(until + 50'000);
    CHECK(target->now_us() >= until + 50'000);
    target.reset();
    CHECK(::getpriority(PRIO_PROCESS, thread) == nice_before);
    CHECK(::sched_getscheduler(0) == policy_before);
}

TEST_CASE("linux target: fds it did not open are refused, options and ioctls reach the kernel",
          "[drill][linux]") {
    if (!is_root()) NETLOOM_SKIP(root, "the linux target needs root");
    auto target = make_linux_target(TargetOptions{});
    CHECK(target->close(0).error == EBADF);  // never the process's own stdin
    CHECK(target->socket(AF_UNIX, SOCK_STREAM, 0).unsupported == "socket domain 1");

    const int fd = open_socket(*target);
    CHECK(target->count_connections(kClose) == 1u);  // not hashed: counted through TCP_INFO
    OptionValue one;
    one.integer = 1;
    CHECK(target->setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, one).value == 0);
    OptionValue reuse;
    CHECK(target->getsockopt(fd, SOL_SOCKET, SO_REUSEADDR, reuse).value == 0);
    CHECK(reuse.is_int);
    CHECK(reuse.integer == 1);
    OptionValue linger;  // struct linger {onoff, linger}: comes back as its 8 bytes
    linger.is_int = false;
    linger.bytes = {1, 0, 0, 0, 5, 0, 0, 0};
    CHECK(target->setsockopt(fd, SOL_SOCKET, SO_LINGER, linger).value == 0);
    OptionValue linger_now;
    CHECK(target->getsockopt(fd, SOL_SOCKET, SO_LINGER, linger_now).value == 0);
    CHECK_FALSE(linger_now.is_int);
    CHECK(linger_now.bytes == linger.bytes);
    OptionValue bad_level;
    CHECK(target->getsockopt(fd, 12345, 1, bad_level).value == -1);

    std::int64_t queued = -1;
    CHECK(target->ioctl(fd, SIOCINQ, queued).value == 0);
    CHECK(queued == 0);
    CHECK(target->ioctl(fd, 0x1234, queued).unsupported == "ioctl request 4660");

    std::vector<PollEntry> entries{{fd, POLLOUT, 0}, {0, POLLIN, 0}};
    const CallResult polled = target->poll(entries, 1000);
    CHECK(polled.value == 2);
    CHECK(entries[0].revents == (POLLOUT | POLLHUP));  // a fresh TCP socket: not connected
    CHECK(entries[1].revents == POLLNVAL);
    CHECK(target->fcntl(fd, F_DUPFD, 0).unsupported == "fcntl command 0");
}

TEST_CASE("linux target: a blocking call that never completes gives up at the limit",
          "[drill][linux]") {
    if (!is_root()) NETLOOM_SKIP(root, "the linux target needs root");
    auto target = make_linux_target(TargetOptions{}, 200'000);
    const int listener = open_socket(*target);
    CHECK(target->bind(listener).value == 0);
    CHECK(target->listen(listener, 1).value == 0);
    const std::int64_t start = target->now_us();
    const CallResult accepted = target->accept(listener);
    CHECK(accepted.unsupported == "blocking call never completes");
    CHECK(target->now_us() - start >= 200'000);
}

TEST_CASE("linux target: the namespace and its TUN go away with the target", "[drill][linux]") {
    if (!is_root()) NETLOOM_SKIP(root, "the linux target needs root");
    struct Report {
        ino_t before = 0, inside = 0, after = 0;
        unsigned index_inside = 0, index_after = 0;
        bool failed = false;
    };
    int channel[2];
    REQUIRE(::pipe(channel) == 0);
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {  // the interpreter's per-script child, in miniature
        ::close(channel[0]);
        Report report;
        report.before = namespace_inode();
        try {
            auto target = make_linux_target(TargetOptions{});
            report.inside = namespace_inode();
            report.index_inside = ::if_nametoindex("drill0");
            (void)target->socket(AF_INET, SOCK_STREAM, 0);  // left open on purpose
        } catch (...) {
            report.failed = true;
        }
        report.after = namespace_inode();
        report.index_after = ::if_nametoindex("drill0");
        (void)!::write(channel[1], &report, sizeof report);
        ::_exit(0);
    }
    ::close(channel[1]);
    Report report;
    const ssize_t got = ::read(channel[0], &report, sizeof report);
    ::close(channel[0]);
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    REQUIRE(got == static_cast<ssize_t>(sizeof report));
    REQUIRE_FALSE(report.failed);
    CHECK(report.before == namespace_inode());
    CHECK(report.inside != report.before);
    CHECK(report.index_inside != 0);
    CHECK(report.after == report.before);  // the destructor moved the thread back
    CHECK(report.index_after == 0);
    CHECK(::if_nametoindex("drill0") == 0);
    CHECK_FALSE(namespace_in_use(report.inside));
}

TEST_CASE("linux target: a datagram's time is when it left the kernel, not when it was taken",
          "[drill][linux]") {
    if (!is_root()) NETLOOM_SKIP(root, "the linux target needs root");
    auto target = make_linux_target(TargetOptions{});
    const int listener = open_socket(*target);
    CHECK(target->bind(listener).value == 0);
    CHECK(target->listen(listener, 16).value == 0);
    std::vector<std::int64_t> delays;
    for (std::uint16_t i = 0; i < 5; ++i) {
        const std::int64_t sent_at = target->now_us();
        target->inject(inbound(tcp_flag::syn, 1000, 0, {}, static_cast<std::uint16_t>(20000 + i)));
        target->run_until(sent_at + 30'000);  // taken 30 ms after the SYN-ACK left
        const auto syn_ack = next_segment(*target);
        REQUIRE(syn_ack);
        CHECK(syn_ack->tcp.destination_port == 20000 + i);
        delays.push_back(syn_ack->packet.at_us - sent_at);
    }
    std::sort(delays.begin(), delays.end());
    CHECK(delays.front() >= 0);
    CHECK(delays[delays.size() / 2] < 5'000);  // the median: robust to one scheduling hiccup
}
