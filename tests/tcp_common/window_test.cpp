// Receiver SWS avoidance, sender SWS/Nagle decision, window scaling.
#include <catch2/catch.hpp>

#include <cstdint>

#include "netloom/tcp_common/window.hpp"

using namespace netloom::tcp;

TEST_CASE("receiver opens the window only by at least min(MSS, buffer/2)", "[window]") {
    constexpr std::uint32_t buffer = 65536, mss = 1460;
    // The app read 1000 bytes from a full buffer: below one MSS, keep the window closed.
    CHECK(receive_window_to_advertise(1000, 0, buffer, mss) == 0);
    CHECK(receive_window_to_advertise(1459, 0, buffer, mss) == 0);
    CHECK(receive_window_to_advertise(1460, 0, buffer, mss) == 1460);
    // With a window still open, small increments keep the same right edge.
    CHECK(receive_window_to_advertise(5000, 4000, buffer, mss) == 4000);
    CHECK(receive_window_to_advertise(5460, 4000, buffer, mss) == 5460);
    // Small buffer: buffer/2 is the threshold.
    CHECK(receive_window_to_advertise(999, 0, 2000, mss) == 0);
    CHECK(receive_window_to_advertise(1000, 0, 2000, mss) == 1000);
    // Never shrink what was offered.
    CHECK(receive_window_to_advertise(100, 3000, buffer, mss) == 3000);
    // 1-byte MSS: any byte opens it.
    CHECK(receive_window_to_advertise(1, 0, buffer, 1) == 1);
    // Huge buffers.
    CHECK(receive_window_to_advertise(1u << 30, 0, 1u << 30, 9000) == 1u << 30);
}

TEST_CASE("sender: full segments go, small ones wait for Nagle unless nodelay", "[window]") {
    constexpr std::uint32_t mss = 1460;
    CHECK(should_send_now(1460, mss, 65535, 5000, false, false));  // (1) a full segment
    CHECK(should_send_now(100'000, mss, 2000, 5000, false, false));
    CHECK_FALSE(should_send_now(100, mss, 65535, 5000, false, true));  // Nagle: data in flight
    CHECK(should_send_now(100, mss, 65535, 0, false, true));           // (2) nothing unacked
    CHECK(should_send_now(100, mss, 65535, 5000, true, true));         // nodelay
    CHECK_FALSE(should_send_now(100, mss, 65535, 0, false, false));    // not pushed: more coming
    CHECK_FALSE(should_send_now(0, mss, 65535, 0, true, true));        // nothing to send
}

TEST_CASE("sender: zero and tiny windows, the half-window rule", "[window]") {
    constexpr std::uint32_t mss = 1460;
    CHECK_FALSE(should_send_now(5000, mss, 0, 0, true, true));  // zero window: persist timer
    // Window of 500 for 1000 queued bytes: not all fits (rule 2 fails); without a known peer
    // maximum, wait (sender SWS avoidance).
    CHECK_FALSE(should_send_now(1000, mss, 500, 0, true, true));
    // (3) 500 is at least half the peer's largest window of 1000: send.
    CHECK(should_send_now(1000, mss, 500, 0, true, true, 1000));
    CHECK_FALSE(should_send_now(1000, mss, 400, 0, true, true, 1000));
    CHECK_FALSE(should_send_now(1000, mss, 500, 10, false, true, 1000));  // Nagle still applies
    // 1-byte MSS: every byte is a full segment.
    CHECK(should_send_now(1, 1, 1, 99, false, false));
}

TEST_CASE("window scale choice and scaling (RFC 7323 2)", "[window]") {
    CHECK(choose_window_scale(0) == 0);
    CHECK(choose_window_scale(65535) == 0);
    CHECK(choose_window_scale(65536) == 1);
    CHECK(choose_window_scale(256 * 1024) == 3);  // 65535 << 2 < 262144 <= 65535 << 3
    CHECK(choose_window_scale(std::size_t{1} << 30) == 14);
    CHECK(choose_window_scale(std::size_t{1} << 40) == 14);  // capped
    CHECK(clamp_window_scale(20) == 14);
    CHECK(decode_window(0xffff, 14) == 0xffffu << 14);
    CHECK(decode_window(0xffff, 200) == 0xffffu << 14);
    CHECK(decode_window(10, 0) == 10);
    CHECK(encode_window(1000, 3) == 125);
    CHECK(encode_window(1001, 3) == 125);            // rounds down
    CHECK(encode_window_round_up(1001, 3) == 126);   // never shrinks an offered edge
    CHECK(encode_window(0xffffffffu, 0) == 0xffff);  // clamped to the field
    CHECK(encode_window_round_up(0xffffffffu, 14) == 0xffff);
    for (std::uint8_t shift = 1; shift <= 14; ++shift) {  // 123456 needs at least shift 1
        INFO("shift " << int(shift));
        CHECK(decode_window(encode_window(123'456, shift), shift) <= 123'456u);
        CHECK(decode_window(encode_window_round_up(123'456, shift), shift) >= 123'456u);
        CHECK(decode_window(encode_window_round_up(123'456, shift), shift) - 123'456u <
              (1u << shift));
    }
    CHECK(decode_window(encode_window_round_up(123'456, 0), 0) == 0xffff);  // field saturates
}
