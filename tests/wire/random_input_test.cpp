// 100 000 seeded random buffers through every parser, each once raw and once with the fields
// its parser checks first made plausible (so the deeper paths run too). Accepted inputs must
// satisfy the views' length invariants and survive Repr -> emit -> parse unchanged.
#include <catch2/catch.hpp>
#include <vector>

#include "wire_dissect.hpp"

using namespace netloom::wire;
using wire_test::checksum;
using wire_test::read_all;
using wire_test::Rng;
using wire_test::within;
using Bytes = std::vector<std::uint8_t>;

namespace {

constexpr int kBuffers = 100000;
constexpr std::uint64_t kSeed = 0x6e65746c6f6f6d;  // "netloom"
const Ipv4Address kSource(192, 0, 2, 1);
const Ipv4Address kDestination(198, 51, 100, 2);

struct Tally {
    int ethernet = 0, arp = 0, ipv4 = 0, icmp = 0, icmp_quote = 0, udp = 0, tcp = 0, tcp_repr = 0,
        options = 0;
};

// Records a failure only when there is one, so a 100k loop does not drown the report.
#define EXPECT_THAT(condition, round)                                        \
    do {                                                                     \
        if (!(condition)) FAIL_CHECK(#condition << " in round " << (round)); \
    } while (0)

Bytes random_bytes(Rng& rng) {
    // Mostly short buffers (where the boundaries are), sometimes up to a full frame.
    const std::size_t length = rng.below(8) == 0 ? rng.below(1600) : rng.below(96);
    Bytes bytes(length);
    for (auto& b : bytes) b = rng.byte();
    return bytes;
}

std::uint16_t some_length_up_to(Rng& rng, std::size_t size) {
    return static_cast<std::uint16_t>(rng.below(static_cast<std::uint32_t>(size) + 4));
}

// Random TCP options, biased towards known kinds with their right (or nearly right) lengths.
void plant_tcp_options(Rng& rng, std::span<std::uint8_t> area) {
    static constexpr std::uint8_t kKinds[] = {0, 1, 2, 3, 4, 5, 8, 30, 34};
    static constexpr std::uint8_t kLengths[] = {0, 1, 4, 3, 2, 10, 10, 4, 10};
    std::size_t at = 0;
    while (at < area.size() && rng.below(6) != 0) {
        const auto pick = rng.below(sizeof kKinds);
        area[at] = kKinds[pick];
        if (at + 1 < area.size() && kLengths[pick] >= 2) {
            std::uint8_t length = kLengths[pick];
            if (kKinds[pick] == 5) length = static_cast<std::uint8_t>(2 + 8 * (1 + rng.below(4)));
            if (rng.below(10) == 0) length = static_cast<std::uint8_t>(rng.below(12));
            area[at + 1] = length;
            at += length < 2 ? 2 : length;
        } else {
            at += 1;
        }
    }
}

// Acceptance rules restated from the RFCs in the plainest terms, as an oracle for the parsers.
bool ethernet_acceptable(const Bytes& b) {
    return b.size() >= 14 && b[12] * 256 + b[13] >= 1536;
}
bool arp_acceptable(const Bytes& b) {
    return b.size() >= 28 && b[0] == 0 && b[1] == 1 && b[2] == 8 && b[3] == 0 && b[4] == 6 &&
           b[5] == 4;
}
bool ipv4_acceptable(const Bytes& b) {
    if (b.size() < 20 || b[0] / 16 != 4) return false;
    const std::size_t ihl = b[0] % 16, total = b[2] * 256u + b[3];
    return ihl >= 5 && ihl * 4 <= total && total <= b.size();
}
bool udp_acceptable(const Bytes& b) {
    return b.size() >= 8 && b[4] * 256u + b[5] >= 8 && b[4] * 256u + b[5] <= b.size();
}
bool tcp_acceptable(const Bytes& b) {
    return b.size() >= 20 && b[12] / 16 >= 5 && b[12] / 16 * 4u <= b.size();
}

void check_ethernet(const Bytes& bytes, int round, Tally& tally) {
    auto view = EthernetView::parse(bytes);
    EXPECT_THAT(view.ok() == ethernet_acceptable(bytes), round);
    if (!view) return;
    ++tally.ethernet;
    read_all(*view);
    EXPECT_THAT(within(view->payload(), bytes), round);
    std::uint8_t header[14];
    EXPECT_THAT(EthernetRepr::parse(*view)->emit(header), round);
    EXPECT_THAT(wire_test::same_bytes(header, std::span(bytes).first(14)), round);
}

void check_arp(const Bytes& bytes, int round, Tally& tally) {
    auto view = ArpView::parse(bytes);
    EXPECT_THAT(view.ok() == arp_acceptable(bytes), round);
    if (!view) return;
    ++tally.arp;
    read_all(*view);
    auto repr = ArpRepr::parse(*view);
    if (!repr) return;
    std::uint8_t out[28];
    EXPECT_THAT(repr->emit(out), round);
    EXPECT_THAT(wire_test::same_bytes(out, std::span(bytes).first(28)), round);
}

bool header_checksum_ok(std::span<const std::uint8_t> header) {
    return netloom::Checksum::fold(checksum().partial(header)) == 0xffff;
}

// `emitted` equals `original` except for the 16-bit checksum field at `checksum_at`.
bool same_but_checksum(std::span<const std::uint8_t> original,
                       std::span<const std::uint8_t> emitted, std::size_t checksum_at) {
    if (original.size() != emitted.size()) return false;
    for (std::size_t i = 0; i < original.size(); ++i) {
        if (i != checksum_at && i != checksum_at + 1 && original[i] != emitted[i]) return false;
    }
    return true;
}

void check_ipv4(const Bytes& bytes, int round, Tally& tally) {
    auto view = Ipv4View::parse(bytes);
    EXPECT_THAT(view.ok() == ipv4_acceptable(bytes), round);
    if (!view) return;
    ++tally.ipv4;
    read_all(*view);
    EXPECT_THAT(view->header_length() >= 20 && view->header_length() <= view->bytes().size(),
                round);
    EXPECT_THAT(view->bytes().size() == view->total_length(), round);
    EXPECT_THAT(within(view->payload(), bytes) && within(view->options(), bytes), round);

    auto repr = Ipv4Repr::parse(*view);
    std::uint8_t out[20];
    EXPECT_THAT(repr->emit(out, checksum()), round);
    EXPECT_THAT(header_checksum_ok(out), round);
    if (view->header_length() == 20 && !view->reserved_flag()) {
        EXPECT_THAT(same_but_checksum(view->header(), out, 10), round);
    }
}

void check_icmp(const Bytes& bytes, int round, Tally& tally) {
    auto view = IcmpView::parse(bytes);
    EXPECT_THAT(view.ok() == (bytes.size() >= 8), round);
    if (!view) return;
    ++tally.icmp;
    read_all(*view);
    if (auto quote = view->quoted()) {
        ++tally.icmp_quote;
        EXPECT_THAT(within(quote->header, bytes) && within(quote->transport, bytes), round);
        EXPECT_THAT(quote->transport.size() == 8 && quote->header.size() >= 20, round);
    }
    Bytes out(bytes.size());
    EXPECT_THAT(IcmpRepr::parse(*view)->emit(out, checksum()) == bytes.size(), round);
    EXPECT_THAT(same_but_checksum(bytes, out, 2), round);
    EXPECT_THAT(IcmpView::parse(out)->verify_checksum(checksum()), round);
}

void check_udp(const Bytes& bytes, int round, Tally& tally) {
    auto view = UdpView::parse(bytes);
    EXPECT_THAT(view.ok() == udp_acceptable(bytes), round);
    if (!view) return;
    ++tally.udp;
    read_all(*view);
    EXPECT_THAT(view->length() >= 8 && view->bytes().size() == view->length(), round);
    EXPECT_THAT(view->bytes().size() <= bytes.size(), round);
    auto repr = UdpRepr::parse(*view);
    Bytes out(repr->buffer_len());
    EXPECT_THAT(repr->emit(out, kSource, kDestination, checksum()) == view->length(), round);
    EXPECT_THAT(same_but_checksum(view->bytes(), out, 6), round);
    auto again = UdpView::parse(out);
    EXPECT_THAT(again && again->checksum() != 0, round);
    EXPECT_THAT(again && again->verify_checksum(checksum(), kSource, kDestination), round);
}

void check_tcp(const Bytes& bytes, int round, Tally& tally) {
    auto view = TcpView::parse(bytes);
    EXPECT_THAT(view.ok() == tcp_acceptable(bytes), round);
    if (!view) return;
    ++tally.tcp;
    read_all(*view);
    EXPECT_THAT(view->header_length() >= 20 && view->header_length() <= bytes.size(), round);
    EXPECT_THAT(view->options().size() + 20 + view->payload().size() == bytes.size(), round);
    auto repr = TcpRepr::parse(*view);
    if (!repr) {
        EXPECT_THAT(repr.error() == ParseError::bad_option, round);
        return;
    }
    ++tally.tcp_repr;
    Bytes out(repr->buffer_len());
    EXPECT_THAT(repr->emit(out, kSource, kDestination, checksum()) == out.size(), round);
    auto again_view = TcpView::parse(out);
    EXPECT_THAT(again_view && again_view->verify_checksum(checksum(), kSource, kDestination),
                round);
    if (!again_view) return;
    auto again = TcpRepr::parse(*again_view);
    EXPECT_THAT(again.ok(), round);
    if (!again) return;
    // Everything survives but the SACK blocks that did not fit beside the other options.
    auto expected = repr->options;
    expected.sack_count = static_cast<std::uint8_t>(expected.emitted_sack_count());
    for (std::size_t i = expected.sack_count; i < TcpOptions::kMaxSackBlocks; ++i) {
        expected.sack_blocks[i] = {};
    }
    EXPECT_THAT(again->options == expected, round);
    EXPECT_THAT(again->sequence_number == repr->sequence_number &&
                    again->acknowledgment_number == repr->acknowledgment_number &&
                    again->flags == repr->flags && again->window == repr->window &&
                    again->urgent_pointer == repr->urgent_pointer &&
                    again->source_port == repr->source_port &&
                    again->destination_port == repr->destination_port,
                round);
    EXPECT_THAT(wire_test::same_bytes(again->payload, repr->payload), round);
}

void check_options(const Bytes& area, int round, Tally& tally) {
    TcpOptionReader reader(area);
    TcpOption option;
    while (reader.next(option)) EXPECT_THAT(within(option.data, area), round);
    auto parsed = parse_tcp_options(area);
    // The parser refuses exactly what the reader refuses, or a known kind's wrong length.
    if (reader.error() != ParseError::ok) EXPECT_THAT(!parsed, round);
    if (!parsed) {
        EXPECT_THAT(parsed.error() == ParseError::bad_option, round);
        return;
    }
    ++tally.options;
    Bytes out(parsed->encoded_length());
    EXPECT_THAT(parsed->emit(out) && out.size() <= TcpOptions::kMaxLength, round);
    EXPECT_THAT(parse_tcp_options(out).ok(), round);
}

}  // namespace

TEST_CASE("100k random buffers through every parser", "[wire][random]") {
    Rng rng(kSeed);
    Tally tally;
    for (int round = 0; round < kBuffers; ++round) {
        const Bytes raw = random_bytes(rng);
        for (auto check :
             {check_ethernet, check_arp, check_ipv4, check_icmp, check_udp, check_tcp}) {
            check(raw, round, tally);
        }
        const std::size_t n = raw.size();

        Bytes ethernet = raw;
        if (n >= 14) ethernet[12] = static_cast<std::uint8_t>(0x06 + rng.below(0xfa));
        check_ethernet(ethernet, round, tally);

        Bytes arp = raw;
        if (n >= 8) {
            const std::uint8_t fixed[8] = {0, 1, 8, 0,
                                           6, 4, 0, static_cast<std::uint8_t>(rng.below(4))};
            std::copy(std::begin(fixed), std::end(fixed), arp.begin());
            if (rng.below(8) == 0) arp[rng.below(6)] ^= 1;
        }
        check_arp(arp, round, tally);

        Bytes ipv4 = raw;
        if (n >= 4) {
            ipv4[0] =
                static_cast<std::uint8_t>(rng.below(8) == 0 ? rng.byte() : 0x45 + rng.below(11));
            store_be16(ipv4.data() + 2, some_length_up_to(rng, n));
        }
        check_ipv4(ipv4, round, tally);

        Bytes icmp = raw;
        if (n >= 9) {
            static constexpr std::uint8_t kTypes[] = {0, 3, 4, 5, 8, 11, 12, 13};
            icmp[0] = kTypes[rng.below(sizeof kTypes)];
            icmp[8] =
                static_cast<std::uint8_t>(rng.below(8) == 0 ? rng.byte() : 0x45 + rng.below(3));
        }
        check_icmp(icmp, round, tally);

        Bytes udp = raw;
        if (n >= 6) store_be16(udp.data() + 4, some_length_up_to(rng, n));
        check_udp(udp, round, tally);

        Bytes tcp = raw;
        if (n >= 20) {
            const std::size_t offset = 5 + rng.below(11);
            tcp[12] = static_cast<std::uint8_t>((offset << 4) | (tcp[12] & 0x0f));
            if (offset * 4 <= n)
                plant_tcp_options(rng, std::span(tcp).subspan(20, offset * 4 - 20));
        }
        check_tcp(tcp, round, tally);

        Bytes area(rng.below(41));
        for (auto& b : area) b = rng.byte();
        if (rng.below(4) != 0) plant_tcp_options(rng, area);
        check_options(area, round, tally);
    }
    INFO("accepted: ethernet " << tally.ethernet << " arp " << tally.arp << " ipv4 " << tally.ipv4
                               << " icmp " << tally.icmp << " (quotes " << tally.icmp_quote
                               << ") udp " << tally.udp << " tcp " << tally.tcp << " (repr "
                               << tally.tcp_repr << ") options " << tally.options);
    // The planted fields must have led every parser down its accepting path many times.
    CHECK(tally.ethernet > 10000);
    CHECK(tally.arp > 10000);
    CHECK(tally.ipv4 > 10000);
    CHECK(tally.icmp_quote > 1000);
    CHECK(tally.udp > 10000);
    CHECK(tally.tcp > 10000);
    CHECK(tally.tcp_repr > 1000);
    CHECK(tally.options > 10000);
}
