// interpreter_impl.hpp — the Interpreter behind run_script, shared by its source files:
// interpreter.cpp (events and time), packet_events.cpp (inbound packets built, outbound packets
// checked), syscalls.cpp (system calls), commands.cpp (backquoted commands and %{ }% blocks).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "drill/interpreter.hpp"
#include "drill/packet_codec.hpp"
#include "drill/seq_mapping.hpp"

namespace netloom::drill {

/// Thrown inside the interpreter; run_script turns each into its Outcome.
struct ScriptFailure {
    int line;
    std::string message;
};
struct ScriptUnsupported {
    int line;
    std::string what;
};
struct ScriptInvalid {
    int line;
    std::string message;
};

class Interpreter {
public:
    Interpreter(const Script& script, Target& target, const RunSettings& settings);
    /// Runs every event; throws ScriptFailure / ScriptUnsupported / ScriptInvalid.
    void run();
    std::vector<std::string> warnings;
    std::int64_t script_now() { return target_.now_us() - start_us_; }

private:
    // interpreter.cpp
    struct Timing {
        std::optional<std::int64_t> start;  ///< nullopt: `*`
        std::int64_t end = 0;               ///< == start unless a range
        std::int64_t tolerance = 0;
    };
    Timing schedule(const Event& event, bool inbound_packet);
    void wait_for(const Event& event, const Timing& timing, const char* what);
    std::int64_t resolve(const TimeSpec& spec, std::int64_t anchor) const;
    void finish();
    void precheck() const;

    // packet_events.cpp
    void inbound(const Event& event, const PacketEvent& packet);
    void outbound(const Event& event, const PacketEvent& packet, const Timing& timing);
    void inbound_tcp(const Event& event, const PacketEvent& packet, const TcpSegmentSpec& spec);
    void inbound_icmp(const Event& event, const IcmpSpec& spec);
    bool belongs_to_test(const DecodedPacket& packet, const PacketEvent& expected);
    void join_segments(const Event& event, const PacketEvent& packet, std::uint32_t length,
                       std::int64_t deadline, DecodedPacket& joined, std::int64_t& at);
    void check_tcp(const Event& event, const PacketEvent& packet, const TcpSegmentSpec& spec,
                   const DecodedPacket& actual);
    void check_options(const Event& event, const TcpSegmentSpec& spec, const DecodedPacket& actual);
    std::vector<std::uint8_t> encode_options(const Event& event, const TcpSegmentSpec& spec,
                                             bool ack_set);
    std::string describe_actual(const DecodedPacket& actual, std::int64_t at_us) const;
    void packet_mismatch(const Event& event, const std::string& what, const DecodedPacket& actual,
                         std::int64_t at_us);

    // syscalls.cpp
    void syscall(const Event& event, const SyscallEvent& call, const Timing& timing);
    CallResult dispatch(const Event& event, const SyscallEvent& call);
    std::int64_t integer(const Event& event, const Expression& e) const;
    int fd_of(const Event& event, const Expression& e) const;
    void check_result(const Event& event, const SyscallEvent& call, const CallResult& result);

    // commands.cpp
    void command(const Event& event, const std::string& text, bool cleanup = false);
    void code_block(const Event& event, const CodeEvent& code);
    void evaluate_code_blocks();

    const Script& script_;
    Target& target_;
    RunSettings settings_;
    SeqMapping map_;
    std::int64_t start_us_ = 0;
    std::int64_t previous_end_ = 0;        ///< script time the previous event finished
    std::int64_t previous_scheduled_ = 0;  ///< script time the previous event was scheduled
    bool previous_inbound_ = false;

    // fds: script label -> target fd
    std::map<std::int64_t, int> fds_;
    std::optional<std::int64_t> under_test_;  ///< label of the socket under test
    std::optional<std::int64_t> listener_;

    // The socket under test moves through packetdrill's states (reference §6): its numbers are
    // learned once per connection, at these steps only, never from later SYNs (a SYN in
    // ESTABLISHED or TIME-WAIT keeps the old ISNs, so its seq maps like any other segment).
    enum class TestState {
        init,                  ///< socket() (or nothing yet)
        listening,             ///< listen(): the next inbound SYN makes a child
        passive_syn_received,  ///< a child: peer ISN known, ours from the next SYN-ACK
        passive_synack_sent,   ///< both ISNs known
        active_connecting,     ///< connect(): port and ISN from the next SYN
        active_syn_sent,       ///< our ISN known, the peer's from its SYN-ACK
        active_syn_acked,      ///< both ISNs known
    } state_ = TestState::init;
    std::uint16_t local_port_ = 0;     ///< 0 until known
    std::uint16_t remote_port_ = 0;    ///< the script peer's port
    std::uint16_t passive_opens_ = 0;  ///< SYNs that made a child so far (each a new peer port)
    std::uint32_t local_ip_ = 0, remote_ip_ = 0;

    struct Snapshot {
        int line;
        std::string code;
        std::optional<TcpInfoSnapshot> info;
    };
    std::vector<Snapshot> snapshots_;
};

}  // namespace netloom::drill
