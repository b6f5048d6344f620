// Recovery under heavy loss with SACK: the RACK reordering window (RFC 8985 6.2), recovery
// after a retransmission timeout that keeps using SACK (RFC 6675 5.1, RFC 8985 6.3), the probe
// of a stalled recovery, and the probe timeout restarted after new data (RFC 8985 7.2).
#include <catch2/catch.hpp>

#include "core_harness.hpp"

using namespace utcp_test;

namespace {

constexpr std::size_t kPayload = 1448;  // MSS 1460 minus the timestamp option

/// An established pair after a small transfer, so the client has an RTT sample (SRTT 10 ms).
CorePair warmed_pair() {
    // Not at time 0: a timestamp echo of 0 means "no echo" (RFC 7323 3.2), so no sample.
    CorePair pair = established_pair(test_config(), test_config(), Time{std::chrono::seconds(1)});
    transfer(pair, 4 * kPayload);
    REQUIRE(pair.client->rto.has_sample());
    REQUIRE(pair.run_until([&] { return pair.client->snd_una == pair.client->snd_max; }));
    return pair;
}

/// The client sends `count` full segments at once (Nagle off); returns them.
std::vector<WireSegment> send_segments(CorePair& pair, std::size_t count) {
    Outputs sent;
    set_nodelay_1(*pair.client, true);
    send_1(*pair.client, std::vector<std::uint8_t>(count * kPayload, 7), pair.now(), sent);
    REQUIRE(sent.segments.size() == count);
    return {sent.segments.begin(), sent.segments.end()};
}

/// Delivers `segment` to the server; returns its one (immediate) ACK.
WireSegment server_ack(CorePair& pair, const WireSegment& segment, Time at) {
    Outputs o = deliver_in(*pair.server, segment, at);
    REQUIRE(o.segments.size() == 1);
    return o.segments[0];
}

}  // namespace

TEST_CASE(
    "RACK reordering window: one SACKed segment above SND.UNA starts recovery after "
    "SRTT/4, not after a TLP and an RTO (RFC 8985 6.2)") {
    CorePair pair = warmed_pair();
    Tcb& client = *pair.client;
    const Time t0 = pair.now();
    const auto segments = send_segments(pair, 3);
    // WireSegment 0 and 1 are lost; segment 2 arrives out of order and is SACKed at once.
    const WireSegment ack = server_ack(pair, segments[2], t0 + 5ms);
    REQUIRE(ack.options.sack_count == 1);
    deliver_in(client, ack, t0 + 10ms);
    CHECK_FALSE(client.scoreboard->is_lost(client.snd_una));  // DupThresh sees nothing yet
    CHECK_FALSE(client.in_sack_recovery());
    CHECK(client.reorder_pending);
    REQUIRE(client.timers.rexmt);
    const Time window_end = t0 + 10ms + std::max<Time>(client.rto.srtt() / 4, 1ms);
    CHECK(*client.timers.rexmt == window_end);
    Outputs fired = on_tick(client, window_end);
    CHECK(client.in_sack_recovery());
    CHECK(client.sack_recoveries == 1);
    CHECK(client.rto_count == 0);
    REQUIRE_FALSE(fired.segments.empty());
    CHECK(fired.segments[0].seq == segments[0].seq);
    for (const WireSegment s : fired.segments) CHECK(s.seq != segments[2].seq);  // SACKed
}

TEST_CASE(
    "an RTO with SACK keeps SND.NXT, resends only unSACKed data and ends at "
    "RecoveryPoint (RFC 6675 5.1, RFC 8985 6.3)") {
    CorePair pair = warmed_pair();
    Tcb& client = *pair.client;
    const Time t0 = pair.now();
    const auto segments = send_segments(pair, 4);
    deliver_in(client, server_ack(pair, segments[2], t0 + 5ms), t0 + 10ms);
    // Nothing else gets through: the reordering window, the recovery probe, then the RTO.
    while (client.rto_count == 0) on_tick(client, *next_deadline(client));
    const SeqNum snd_max = client.snd_max;
    CHECK(client.snd_nxt == snd_max);  // no go-back-N rewind
    REQUIRE(client.scoreboard);
    CHECK(client.scoreboard->after_timeout());
    CHECK(client.scoreboard->is_sacked(segments[2].seq));  // kept after the first RTO
    CHECK(client.cc.cwnd() == client.max_payload());       // RFC 5681 3.1 loss window
    REQUIRE(client.recover);
    CHECK(*client.recover == snd_max);
    // The network works again: everything the client sends arrives, every ACK returns.
    std::vector<SeqNum> resent;
    Time now = pair.now();
    Outputs pending = on_tick(client, *next_deadline(client));  // the next timeout's resend
    for (int round = 0; round < 20 && client.snd_una != snd_max; ++round) {
        now += 10ms;
        Outputs next_round;
        for (const WireSegment s : pending.segments) {
            if (!s.payload.empty()) resent.push_back(s.seq);
            Outputs acks = deliver_in(*pair.server, s, now);
            for (const WireSegment a : acks.segments) {
                Outputs more = deliver_in(client, a, now + 5ms);
                next_round.segments.insert(next_round.segments.end(), more.segments.begin(),
                                           more.segments.end());
            }
        }
        if (next_round.segments.empty() && client.snd_una != snd_max)
            next_round = on_tick(client, *next_deadline(client));
        pending = std::move(next_round);
    }
    CHECK(client.snd_una == snd_max);
    CHECK_FALSE(client.in_sack_recovery());
    CHECK_FALSE(client.recover);
    CHECK(pair.server->recv_buffer.readable() == 4 * kPayload);
    for (const SeqNum seq : resent) CHECK(seq != segments[2].seq);  // SACKed: never resent
}

TEST_CASE(
    "a stalled SACK recovery probes its first hole after 2 SRTT instead of waiting for "
    "the RTO") {
    CorePair pair = warmed_pair();
    Tcb& client = *pair.client;
    const Time t0 = pair.now();
    const auto segments = send_segments(pair, 6);
    std::vector<WireSegment> acks;
    for (std::size_t i = 1; i < segments.size(); ++i)
        acks.push_back(server_ack(pair, segments[i], t0 + 5ms));
    Time at = t0 + 10ms;
    for (const WireSegment& a : acks) deliver_in(client, a, at);
    REQUIRE(client.in_sack_recovery());
    CHECK(client.retransmits >= 1);  // segment 0 resent on entry ... and lost again
    CHECK(client.tlp_pending);
    REQUIRE(client.timers.rexmt);
    CHECK(*client.timers.rexmt == at + 2 * client.rto.srtt());
    const std::uint64_t retransmits = client.retransmits;
    Outputs probe = on_tick(client, *client.timers.rexmt);
    REQUIRE(probe.segments.size() == 1);
    CHECK(probe.segments[0].seq == segments[0].seq);
    CHECK(client.retransmits == retransmits + 1);
    CHECK(client.rto_count == 0);
    CHECK_FALSE(client.tlp_pending);  // the next expiry is the RTO
    // The probe arrives: the hole is filled and recovery ends.
    deliver_in(client, server_ack(pair, probe.segments[0], at + 50ms), at + 55ms);
    CHECK(client.snd_una == client.snd_max);
    CHECK_FALSE(client.in_sack_recovery());
}

TEST_CASE("the probe timeout restarts after new data is sent (RFC 8985 7.2)") {
    CorePair pair = warmed_pair();
    Tcb& client = *pair.client;
    const Time t0 = pair.now();
    // A full cwnd goes now, two more segments wait for ACKs.
    const std::size_t window = client.cc.cwnd() / kPayload;
    Outputs sent;
    set_nodelay_1(client, true);
    send_1(client, std::vector<std::uint8_t>((window + 2) * kPayload, 3), t0, sent);
    const std::size_t count = sent.segments.size();
    REQUIRE(count >= 2);
    REQUIRE(client.send_buffer.size() > client.bytes_sent_unacked());
    Outputs acks;
    for (std::size_t i = 0; i + 1 < count; ++i) {
        Outputs o = deliver_in(*pair.server, sent.segments[i], t0 + 5ms);
        acks.segments.insert(acks.segments.end(), o.segments.begin(), o.segments.end());
    }
    if (pair.server->timers.delack) {
        Outputs o = on_tick(*pair.server, *pair.server->timers.delack);
        acks.segments.insert(acks.segments.end(), o.segments.begin(), o.segments.end());
    }
    REQUIRE_FALSE(acks.segments.empty());
    const WireSegment& last_ack = acks.segments.back();
    REQUIRE(last_ack.ack == sent.segments[count - 1].seq);
    // That ACK leaves one segment in flight (PTO 2 SRTT + 200 ms: it would lose to the RTO),
    // then lets the waiting segments out, which restart the PTO at 2 SRTT.
    const Time at = t0 + 50ms;
    Outputs more = deliver_in(client, last_ack, at);
    REQUIRE_FALSE(more.segments.empty());
    CHECK(client.flight_size() > kPayload);
    CHECK(client.tlp_pending);
    REQUIRE(client.timers.rexmt);
    CHECK(*client.timers.rexmt == at + 2 * client.rto.srtt());
}

TEST_CASE(
    "an RTO in fast recovery keeps the ssthresh that recovery set (one reduction per "
    "loss event)") {
    CorePair pair = warmed_pair();
    Tcb& client = *pair.client;
    const Time t0 = pair.now();
    const auto segments = send_segments(pair, 8);
    // Segments 0 and 6 are lost: recovery halves ssthresh from a flight of 8 segments.
    for (std::size_t i = 1; i < segments.size(); ++i) {
        if (i == 6) continue;
        deliver_in(client, server_ack(pair, segments[i], t0 + 5ms), t0 + 10ms);
    }
    REQUIRE(client.cc.in_recovery());
    const std::uint32_t ssthresh = client.cc.ssthresh();
    // WireSegment 0's retransmission arrives (a partial ACK); everything after it is lost, so the
    // RTO fires with two segments in flight, still in the same loss event.
    deliver_in(client, server_ack(pair, segments[0], t0 + 15ms), t0 + 20ms);
    REQUIRE(client.snd_una == segments[6].seq);
    REQUIRE(client.cc.in_recovery());
    while (client.rto_count == 0) on_tick(client, *next_deadline(client));
    CHECK(client.cc.ssthresh() == ssthresh);  // not halved again from the 2-segment flight
    CHECK(client.cc.cwnd() == client.max_payload());
    CHECK(client.scoreboard->after_timeout());
}

TEST_CASE(
    "at a sub-millisecond RTT the tail loss probe waits at least 10 ms, so a loop turn "
    "without an ACK does not resend data that was not lost") {
    CorePair pair = warmed_pair();
    Tcb& client = *pair.client;
    // An in-process wire: samples of 50 us bring SRTT (and 2 SRTT) far below a millisecond.
    for (int i = 0; i < 40; ++i) client.rto.on_rtt_sample(50us);
    REQUIRE(client.rto.srtt() < 100us);
    const Time t0 = pair.now();
    const auto segments = send_segments(pair, 4);
    REQUIRE(client.timers.rexmt);
    CHECK(client.tlp_pending);
    CHECK(*client.timers.rexmt >= t0 + 10ms);
    // One millisecond later the ACKs are merely late (the receiver's turn has not come).
    const std::uint64_t retransmits = client.retransmits;
    Outputs early = on_tick(client, t0 + 1ms);
    CHECK(early.segments.empty());
    CHECK(client.retransmits == retransmits);
    (void)segments;
}

TEST_CASE(
    "new data sent while the reordering window runs does not replace it by the probe "
    "timeout (RFC 8985 7.2, no PTO while segments are SACKed)") {
    CorePair pair = warmed_pair();
    Tcb& client = *pair.client;
    const Time t0 = pair.now();
    const auto segments = send_segments(pair, 3);
    // Segments 0 and 1 are lost; segment 2 is SACKed: the reordering window starts.
    deliver_in(client, server_ack(pair, segments[2], t0 + 5ms), t0 + 10ms);
    REQUIRE(client.reorder_pending);
    const Time window_end = *client.timers.rexmt;
    // The application writes more; the ACK clock lets it out at once.
    Outputs sent;
    send_1(client, std::vector<std::uint8_t>(kPayload, 9), t0 + 10ms, sent);
    REQUIRE(sent.segments.size() == 1);
    CHECK(client.reorder_pending);
    CHECK_FALSE(client.tlp_pending);
    REQUIRE(client.timers.rexmt);
    CHECK(*client.timers.rexmt == window_end);
    Outputs fired = on_tick(client, window_end);
    CHECK(client.in_sack_recovery());
    CHECK(client.rto_count == 0);
    REQUIRE_FALSE(fired.segments.empty());
    CHECK(fired.segments[0].seq == segments[0].seq);
}

TEST_CASE(
    "a cumulative ACK that ends recovery below SACKed data starts the reordering window "
    "although it SACKs nothing new (RFC 8985 6.2)") {
    CorePair pair = warmed_pair();
    Tcb& client = *pair.client;
    Time now = pair.now();
    const auto first = send_segments(pair, 6);
    const SeqNum recovery_point = client.snd_max;
    // Segment 0 is lost; 1..5 arrive and their SACKs start recovery, which resends 0 (held
    // back below) and, as pipe allows, the three segments written now (6, 7, 8).
    std::vector<WireSegment> queue;
    for (std::size_t i = 1; i < first.size(); ++i) {
        Outputs o = deliver_in(client, server_ack(pair, first[i], now + 5ms), now + 10ms);
        queue.insert(queue.end(), o.segments.begin(), o.segments.end());
    }
    REQUIRE(client.in_sack_recovery());
    now += 10ms;
    Outputs sent;
    send_1(client, std::vector<std::uint8_t>(3 * kPayload, 5), now, sent);
    queue.insert(queue.end(), sent.segments.begin(), sent.segments.end());
    std::optional<WireSegment> held;         // segment 0's retransmission
    const SeqNum lost_new = recovery_point;  // segment 6, the first new one, is lost
    for (std::size_t i = 0; i < queue.size() && i < 64; ++i) {
        const WireSegment s = queue[i];
        if (s.payload.empty()) continue;
        if (s.seq == first[0].seq) {
            held = s;
            continue;
        }
        if (s.seq == lost_new) continue;
        Outputs more = deliver_in(client, server_ack(pair, s, now + 5ms), now + 10ms);
        queue.insert(queue.end(), more.segments.begin(), more.segments.end());
    }
    REQUIRE(held);
    REQUIRE(client.scoreboard->is_sacked(lost_new + kPayload));  // 7 and 8 SACKed, 6 missing
    REQUIRE(client.scoreboard->is_sacked(lost_new + 2 * kPayload));
    // The retransmission of 0 arrives: the ACK reaches RecoveryPoint (segment 6) and repeats
    // the SACK of 7 and 8. Two segments above SND.UNA are not enough for IsLost.
    now += 20ms;
    deliver_in(client, server_ack(pair, *held, now - 5ms), now);
    REQUIRE(client.snd_una == lost_new);
    CHECK_FALSE(client.in_sack_recovery());
    CHECK_FALSE(client.scoreboard->is_lost(client.snd_una));
    CHECK(client.reorder_pending);
    REQUIRE(client.timers.rexmt);
    const Time window_end = *client.timers.rexmt;
    CHECK(window_end <= now + std::max<Time>(client.rto.srtt() / 4, 1ms));
    Outputs fired = on_tick(client, window_end);
    CHECK(client.in_sack_recovery());
    CHECK(client.rto_count == 0);
    REQUIRE_FALSE(fired.segments.empty());
    CHECK(fired.segments[0].seq == lost_new);
}

TEST_CASE(
    "with SACK, ACKs at SND.UNA that SACK nothing new are no duplicates (RFC 6675 2 DupAck), "
    "so repeated ACKs of a duplicated segment start no recovery") {
    CorePair pair = warmed_pair();
    Tcb& client = *pair.client;
    const Time t0 = pair.now();
    const auto segments = send_segments(pair, 4);
    // Segment 1 arrives before 0: its ACK SACKs it (one DupAck); the network duplicates
    // that ACK twice (or the receiver repeats it for duplicated data).
    const WireSegment ack = server_ack(pair, segments[1], t0 + 5ms);
    REQUIRE(ack.options.sack_count == 1);
    for (int i = 0; i < 3; ++i) deliver_in(client, ack, t0 + 10ms);
    CHECK(client.dup_acks == 1);
    CHECK_FALSE(client.in_sack_recovery());
    CHECK(client.fast_retransmits == 0);
    CHECK(client.reorder_pending);  // segment 0 may still arrive: the reordering window decides
}
