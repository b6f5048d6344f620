// The sequence-number and timestamp mapping of netloom drill (reference §9), and the packet
// codec it relies on.
#include <catch2/catch.hpp>

#include "drill/packet_codec.hpp"
#include "drill/seq_mapping.hpp"

using netloom::drill::SeqMapping;

TEST_CASE("peer numbers: SYN absolute, the rest relative to the injected ISN") {
    SeqMapping m;
    m.learn_remote_isn(1000);
    CHECK(m.inbound_seq(1000, true) == 1000);
    CHECK(m.inbound_seq(1, false) == 1001);
    CHECK(m.outbound_ack(1001, false) == 1);
    CHECK(m.outbound_ack(1001, true) == 1001);  // a SYN-ACK's ack is shown absolute
    CHECK(m.outbound_sack_edge(1501) == 501);
}

TEST_CASE("stack numbers: learned from its SYN, relative after it, wrapping mod 2^32") {
    SeqMapping m;
    m.learn_local_isn(0xfffffff0u, 0);
    CHECK(m.outbound_seq(0xfffffff0u, true) == 0);
    CHECK(m.outbound_seq(0xfffffff1u, false) == 1);
    CHECK(m.outbound_seq(0x00000010u, false) == 0x20);  // wrapped past 2^32
    CHECK(m.inbound_ack(1, false) == 0xfffffff1u);
    CHECK(m.inbound_ack(0x20, false) == 0x10u);
    CHECK(m.inbound_ack(4294967295u, false) == 0xffffffefu);  // one below the ISN
}

TEST_CASE("a script ISN other than 0 shifts SYN segments only") {
    SeqMapping m;
    m.learn_local_isn(5000, 100);
    CHECK(m.outbound_seq(5000, true) == 100);
    CHECK(m.outbound_seq(5001, false) == 1);
    CHECK(m.inbound_ack(100, true) == 5000);
    CHECK(m.inbound_ack(1, false) == 5001);
}

TEST_CASE("timestamps: exact records first, else extrapolated from the latest") {
    SeqMapping m;
    CHECK_FALSE(m.inbound_ecr(100).has_value());
    m.record_ts(100, 777'000);
    m.record_ts(200, 777'090);
    CHECK(*m.inbound_ecr(100) == 777'000);
    CHECK(*m.inbound_ecr(200) == 777'090);
    CHECK(*m.inbound_ecr(210) == 777'100);
    m.forget_connection();
    CHECK_FALSE(m.inbound_ecr(100).has_value());
}

TEST_CASE("codec: a built TCP segment decodes to the same fields with valid checksums") {
    netloom::drill::Ipv4Fields ip;
    ip.source = 0xc0000201;       // 192.0.2.1
    ip.destination = 0xc0a80001;  // 192.168.0.1
    netloom::drill::TcpFields tcp;
    tcp.source_port = 47123;
    tcp.destination_port = 8080;
    tcp.seq = 0xdeadbeef;
    tcp.ack = 12345;
    tcp.flags = 0x12;
    tcp.reserved = 1;
    tcp.window = 7300;
    tcp.options = {2, 4, 0x05, 0xb4, 1, 1, 4, 2};
    tcp.payload_length = 10;
    auto bytes = netloom::drill::build_tcp(ip, tcp);
    REQUIRE(bytes.size() == 20 + 28 + 10);
    std::string error;
    auto d = netloom::drill::decode_ipv4(bytes, error);
    REQUIRE(d);
    CHECK(d->header_checksum_ok);
    CHECK(d->total_length == bytes.size());
    CHECK(d->tcp.seq == 0xdeadbeef);
    CHECK(d->tcp.ack == 12345);
    CHECK(d->tcp.flags == 0x12);
    CHECK(d->tcp.reserved == 1);
    CHECK(d->tcp_data_offset == 7);
    CHECK(d->tcp.options == tcp.options);
    CHECK(d->tcp.payload_length == 10);
    CHECK(d->payload_all_zero);
    CHECK(netloom::drill::describe_options(d->tcp.options) == "mss 1460,nop,nop,sackOK");
    // The TCP checksum over pseudo-header + segment sums to zero when verified.
    std::vector<std::uint8_t> pseudo = {
        0xc0, 0x00, 0x02, 0x01, 0xc0, 0xa8,
        0x00, 0x01, 0,    6,    0,    static_cast<std::uint8_t>(bytes.size() - 20)};
    pseudo.insert(pseudo.end(), bytes.begin() + 20, bytes.end());
    CHECK(netloom::drill::internet_checksum(pseudo) == 0);
}

TEST_CASE("codec: truncated or lying datagrams are refused with a reason") {
    std::string error;
    std::vector<std::uint8_t> short_one(10, 0x45);
    CHECK_FALSE(netloom::drill::decode_ipv4(short_one, error));
    CHECK(error.find("shorter") != std::string::npos);
    netloom::drill::Ipv4Fields ip;
    netloom::drill::TcpFields tcp;
    auto bytes = netloom::drill::build_tcp(ip, tcp);
    bytes[2] = 0x10;  // total length beyond the buffer
    CHECK_FALSE(netloom::drill::decode_ipv4(bytes, error));
    bytes = netloom::drill::build_tcp(ip, tcp);
    bytes[32] = 0xf0;  // data offset 60 > segment
    CHECK_FALSE(netloom::drill::decode_ipv4(bytes, error));
    CHECK(netloom::drill::describe_options(std::vector<std::uint8_t>{2, 9, 1}).find("malformed") !=
          std::string::npos);
}
