// Shared by the parser tests (parser_test.cpp, parser_errors_test.cpp): sample scripts invented
// for these tests, and small helpers to parse text and dig into the result.
#pragma once

#include <catch2/catch.hpp>

#include <stdexcept>
#include <string_view>
#include <variant>

#include "drill/parser.hpp"

namespace netloom::drill::test {

inline Script parse(std::string_view text, const ParseOptions& options = {}) {
    return parse_script(text, "t.pkt", options);
}

// The ScriptError `text` gives; fails the test if it parses.
inline ScriptError error_of(std::string_view text, const ParseOptions& options = {}) {
    try {
        parse_script(text, "t.pkt", options);
    } catch (const ScriptError& e) {
        return e;
    }
    FAIL("parsed without error: " << text);
    throw std::logic_error("unreachable");
}

inline const TcpSegmentSpec& tcp_of(const Event& e) {
    return std::get<TcpSegmentSpec>(std::get<PacketEvent>(e.body).body);
}
inline const SyscallEvent& call_of(const Event& e) {
    return std::get<SyscallEvent>(e.body);
}

// Passive open with timestamps and data.
inline const char* const kSamplePassive = R"(// passive open, invented values
--tolerance_usecs=20000
--ip_version=ipv4
//! config: {tcp: {sack: true}}
`echo init`
0     socket(..., SOCK_STREAM, IPPROTO_TCP) = 5
+0    setsockopt(5, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0
+0    bind(5, ..., ...) = 0
+0    listen(5, 3) = 0
+0.05 < S 7000:7000(0) win 16000 <mss 1380,sackOK,TS val 555 ecr 0,nop,wscale 6>
+0    > S. 0:0(0) ack 7001 <mss 1460,sackOK,TS val 100 ecr 555,nop,wscale 7>
+0.02 < . 1:1(0) ack 1 win 250 <nop,nop,TS val 556 ecr 100>
+0    accept(5, ..., ...) = 6
+0.1  < P. 1:201(200) ack 1 win 250 <nop,nop,TS val 600 ecr 100>
*     > . 1:1(0) ack 201 <...>
+0    read(6, ..., 1000) = 200
+0.3  close(6) = 0
`echo cleanup`
)";

// Active open, non-blocking connect, ICMP, a time range, a code block.
inline const char* const kSampleActive = R"(--tolerance_usecs=5000
0.000 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
0.000 fcntl(3, F_GETFL) = 0x2 (flags O_RDWR)
0.000 fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0
0.010 connect(3, ..., ...) = -1 EINPROGRESS (Operation now in progress)
0.010 > S 0:0(0) <mss 1460,sackOK,eol,eol>
0.020 < S. 90000:90000(0) ack 1 win 5000 <mss 1200>
0.020 > . 1:1(0) ack 1
0.030 getsockopt(3, SOL_SOCKET, SO_ERROR, [0], [4]) = 0
0.040 < icmp unreachable frag_needed mtu 1100 [1:1(0)]
0.050 write(3, ..., 1500) = 1500
0.050~0.070 > P. 1:1161(1160) ack 1
+0.1 %{ assert tcpi_state == TCPI_ESTABLISHED }%
)";

// Every system call expression form.
inline const char* const kSampleExpressions = R"(0 socket(..., SOCK_DGRAM, IPPROTO_UDP) = 3
+0 setsockopt(3, SOL_SOCKET, SO_LINGER, {onoff=1, linger=0}, 8) = 0
+0 sendmsg(3, {msg_name(...)=..., msg_iov(1)=[{..., 40}], msg_flags=0}, 0) = 40
+0 writev(3, [{..., 10}, {..., 20}], 2) = 30
+0 poll([{fd=3, events=POLLIN|POLLOUT, revents=POLLOUT}], 1, 0) = 1
+0 bind(3, {sa_family=AF_INET, sin_port=htons(8080), sin_addr=inet_addr("192.0.2.7")}, 16) = 0
+0 setsockopt(3, IPPROTO_TCP, TCP_CONGESTION, "cu" "bic\t\x41\101", 7) = 0
+0 recv(3, "abc"..., 10, MSG_PEEK) = -1 EAGAIN
+0 open(NULL) = -1
+0 > udp (40)
+0 < (tos 0x28) udp 5000>6000 (12)
+0.5...1.5 accept (3, ..., ...) = 4
+1 frobnicate() = 0
)";

// BSD fork constructs: #ifdef, TCP-in-UDP, IPINFO words, `...(LEN)`, `seq!`, `ecr N!`.
inline const char* const kSampleBsd = R"(--ip_version=ipv6
--udp_encapsulation=tcp
0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
#ifdef FreeBSD
+0 setsockopt(3, IPPROTO_TCP, TCP_REMOTE_UDP_ENCAPS_PORT, [9811], 4) = 0
#endif
+0 bind(3, ..., ...) = 0
+0 listen(3, 1) = 0
+0.1 < [ect0] S 500:500(0) win 65535 <mss 1400,nop,wscale 4,sackOK,TS val 77 ecr 0> /udp(9811 > 1)
+0 > (class 0x20, hlim 64) S. 0:0(0) ack 501 win 65535 <mss 1432,nop,wscale 6,sackOK,TS val ... ecr 77!> /udp(1 > 9811)
+0.01 < . 1:1(0) ack 1 win 1000 /udp(9811 > 1)
+0 accept(3, ..., ...) = 4
+0.2 > F. ...(0) ack 1 win 1000
+0 < R 1:1(0)! win 0
)";

inline const char* const kSamples[] = {kSamplePassive, kSampleActive, kSampleExpressions,
                                       kSampleBsd};

}  // namespace netloom::drill::test
