// The packetdrill script parser (host/src/drill/parser.hpp), construct by construct: each group
// of the language reference parsed into the model with its values as written (lexer tokens too).
// Malformed and hostile input is in parser_errors_test.cpp.
#include <catch2/catch.hpp>

#include <map>
#include <string>
#include <vector>

#include "drill/lexer.hpp"
#include "drill/parser.hpp"
#include "parser_samples.hpp"

using namespace netloom::drill;
using namespace netloom::drill::test;

TEST_CASE("lexer: token kinds, values and locations") {
    using K = Token::Kind;
    const std::map<std::string, std::string> none;
    const std::string text =
        "0x1F -5 .5 -0.25 5. 3rd 192.0.2.1 2001:db8::1 ::1 fd3d:fa7b:d17d::1 1:10\n"
        "99999999999999999999 0xfffffffffffffffff --ip_version=ipv4-mapped-ipv6 --define=A=\"x "
        "y\"\n"
        "... %{ x = 1 }% \"\\x41\\101\\n\" `a\nb` --flag # ~";
    Lexer lexer(text, "l.pkt", none);
    std::vector<Token> tokens;
    for (Token t = lexer.next(); t.kind != K::end; t = lexer.next()) tokens.push_back(t);
    REQUIRE(tokens.size() == 25);
    CHECK(tokens[0].kind == K::hex);
    CHECK(tokens[0].value == 31);
    CHECK(tokens[1].kind == K::integer);
    CHECK(tokens[1].value == -5);
    CHECK(tokens[2].kind == K::floating);
    CHECK(tokens[2].text == ".5");
    CHECK(tokens[3].kind == K::floating);
    CHECK(tokens[3].text == "-0.25");
    CHECK(tokens[4].kind == K::integer);  // "5." is 5 then '.'
    CHECK(tokens[5].is('.'));
    CHECK(!tokens[5].space_before);
    CHECK(tokens[6].kind == K::word);
    CHECK(tokens[6].text == "3rd");
    CHECK(tokens[7].kind == K::ipv4);
    CHECK(tokens[7].text == "192.0.2.1");
    CHECK(tokens[8].kind == K::ipv6);
    CHECK(tokens[8].text == "2001:db8::1");
    CHECK(tokens[9].kind == K::ipv6);
    CHECK(tokens[10].kind == K::ipv6);
    CHECK(tokens[11].kind == K::integer);  // 1:10 is not an address
    CHECK(tokens[12].is(':'));
    CHECK(tokens[13].value == 10);
    CHECK(tokens[14].kind == K::integer);
    CHECK(tokens[14].overflow);
    CHECK(tokens[14].at.line == 2);
    CHECK(tokens[14].at.column == 1);
    CHECK(tokens[15].kind == K::hex);
    CHECK(tokens[15].overflow);
    CHECK(tokens[16].kind == K::option);
    CHECK(tokens[16].text == "ip_version");
    CHECK(tokens[16].option_value == "ipv4-mapped-ipv6");
    CHECK(tokens[17].option_value == "A=\"x y\"");
    CHECK(tokens[18].kind == K::ellipsis);
    CHECK(tokens[18].at.line == 3);
    CHECK(tokens[19].kind == K::code);
    CHECK(tokens[19].text == "x = 1");
    CHECK(tokens[20].kind == K::string);
    CHECK(tokens[20].text == "AA\n");
    CHECK(tokens[21].kind == K::backquote);
    CHECK(tokens[21].text == "a\nb");
    CHECK(tokens[22].kind == K::option);
    CHECK(!tokens[22].has_value);
    CHECK(tokens[22].at.line == 4);
    CHECK(tokens[22].at.column == 4);
    CHECK(tokens[23].is('#'));
    CHECK(tokens[24].is('~'));
    CHECK(tokens[24].raw == "~");
    CHECK(describe_token(tokens[21]) == "`a...");
}

TEST_CASE("parser: file layout, options, init and cleanup commands, directives") {
    const Script s = parse(kSamplePassive);
    CHECK(s.path == "t.pkt");
    REQUIRE(s.options.size() == 2);
    CHECK(s.options[0].name == "tolerance_usecs");
    CHECK(s.options[0].value == "20000");
    CHECK(s.options[0].at.line == 2);
    CHECK(s.options[0].at.column == 1);
    CHECK(s.options[1].name == "ip_version");
    CHECK(s.options[1].value == "ipv4");
    REQUIRE(s.directives.size() == 1);
    CHECK(s.directives[0].name == "config");
    CHECK(s.directives[0].argument == "{tcp: {sack: true}}");
    CHECK(s.directives[0].at.line == 4);
    CHECK(s.init_command == "echo init");
    CHECK(s.cleanup_command == "echo cleanup");
    REQUIRE(s.events.size() == 12);
    CHECK(s.events[0].at.line == 6);
    CHECK(s.events[0].at.column == 1);
    CHECK(s.events[0].source == "0     socket(..., SOCK_STREAM, IPPROTO_TCP) = 5");
    CHECK(s.events[4].source ==
          "+0.05 < S 7000:7000(0) win 16000 <mss 1380,sackOK,TS val 555 ecr 0,nop,wscale 6>");

    // A flag option, a quoted value, directives anywhere, an option after an event refused.
    const Script t = parse(
        "--verbose --tcp_md5_secret=\"a b\"\n//! diverges linux:  why \n"
        "0 close(3) = 0 //! config: x\n");
    REQUIRE(t.options.size() == 2);
    CHECK(t.options[0].name == "verbose");
    CHECK(t.options[0].value.empty());
    CHECK(t.options[1].value == "a b");
    REQUIRE(t.directives.size() == 2);
    CHECK(t.directives[0].name == "diverges linux");
    CHECK(t.directives[0].argument == "why");
    CHECK(t.directives[1].name == "config");
    CHECK(!t.init_command);
    CHECK(!t.cleanup_command);
    CHECK(t.events[0].source == "0 close(3) = 0");
}

TEST_CASE("parser: comments, and # is not a comment") {
    const Script s = parse(
        "/* a\n block */ 0 close(3) /* inline */ = 0 // trailing\n"
        "+1 close(4) = 0 /* x */\n");
    REQUIRE(s.events.size() == 2);
    CHECK(s.events[1].at.line == 3);
    CHECK(call_of(s.events[0]).result.value == 0);
    const ScriptError e = error_of("0 close(3) = 0 # not a comment\n");
    CHECK(e.kind() == ScriptError::Kind::syntax);
    CHECK(e.at().line == 1);
    CHECK(e.at().column == 16);
    CHECK(e.message() ==
          "parse error at '#': syntax error (expected an event time (0, +0.1, *, "
          "T1~T2))");
}

TEST_CASE("parser: event times") {
    const Script s = parse(
        "0 a() = 0\n+0.1 b() = 0\n+ .25 c() = 0\n1.5 d() = 0\n"
        "* > . 1:1(0) ack 1\n2~3.5 > . 1:1(0)\n+0.1~+0.2 > . 1:1(0)\n"
        "+0.5...1.5 accept(3, ..., ...) = 4\n4...4.0000015 read(4, ..., 1) = 1\n");
    REQUIRE(s.events.size() == 9);
    CHECK(s.events[0].time.start.kind == TimeSpec::Kind::absolute);
    CHECK(s.events[0].time.start.usecs == 0);
    CHECK(s.events[1].time.start.kind == TimeSpec::Kind::relative);
    CHECK(s.events[1].time.start.usecs == 100000);
    CHECK(s.events[2].time.start.usecs == 250000);
    CHECK(s.events[3].time.start.kind == TimeSpec::Kind::absolute);
    CHECK(s.events[3].time.start.usecs == 1500000);
    CHECK(s.events[4].time.start.kind == TimeSpec::Kind::any);
    CHECK(s.events[5].time.start.kind == TimeSpec::Kind::absolute);
    CHECK(s.events[5].time.start.usecs == 2000000);
    CHECK(s.events[5].time.start.range_end_usecs == 3500000);
    CHECK(s.events[6].time.start.kind == TimeSpec::Kind::relative);
    CHECK(s.events[6].time.start.range_end_usecs == 200000);
    const EventTime& blocking = s.events[7].time;
    CHECK(blocking.start.kind == TimeSpec::Kind::relative);
    CHECK(blocking.start.usecs == 500000);
    REQUIRE(blocking.blocking_end);
    CHECK(blocking.blocking_end->kind == TimeSpec::Kind::relative);
    CHECK(blocking.blocking_end->usecs == 1500000);
    CHECK(call_of(s.events[7]).name == "accept");
    CHECK(s.events[8].time.blocking_end->kind == TimeSpec::Kind::absolute);
    CHECK(s.events[8].time.blocking_end->usecs == 4000002);  // rounded half up below 1 us
    CHECK(parse("0.000 a() = 0\n+0 b() = 0").events.size() == 2);
    CHECK(parse("+0 a() = 0\n").events[0].time.start.kind == TimeSpec::Kind::relative);
}

TEST_CASE("parser: system calls and every expression form") {
    const Script s = parse(kSampleExpressions);
    REQUIRE(s.events.size() == 13);
    const SyscallEvent& socket = call_of(s.events[0]);
    CHECK(socket.name == "socket");
    REQUIRE(socket.arguments.size() == 3);
    CHECK(socket.arguments[0].kind == Expression::Kind::ellipsis);
    CHECK(socket.arguments[1].kind == Expression::Kind::symbol);
    CHECK(socket.arguments[1].text == "SOCK_DGRAM");
    CHECK(socket.arguments[1].at.column == 15);
    CHECK(socket.result.kind == Expression::Kind::integer);
    CHECK(socket.result.value == 3);
    CHECK(!socket.errno_name);

    const Expression& linger = call_of(s.events[1]).arguments[3];
    REQUIRE(linger.kind == Expression::Kind::structure);
    REQUIRE(linger.fields.size() == 2);
    CHECK(linger.fields[0].name == "onoff");
    CHECK(linger.fields[0].value.value == 1);
    CHECK(linger.fields[1].name == "linger");

    const Expression& msg = call_of(s.events[2]).arguments[1];
    REQUIRE(msg.fields.size() == 3);
    CHECK(msg.fields[0].name == "msg_name");
    CHECK(!msg.fields[0].name_argument);
    CHECK(msg.fields[0].value.kind == Expression::Kind::ellipsis);
    CHECK(msg.fields[1].name == "msg_iov");
    CHECK(msg.fields[1].name_argument == 1);
    REQUIRE(msg.fields[1].value.kind == Expression::Kind::list);
    const Expression& iov = msg.fields[1].value.elements.at(0);
    REQUIRE(iov.fields.size() == 2);
    CHECK(iov.fields[0].name.empty());
    CHECK(iov.fields[0].value.kind == Expression::Kind::ellipsis);
    CHECK(iov.fields[1].value.value == 40);

    const Expression& vec = call_of(s.events[3]).arguments[1];
    CHECK(vec.elements.size() == 2);
    CHECK(vec.elements[1].fields[1].value.value == 20);

    const Expression& pollfd = call_of(s.events[4]).arguments[0].elements.at(0);
    REQUIRE(pollfd.fields.size() == 3);
    const Expression& events = pollfd.fields[1].value;
    REQUIRE(events.kind == Expression::Kind::bit_or);
    REQUIRE(events.elements.size() == 2);
    CHECK(events.elements[1].text == "POLLOUT");

    const Expression& sockaddr = call_of(s.events[5]).arguments[1];
    REQUIRE(sockaddr.fields.size() == 3);
    const Expression& port = sockaddr.fields[1].value;
    CHECK(port.kind == Expression::Kind::call);
    CHECK(port.text == "htons");
    CHECK(port.elements.at(0).value == 8080);
    const Expression& addr = sockaddr.fields[2].value;
    CHECK(addr.text == "inet_addr");
    CHECK(addr.elements.at(0).kind == Expression::Kind::string);
    CHECK(addr.elements.at(0).text == "192.0.2.7");

    const Expression& cc = call_of(s.events[6]).arguments[3];
    CHECK(cc.kind == Expression::Kind::string);
    CHECK(cc.text == "cubic\tAA");
    CHECK(!cc.ellipsis_after);

    const SyscallEvent& recv = call_of(s.events[7]);
    CHECK(recv.arguments[1].text == "abc");
    CHECK(recv.arguments[1].ellipsis_after);
    CHECK(recv.result.value == -1);
    CHECK(recv.errno_name == "EAGAIN");
    CHECK(recv.note.empty());

    CHECK(call_of(s.events[8]).arguments.at(0).text == "NULL");
    CHECK(call_of(s.events[11]).name == "accept");
    CHECK(call_of(s.events[12]).name == "frobnicate");  // unknown calls: the interpreter decides
    CHECK(call_of(s.events[12]).arguments.empty());

    const Script a = parse(kSampleActive);
    const SyscallEvent& getfl = call_of(a.events[1]);
    CHECK(getfl.result.value == 2);
    CHECK(!getfl.errno_name);
    CHECK(getfl.note == "flags O_RDWR");
    const SyscallEvent& setfl = call_of(a.events[2]);
    CHECK(setfl.arguments[2].kind == Expression::Kind::bit_or);
    const SyscallEvent& connect = call_of(a.events[3]);
    CHECK(connect.result.value == -1);
    CHECK(connect.errno_name == "EINPROGRESS");
    CHECK(connect.note == "Operation now in progress");
    const SyscallEvent& getsockopt = call_of(a.events[7]);
    CHECK(getsockopt.arguments[3].elements.at(0).value == 0);
    CHECK(getsockopt.arguments[4].elements.at(0).value == 4);

    // Results as written: symbols, hex, bit or; a symbol result is not a call.
    const Script r = parse("0 f() = ECONNREFUSED (x)\n+0 g([]) = A|B\n+0 h({}) = 0xff\n");
    CHECK(call_of(r.events[0]).result.text == "ECONNREFUSED");
    CHECK(call_of(r.events[0]).note == "x");
    CHECK(call_of(r.events[1]).arguments[0].elements.empty());
    CHECK(call_of(r.events[1]).result.kind == Expression::Kind::bit_or);
    CHECK(call_of(r.events[2]).arguments[0].kind == Expression::Kind::structure);
    CHECK(call_of(r.events[2]).result.value == 255);
}

TEST_CASE("parser: TCP packet lines, flags, sequence forms, ack win urg, ports") {
    const Script s = parse(kSamplePassive);
    const auto& syn = std::get<PacketEvent>(s.events[4].body);
    CHECK(syn.direction == Direction::inbound);
    CHECK(syn.ip.empty());
    const TcpSegmentSpec& in = tcp_of(s.events[4]);
    CHECK(in.flags == "S");
    CHECK(in.seq_start == 7000);
    CHECK(in.seq_end == 7000);
    CHECK(in.length == 0);
    CHECK(!in.ack);
    CHECK(in.window == 16000);
    CHECK(!in.urgent);
    CHECK(!in.ports);
    const TcpSegmentSpec& out = tcp_of(s.events[5]);
    CHECK(std::get<PacketEvent>(s.events[5].body).direction == Direction::outbound);
    CHECK(out.flags == "S.");
    CHECK(out.ack == 7001);
    CHECK(!out.window);
    const TcpSegmentSpec& data = tcp_of(s.events[8]);
    CHECK(data.flags == "P.");
    CHECK(data.seq_end == 201);
    CHECK(data.length == 200);
    const TcpSegmentSpec& any = tcp_of(s.events[9]);
    CHECK(any.any_options);
    CHECK(!any.options);

    const Script t = parse(
        "0 > F . 1:1(0) ack 1\n+0 < - 5:5(0) win 9 urg 3\n"
        "+0 > SEW 0:0(0)\n+0 < 1234>8080 R. 4294967295:9(10) ack 4294967295 win 0\n"
        "+0 > S.5 0:0(0)\n+0 > .3 1:1(0)\n+0 > A 0:0(0) win 65535\n");
    CHECK(tcp_of(t.events[0]).flags == "F.");
    CHECK(!tcp_of(t.events[0]).options);
    CHECK(tcp_of(t.events[1]).flags == "-");
    CHECK(tcp_of(t.events[1]).urgent == 3);
    CHECK(tcp_of(t.events[2]).flags == "SEW");
    const TcpSegmentSpec& wrap = tcp_of(t.events[3]);
    CHECK(wrap.ports == std::pair<std::uint16_t, std::uint16_t>{1234, 8080});
    CHECK(wrap.seq_start == 4294967295u);
    CHECK(wrap.seq_end == 9);
    CHECK(wrap.length == 10);
    CHECK(wrap.ack == 4294967295u);
    CHECK(tcp_of(t.events[4]).flags == "S.5");
    CHECK(tcp_of(t.events[5]).flags == ".3");
    CHECK(tcp_of(t.events[6]).window == 65535);

    const Script b = parse(kSampleBsd);
    const TcpSegmentSpec& fin = tcp_of(b.events[7]);
    CHECK(fin.seq_any);
    CHECK(fin.length == 0);
    CHECK(tcp_of(b.events[8]).seq_absolute);
    CHECK(tcp_of(b.events[8]).flags == "R");
    CHECK(tcp_of(b.events[3]).udp_encapsulation ==
          std::pair<std::uint16_t, std::uint16_t>{9811, 1});
    CHECK(tcp_of(b.events[4]).udp_encapsulation ==
          std::pair<std::uint16_t, std::uint16_t>{1, 9811});
    CHECK(!tcp_of(b.events[5]).options);
}

TEST_CASE("parser: TCP options") {
    using K = TcpOptionSpec::Kind;
    const Script s = parse(
        "0 > S 0:0(0) <mss 1460,sackOK,TS val 4294967295 ecr 0,nop,wscale 14>\n"
        "+0 > . 1:1(0) <nop,nop,sack 1:2 3:4 4294967295:7>\n"
        "+0 > S 0:0(0) <FO 0102030405060708,nop,nop>\n"
        "+0 > S 0:0(0) <FO,nop,nop,FOEXP aabbccdd>\n"
        "+0 > S 0:0(0) <md5 000102030405060708090a0b0c0d0e0f,nop,nop>\n"
        "+0 > S 0:0(0) <md5 valid,eol,eol>\n"
        "+0 > S 0:0(0) <gen-30 0102,exp-F989 aabbccdd,exp-FO>\n"
        "+0 > S 0:0(0) <TS val ... ecr 9!,nop,nop>\n"
        "+0 > S 0:0(0) <0204ffff>\n");
    const auto& syn = *tcp_of(s.events[0]).options;
    REQUIRE(syn.size() == 5);
    CHECK(syn[0].kind == K::mss);
    CHECK(syn[0].value == 1460);
    CHECK(syn[1].kind == K::sack_permitted);
    CHECK(syn[2].kind == K::timestamp);
    CHECK(syn[2].ts_val == 4294967295u);
    CHECK(syn[2].ts_ecr == 0);
    CHECK(!syn[2].ts_val_any);
    CHECK(syn[3].kind == K::nop);
    CHECK(syn[4].kind == K::window_scale);
    CHECK(syn[4].value == 14);
    const auto& sack = tcp_of(s.events[1]).options->at(2);
    CHECK(sack.kind == K::sack);
    REQUIRE(sack.sack_blocks.size() == 3);
    CHECK(sack.sack_blocks[2] == std::pair<std::uint32_t, std::uint32_t>{4294967295u, 7});
    const auto& fo = tcp_of(s.events[2]).options->at(0);
    CHECK(fo.kind == K::fast_open);
    CHECK(fo.bytes == std::vector<std::uint8_t>{1, 2, 3, 4, 5, 6, 7, 8});
    const auto& fo2 = *tcp_of(s.events[3]).options;
    CHECK(fo2[0].bytes.empty());
    CHECK(fo2[3].kind == K::fast_open_exp);
    CHECK(fo2[3].bytes == std::vector<std::uint8_t>{0xaa, 0xbb, 0xcc, 0xdd});
    const auto& md5 = tcp_of(s.events[4]).options->at(0);
    CHECK(md5.kind == K::md5);
    CHECK(md5.bytes.size() == 16);
    CHECK(md5.bytes[15] == 15);
    CHECK(tcp_of(s.events[5]).options->at(0).md5_valid);
    CHECK(tcp_of(s.events[5]).options->at(1).kind == K::eol);
    const auto& gen = *tcp_of(s.events[6]).options;
    CHECK(gen[0].kind == K::generic);
    CHECK(gen[0].raw_kind == 30);
    CHECK(gen[0].bytes == std::vector<std::uint8_t>{1, 2});
    CHECK(gen[1].raw_kind == 254);
    CHECK(gen[1].bytes == std::vector<std::uint8_t>{0xf9, 0x89, 0xaa, 0xbb, 0xcc, 0xdd});
    CHECK(gen[2].kind == K::fast_open_exp);
    const auto& bsd_ts = tcp_of(s.events[7]).options->at(0);
    CHECK(bsd_ts.ts_val_any);
    CHECK(bsd_ts.ts_ecr == 9);
    CHECK(bsd_ts.ts_ecr_absolute);
    const auto& raw = tcp_of(s.events[8]).options->at(0);
    CHECK(raw.raw_kind == 2);
    CHECK(raw.bytes == std::vector<std::uint8_t>{0xff, 0xff});
}

TEST_CASE("parser: IPINFO, ICMP and UDP lines") {
    const Script b = parse(kSampleBsd);
    const auto& ect = std::get<PacketEvent>(b.events[3].body).ip;
    CHECK(ect.ecn == Ecn::ect0);
    CHECK(!ect.tos);
    const auto& cls = std::get<PacketEvent>(b.events[4].body).ip;
    CHECK(cls.tos == 0x20);
    CHECK(cls.ttl == 64);

    const Script s = parse(
        "0 < (tos 0x28) . 1:1(0) win 1\n+0 > (ttl 4, flowlabel 0x12345) . 1:1(0)\n"
        "+0 > [ect01] . 1:1(0)\n+0 > (dscp af41, ecn ce) . 1:1(0)\n"
        "+0 > (dscp voice-admit) . 1:1(0)\n+0 > [noecn] . 1:1(0)\n"
        "+0 > (dscp 10, ect1) . 1:1(0)\n");
    CHECK(std::get<PacketEvent>(s.events[0].body).ip.tos == 0x28);
    const auto& ttl = std::get<PacketEvent>(s.events[1].body).ip;
    CHECK(ttl.ttl == 4);
    CHECK(ttl.flow_label == 0x12345);
    CHECK(std::get<PacketEvent>(s.events[2].body).ip.ecn == Ecn::ect01);
    CHECK(std::get<PacketEvent>(s.events[3].body).ip.dscp == 34);
    CHECK(std::get<PacketEvent>(s.events[3].body).ip.ecn == Ecn::ce);
    CHECK(std::get<PacketEvent>(s.events[4].body).ip.dscp == 44);
    CHECK(std::get<PacketEvent>(s.events[5].body).ip.ecn == Ecn::noecn);
    CHECK(std::get<PacketEvent>(s.events[6].body).ip.dscp == 10);

    const Script a = parse(kSampleActive);
    const auto& icmp = std::get<IcmpSpec>(std::get<PacketEvent>(a.events[8].body).body);
    CHECK(icmp.type == "unreachable");
    CHECK(icmp.code == "frag_needed");
    CHECK(icmp.mtu == 1100);
    CHECK(!icmp.id);
    CHECK(icmp.echoed == IcmpSpec::Echoed::tcp);
    CHECK(icmp.echoed_start == 1);
    CHECK(icmp.echoed_end == 1);

    const Script i = parse(
        "0 < icmp type_3 code_4 mtu 1400 id 7 [udp(100)]\n+0 < icmp echo_reply\n"
        "+0 < icmp packet_too_big [raw(8)]\n"
        "+0 < icmp unreachable [5:105(100)/udp(9811 > 1)]\n");
    const auto& typed = std::get<IcmpSpec>(std::get<PacketEvent>(i.events[0].body).body);
    CHECK(typed.type == "type_3");
    CHECK(typed.code == "code_4");
    CHECK(typed.id == 7);
    CHECK(typed.echoed == IcmpSpec::Echoed::udp);
    CHECK(typed.echoed_length == 100);
    const auto& bare = std::get<IcmpSpec>(std::get<PacketEvent>(i.events[1].body).body);
    CHECK(bare.code.empty());
    CHECK(!bare.mtu);
    CHECK(bare.echoed_length == 0);
    CHECK(std::get<IcmpSpec>(std::get<PacketEvent>(i.events[2].body).body).echoed ==
          IcmpSpec::Echoed::raw);
    const auto& tunnelled = std::get<IcmpSpec>(std::get<PacketEvent>(i.events[3].body).body);
    CHECK(tunnelled.echoed_length == 100);
    CHECK(tunnelled.echoed_udp_encapsulation == std::pair<std::uint16_t, std::uint16_t>{9811, 1});

    const Script e = parse(kSampleExpressions);
    const auto& out = std::get<PacketEvent>(e.events[9].body);
    CHECK(out.direction == Direction::outbound);
    CHECK(std::get<UdpSpec>(out.body).length == 40);
    CHECK(!std::get<UdpSpec>(out.body).ports);
    const auto& in = std::get<PacketEvent>(e.events[10].body);
    CHECK(in.ip.tos == 0x28);
    CHECK(std::get<UdpSpec>(in.body).ports == std::pair<std::uint16_t, std::uint16_t>{5000, 6000});
}

TEST_CASE("parser: commands and code blocks, multi-line") {
    const Script a = parse(kSampleActive);
    CHECK(std::get<CodeEvent>(a.events[11].body).code == "assert tcpi_state == TCPI_ESTABLISHED");
    const Script s = parse(
        "0 `sysctl -w a=1\nsysctl -w b=\\`2\\``\n+0 %{\nassert x == 1\n}%\n"
        "+0 close(3) = 0\n");
    CHECK(std::get<CommandEvent>(s.events[0].body).command == "sysctl -w a=1\nsysctl -w b=\\`2\\`");
    CHECK(std::get<CodeEvent>(s.events[1].body).code == "\nassert x == 1\n");
    CHECK(s.events[1].at.line == 3);
    CHECK(s.events[2].at.line == 6);
}

TEST_CASE("parser: #ifdef blocks and defines") {
    ParseOptions freebsd;
    freebsd.defines["FreeBSD"] = "";
    CHECK(parse(kSampleBsd).events.size() == 9);
    const Script kept = parse(kSampleBsd, freebsd);
    REQUIRE(kept.events.size() == 10);
    CHECK(call_of(kept.events[1]).name == "setsockopt");
    CHECK(kept.events[1].at.line == 5);

    const char* both =
        "0 a() = 0\n#ifdef STANDARD\n+0 b() = 0\n#endif\n  #ifdef FreeBSD // x\n"
        "+0 c() = 0 /* #endif */\n//! config: skipped unless FreeBSD\n#endif\n+0 d() = 0\n";
    const Script none = parse(both);
    REQUIRE(none.events.size() == 2);
    CHECK(call_of(none.events[1]).name == "d");
    CHECK(none.directives.empty());
    ParseOptions standard;
    standard.defines["STANDARD"] = "1";
    const Script std_only = parse(both, standard);
    REQUIRE(std_only.events.size() == 3);
    CHECK(call_of(std_only.events[1]).name == "b");

    // Defines replace later words: integers, strings, backquotes, words, several tokens.
    ParseOptions d;
    d.defines["FD"] = "7";
    d.defines["NAME"] = "\"reno\"";
    d.defines["CMD"] = "`true`";
    d.defines["OPT"] = "SO_SNDBUF";
    d.defines["OPTS"] = "mss 1000, nop, wscale 2";
    const Script r = parse(
        "0 setsockopt(FD, SOL_SOCKET, OPT, NAME, 4) = 0\n+0 CMD\n"
        "+0 > S 0:0(0) <OPTS>\n",
        d);
    const SyscallEvent& set = call_of(r.events[0]);
    CHECK(set.arguments[0].value == 7);
    CHECK(set.arguments[0].at.column == 14);
    CHECK(set.arguments[2].text == "SO_SNDBUF");
    CHECK(set.arguments[3].kind == Expression::Kind::string);
    CHECK(set.arguments[3].text == "reno");
    CHECK(std::get<CommandEvent>(r.events[1].body).command == "true");
    const auto& opts = *tcp_of(r.events[2]).options;
    REQUIRE(opts.size() == 3);
    CHECK(opts[0].value == 1000);
    CHECK(opts[2].value == 2);

    // `--define=NAME=VALUE` in the script; the command line's value wins.
    const Script own = parse("--define=PORT=8080\n0 bind(3, PORT) = 0\n");
    CHECK(call_of(own.events[0]).arguments[1].value == 8080);
    ParseOptions cli;
    cli.defines["PORT"] = "99";
    CHECK(call_of(parse("--define=PORT=8080\n0 bind(3, PORT) = 0\n", cli).events[0])
              .arguments[1]
              .value == 99);
    // `#ifdef` sees script defines too; a define never expands into itself.
    CHECK(parse("--define=X=1\n0 a() = 0\n#ifdef X\n+0 b() = 0\n#endif\n").events.size() == 2);
    CHECK(call_of(parse("--define=X=X\n0 a(X) = 0\n").events[0]).arguments[0].text == "X");
}
