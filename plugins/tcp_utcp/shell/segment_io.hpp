// segment_io.hpp — where the tcp_utcp shell moves payload bytes for the pure core: received text
// the core kept is stored in the receive buffer as a slice of its packet (no copy: the app's
// read is the one copy; the buffer falls back to copying into its ring past its bounds),
// outgoing segments are built from the send ring straight into their packet with the checksum
// in the same pass (one copy), and the Outputs each core call fills are reused instead of
// reallocated.
//
// Contract: `deliver_segment` runs the core's deliver_in and then stores Outputs::keep out of
// the segment's (borrowed) payload and packet, so no caller can forget it. It returns false
// when the keep range does not fit the payload or the receive buffer (a core bug: asserted in
// debug builds; the caller counts it and aborts the connection, whose stream has a hole).
// `packet_for` builds the wire bytes of one OutgoingSegment of `tcb` (its payload range read from
// tcb.send_buffer, which holds the bytes from SND.UNA on), or of a connection-less reply when `tcb`
// is null (no payload allowed then); an empty Packet means the range is not in the buffer or the
// segment too large. OutputsPool hands out cleared Outputs whose vectors keep their storage between
// calls; a lease taken while another is out (a nested core call) gets a different one.
#pragma once

#include <memory>
#include <vector>

#include "core/rules.hpp"
#include "netloom/checksum.hpp"
#include "netloom/packet.hpp"

namespace netloom::utcp {

[[nodiscard]] bool deliver_segment(Tcb& tcb, const Segment& segment, Time now, Outputs& out);

Packet packet_for(const OutgoingSegment& segment, const tcp::FourTuple& tuple, const Tcb* tcb,
                  const Checksum& checksum);

class OutputsPool {
public:
    class Lease {
    public:
        Lease(OutputsPool& pool, std::unique_ptr<Outputs> outputs) noexcept
            : pool_(pool), outputs_(std::move(outputs)) {}
        Lease(const Lease&) = delete;
        Lease& operator=(const Lease&) = delete;
        ~Lease() { pool_.give_back(std::move(outputs_)); }
        Outputs& operator*() noexcept { return *outputs_; }

    private:
        OutputsPool& pool_;
        std::unique_ptr<Outputs> outputs_;
    };

    Lease take() {
        if (free_.empty()) return Lease(*this, std::make_unique<Outputs>());
        std::unique_ptr<Outputs> outputs = std::move(free_.back());
        free_.pop_back();
        return Lease(*this, std::move(outputs));
    }

private:
    void give_back(std::unique_ptr<Outputs> outputs) noexcept {
        outputs->clear();
        try {
            free_.push_back(std::move(outputs));
        } catch (...) {  // just freed instead
        }
    }
    std::vector<std::unique_ptr<Outputs>> free_;
};

}  // namespace netloom::utcp
