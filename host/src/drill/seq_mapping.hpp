// seq_mapping.hpp — packetdrill's numbering (tcpdump's convention): numbers in segments with SYN
// set are absolute, all others are relative to their sender's ISN. This class turns script
// numbers into live ones for injected segments and live numbers into script ones for the
// segments a stack sent (reference §9), all modulo 2^32.
//
// Contract: the peer's ISN is learned from the injected SYN (passive open) or SYN-ACK (active),
// the stack's from its first outbound SYN or SYN-ACK (`learn_local_isn`, which also records the
// ISN the script wrote there, usually 0). Before it is learned, the stack's ISN is taken as 0
// (then `ack N` goes out as N). Timestamps: each outbound TSval the script wrote is recorded
// against the live value; an injected TSecr is the live value recorded for that script value, or
// (when the script never saw it) extrapolated from the latest record at one tick per unit.
#pragma once

#include <cstdint>
#include <map>
#include <optional>

namespace netloom::drill {

class SeqMapping {
public:
    // ---- the peer (the script) ----
    void learn_remote_isn(std::uint32_t isn) noexcept {
        remote_isn_ = isn;
        remote_known_ = true;
    }
    bool remote_known() const noexcept { return remote_known_; }
    std::uint32_t remote_isn() const noexcept { return remote_isn_; }
    /// Injected sequence number (non-SYN: relative to the peer's ISN).
    std::uint32_t inbound_seq(std::uint32_t script, bool syn) const noexcept {
        return syn ? script : script + remote_isn_;
    }
    /// Outbound ack / SACK edge into script space.
    std::uint32_t outbound_ack(std::uint32_t live, bool syn) const noexcept {
        return syn ? live : live - remote_isn_;
    }
    std::uint32_t outbound_sack_edge(std::uint32_t live) const noexcept {
        return live - remote_isn_;
    }

    // ---- the stack under test ----
    void learn_local_isn(std::uint32_t live_isn, std::uint32_t script_isn) noexcept {
        local_isn_ = live_isn;
        script_local_isn_ = script_isn;
        local_known_ = true;
    }
    bool local_known() const noexcept { return local_known_; }
    std::uint32_t local_isn() const noexcept { return local_isn_; }
    /// Outbound sequence number into script space.
    std::uint32_t outbound_seq(std::uint32_t live, bool syn) const noexcept {
        return syn ? live - local_isn_ + script_local_isn_ : live - local_isn_;
    }
    /// Injected ack / SACK edge / ICMP-quoted sequence into live space.
    std::uint32_t inbound_ack(std::uint32_t script, bool syn) const noexcept {
        return syn ? script + local_isn_ - script_local_isn_ : script + local_isn_;
    }

    // ---- timestamps (RFC 7323) ----
    void record_ts(std::uint32_t script_val, std::uint32_t live_val) {
        ts_[script_val] = live_val;
        last_ts_ = {script_val, live_val};
    }
    /// The live TSecr for a script TSecr; nullopt if no outbound TSval was ever recorded.
    std::optional<std::uint32_t> inbound_ecr(std::uint32_t script_ecr) const {
        if (auto it = ts_.find(script_ecr); it != ts_.end()) return it->second;
        if (!last_ts_) return std::nullopt;
        return last_ts_->second + (script_ecr - last_ts_->first);
    }
    void forget_connection() {
        remote_known_ = local_known_ = false;
        remote_isn_ = local_isn_ = script_local_isn_ = 0;
        ts_.clear();
        last_ts_.reset();
    }

private:
    bool remote_known_ = false, local_known_ = false;
    std::uint32_t remote_isn_ = 0, local_isn_ = 0, script_local_isn_ = 0;
    std::map<std::uint32_t, std::uint32_t> ts_;
    std::optional<std::pair<std::uint32_t, std::uint32_t>> last_ts_;
};

}  // namespace netloom::drill
