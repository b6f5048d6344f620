// reassembly.hpp — IPv4 reassembly (RFC 791 3.2, RFC 815) with hard bounds, independent of the
// rest of the IP layer: feed it fragments and a clock, it hands back whole datagrams.
//
// Contract:
// - `feed(fragment, now)` takes one fragment that starts at its IPv4 header and holds exactly
//   its total length (the caller has validated header and checksum, and is_fragment() is true).
//   Fragments of one datagram share (source, destination, protocol, identification).
//   A fragment is kept (zero copy) until its datagram completes; the completed datagram is a new
//   buffer (header of the first fragment, options included, then the payload) flagged
//   Packet::kReassembled, with total length, flags and header checksum rewritten.
// - Policy: a fragment overlapping another one (RFC 5722, applied to IPv4) drops the whole
//   datagram; an exact duplicate (same range, same bytes) is only ignored. Fragments that would
//   make the datagram pass 65535 bytes, a datagram with more than `max_fragments` pieces, or
//   pieces that contradict the end given by the last fragment drop the whole datagram too. Each
//   of these leaves a tombstone under the datagram's key until the datagram would have timed out,
//   so its remaining fragments are dropped instead of starting a new datagram.
// - Memory: every held fragment is charged its whole buffer (capacity), every datagram or
//   tombstone a fixed overhead. The charge never passes `memory`: to admit a fragment the oldest
//   datagrams are dropped first (counted as memory drops); if that is not enough the fragment's
//   own datagram is dropped.
// - Time: a datagram lives `timeout` from its first fragment. `expire(now)` drops the ones due,
//   calling `on_expired` with the first fragment's bytes when it had arrived (for RFC 792 time
//   exceeded, code 1). Datagrams are kept in arrival order, which is also deadline order, so
//   expiry and eviction are O(1) each; `next_deadline()` is the head's.
// Not thread-safe; no timers of its own (the owner arms one for next_deadline()).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <unordered_map>
#include <vector>

#include "netloom/checksum.hpp"
#include "netloom/counters.hpp"
#include "netloom/packet.hpp"
#include "netloom/scheduler.hpp"

namespace netloom::ip {

struct ReassemblyOptions {
    std::size_t memory = std::size_t{1} << 20;  ///< bound on bytes charged, see the contract
    Time timeout = std::chrono::seconds(30);
    std::uint32_t max_fragments = 64;  ///< pieces per datagram
};

struct ReassemblyCounters {
    std::uint64_t ok = 0;            ///< datagrams completed
    std::uint64_t drop_overlap = 0;  ///< datagrams dropped for overlapping pieces
    std::uint64_t drop_timeout = 0;  ///< datagrams that did not complete in time
    std::uint64_t drop_memory = 0;   ///< datagrams dropped to stay under the bound
    std::uint64_t drop_too_big = 0;  ///< datagrams that would pass 65535 bytes
    std::uint64_t drop_too_many_fragments = 0;
    std::uint64_t drop_inconsistent = 0;  ///< pieces past the end set by the last fragment
    std::uint64_t drop_tombstone = 0;     ///< fragments of a datagram already dropped
    std::uint64_t drop_bad_fragment = 0;  ///< empty piece, or a non-last one not 8-aligned
    std::uint64_t duplicates = 0;         ///< exact duplicate fragments ignored
    std::uint64_t bytes_current = 0;
    std::uint64_t bytes_peak = 0;
    std::uint64_t datagrams_current = 0;
    std::uint64_t datagrams_peak = 0;
    std::uint64_t tombstones_current = 0;
    std::uint64_t tombstones_peak = 0;
};

class Reassembler {
public:
    enum class Outcome {
        held,       ///< kept, the datagram is not complete yet
        completed,  ///< `datagram` holds the whole datagram
        duplicate,  ///< an exact copy of a piece already held; ignored
        dropped,    ///< the fragment (and possibly its datagram) was dropped, see the counters
    };
    struct Result {
        Outcome outcome = Outcome::dropped;
        Packet datagram;
    };
    using ExpiredSink = std::function<void(std::span<const std::uint8_t> first_fragment)>;

    Reassembler(ReassemblyOptions options, const Checksum& checksum);
    ~Reassembler();
    Reassembler(const Reassembler&) = delete;
    Reassembler& operator=(const Reassembler&) = delete;

    Result feed(Packet&& fragment, Time now);
    /// Drops every datagram and tombstone due at `now`; returns how many datagrams timed out.
    std::size_t expire(Time now, const ExpiredSink& on_expired = {});
    std::optional<Time> next_deadline() const noexcept;

    const ReassemblyCounters& counters() const noexcept { return counters_; }
    /// Reports the counters as reasm_<name>.
    void visit_counters(const CounterVisitor& visit) const;
    const ReassemblyOptions& options() const noexcept { return options_; }

private:
    struct Key {
        std::uint32_t source = 0;
        std::uint32_t destination = 0;
        std::uint16_t identification = 0;
        std::uint8_t protocol = 0;
        bool operator==(const Key&) const = default;
    };
    struct KeyHash {
        std::uint64_t seed;
        std::size_t operator()(const Key& key) const noexcept;
    };
    struct Piece {
        std::uint32_t begin = 0;  ///< payload offset in the datagram
        std::uint32_t end = 0;    ///< one past the last payload byte
        Packet fragment;          ///< the whole fragment, from its IP header
        std::size_t charge = 0;
    };
    struct Datagram {
        Key key;
        Time deadline{0};
        std::vector<Piece> pieces;   ///< sorted by begin, never overlapping
        std::uint32_t received = 0;  ///< payload bytes held
        std::uint32_t total = 0;     ///< payload length, known once the last piece arrived
        bool have_last = false;
        bool tombstone = false;
        std::size_t charge = 0;     ///< overhead plus the pieces' charges
        Datagram* older = nullptr;  ///< arrival (= deadline) order
        Datagram* newer = nullptr;
    };
    using Table = std::unordered_map<Key, Datagram, KeyHash>;

    static std::size_t overhead() noexcept;
    Datagram* create(const Key& key, Time now);
    /// Turns a datagram into a tombstone (it keeps its place and deadline).
    void bury(Datagram& datagram);
    void erase(Datagram& datagram);
    /// Drops oldest datagrams other than `keep` until `extra` more bytes fit; false if they can't.
    bool make_room(std::size_t extra, const Datagram* keep);
    void charge(Datagram& datagram, std::size_t bytes) noexcept;
    Packet assemble(Datagram& datagram);

    ReassemblyOptions options_;
    const Checksum& checksum_;
    Table table_;
    Datagram* oldest_ = nullptr;
    Datagram* newest_ = nullptr;
    ReassemblyCounters counters_;
};

}  // namespace netloom::ip
