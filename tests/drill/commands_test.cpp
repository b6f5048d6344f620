// Backquoted commands and %{ }% blocks are read as data, never run (drill/commands.hpp).
#include <catch2/catch.hpp>

#include <stdexcept>

#include "drill/commands.hpp"

using netloom::drill::CommandAction;
using netloom::drill::plan_code;
using netloom::drill::plan_command;

TEST_CASE("sysctl -w with Linux names becomes target settings") {
    auto a = plan_command("sysctl -w net.ipv4.tcp_sack=0; sysctl -w net.ipv4.tcp_timestamps=1");
    REQUIRE(a.size() == 2);
    CHECK(a[0].kind == CommandAction::Kind::sysctl);
    CHECK(a[0].name == "tcp_sack");
    CHECK(a[0].value == "0");
    CHECK(a[1].name == "tcp_timestamps");
    auto q = plan_command("sysctl -w net.ipv4.tcp_rmem=\"4096 131072 6291456\"");
    REQUIRE(q.size() == 1);
    CHECK(q[0].value == "4096 131072 6291456");
}

TEST_CASE("sysctl writes NAME=VALUE with -q, -w, both or neither, as procps does") {
    auto a = plan_command(
        "sysctl -q net.ipv4.tcp_ecn=2\nsysctl net.ipv4.tcp_sack=0\n"
        "sysctl -qw net.ipv4.tcp_fastopen=0x1");
    REQUIRE(a.size() == 3);
    CHECK(a[0].name == "tcp_ecn");
    CHECK(a[0].value == "2");
    CHECK(a[1].name == "tcp_sack");
    CHECK(a[2].value == "0x1");
    CHECK(plan_command("sysctl -q -w net.ipv4.tcp_rmem=\"1 2 3\"")[0].value == "1 2 3");
    CHECK_THROWS_AS(plan_command("sysctl -q net.ipv4.tcp_sack"), std::invalid_argument);
    CHECK_THROWS_AS(plan_command("sysctl -p /etc/x.conf"), std::invalid_argument);
    CHECK_THROWS_AS(plan_command("sysctl -n net.ipv4.tcp_sack=1"), std::invalid_argument);
}

TEST_CASE("FreeBSD sysctls are mapped or accepted at their default") {
    auto a = plan_command("sysctl -w net.inet.tcp.rfc1323=0 && sysctl -w net.inet.tcp.blackhole=0");
    REQUIRE(a.size() == 2);
    CHECK(a[0].name == "tcp_timestamps");
    CHECK(a[0].value == "0");
    CHECK(a[1].name == "tcp_window_scaling");
    CHECK_THROWS_AS(plan_command("sysctl -w net.inet.tcp.blackhole=2"), std::invalid_argument);
    CHECK_THROWS_AS(plan_command("sysctl -w kern.unknown=1"), std::invalid_argument);
}

TEST_CASE("sockstat counting assertions are understood") {
    auto a = plan_command(
        "sockstat -4 -P tcp -p 8080 -s | grep packetdril | grep -c TIME_WAIT | grep 1");
    REQUIRE(a.size() == 1);
    CHECK(a[0].kind == CommandAction::Kind::count_state);
    CHECK(a[0].linux_state == 6);
    CHECK(a[0].expected_count == 1);
}

TEST_CASE("any other command is refused, never run") {
    CHECK_THROWS_AS(plan_command("rm -rf /tmp/x"), std::invalid_argument);
    CHECK_THROWS_AS(plan_command("sysctl -w net.ipv4.tcp_sack=0; touch /tmp/pwned"),
                    std::invalid_argument);
    CHECK_THROWS_AS(plan_command("sysctl net.ipv4.tcp_sack"), std::invalid_argument);
    CHECK_THROWS_AS(plan_command("$(reboot)"), std::invalid_argument);
}

TEST_CASE("code blocks: tcpi_state and tcpi_options assertions only") {
    auto a = plan_code("assert tcpi_state == TCPI_ESTABLISHED, \"state\"");
    REQUIRE(a.size() == 1);
    CHECK(a[0].expected == 1);
    auto b = plan_code(
        "assert tcpi_options == (TCPI_OPT_SACK | TCPI_OPT_TIMESTAMPS)\n"
        "assert tcpi_state == TCPI_TIME_WAIT");
    REQUIRE(b.size() == 2);
    CHECK(b[0].expected == 3);
    CHECK(b[1].expected == 6);
    CHECK(plan_code("assert tcpi_options == 0")[0].expected == 0);
    CHECK_THROWS_AS(plan_code("import os; os.system('id')"), std::invalid_argument);
    CHECK_THROWS_AS(plan_code("assert tcpi_rtt < 5"), std::invalid_argument);
}
