// IPv4 reassembly: a sorted, non-overlapping list of pieces per datagram (an equivalent of the
// RFC 815 hole list: with no overlap allowed, the datagram is complete exactly when the bytes
// held equal the length announced by the last fragment), bounded in memory, pieces and time.
#include "reassembly.hpp"

#include <algorithm>
#include <cstring>
#include <random>

#include "netloom/wire/bytes.hpp"
#include "netloom/wire/ipv4.hpp"

namespace netloom::ip {
namespace {

constexpr std::uint32_t kMaxDatagram = 0xffff;

std::size_t capacity_of(const Packet& packet) noexcept {
    return packet.headroom() + packet.size() + packet.tailroom();
}

std::uint64_t random_seed() {
    // Keys come from the network: a per-instance seed keeps an attacker from aiming every
    // fragment at one hash bucket.
    std::random_device device;
    return (std::uint64_t{device()} << 32) ^ device();
}

}  // namespace

std::size_t Reassembler::KeyHash::operator()(const Key& key) const noexcept {
    std::uint64_t x = ((std::uint64_t{key.source} << 32) | key.destination) ^ seed;
    x ^= ((std::uint64_t{key.identification} << 8) | key.protocol) * 0x9e3779b97f4a7c15u;
    // splitmix64 finaliser: every input bit reaches every output bit.
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9u;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebu;
    return static_cast<std::size_t>(x ^ (x >> 31));
}

Reassembler::Reassembler(ReassemblyOptions options, const Checksum& checksum)
    : options_(options), checksum_(checksum), table_(16, KeyHash{random_seed()}) {}

Reassembler::~Reassembler() = default;

std::size_t Reassembler::overhead() noexcept {
    // The map node (key, datagram, next pointer, cached hash) and its bucket slot.
    return sizeof(Table::value_type) + 3 * sizeof(void*);
}

void Reassembler::charge(Datagram& datagram, std::size_t bytes) noexcept {
    datagram.charge += bytes;
    counters_.bytes_current += bytes;
    counters_.bytes_peak = std::max(counters_.bytes_peak, counters_.bytes_current);
}

Reassembler::Datagram* Reassembler::create(const Key& key, Time now) {
    if (!make_room(overhead(), nullptr)) return nullptr;
    auto [it, inserted] = table_.try_emplace(key);
    Datagram& datagram = it->second;
    datagram.key = key;
    datagram.deadline = now + options_.timeout;
    datagram.older = newest_;
    if (newest_) newest_->newer = &datagram;
    newest_ = &datagram;
    if (!oldest_) oldest_ = &datagram;
    charge(datagram, overhead());
    ++counters_.datagrams_current;
    counters_.datagrams_peak = std::max(counters_.datagrams_peak, counters_.datagrams_current);
    return &datagram;
}

void Reassembler::bury(Datagram& datagram) {
    if (datagram.tombstone) return;
    const std::size_t released = datagram.charge - overhead();
    std::vector<Piece>().swap(datagram.pieces);  // frees the buffers and the vector itself
    datagram.charge = overhead();
    counters_.bytes_current -= released;
    datagram.tombstone = true;
    --counters_.datagrams_current;
    ++counters_.tombstones_current;
    counters_.tombstones_peak = std::max(counters_.tombstones_peak, counters_.tombstones_current);
}

void Reassembler::erase(Datagram& datagram) {
    (datagram.older ? datagram.older->newer : oldest_) = datagram.newer;
    (datagram.newer ? datagram.newer->older : newest_) = datagram.older;
    counters_.bytes_current -= datagram.charge;
    if (datagram.tombstone) {
        --counters_.tombstones_current;
    } else {
        --counters_.datagrams_current;
    }
    const Key key = datagram.key;  // the datagram dies in erase()
    table_.erase(key);
}

bool Reassembler::make_room(std::size_t extra, const Datagram* keep) {
    if (extra > options_.memory) return false;
    while (counters_.bytes_current + extra > options_.memory) {
        Datagram* victim = oldest_;
        if (victim == keep) victim = victim->newer;
        if (!victim) return false;
        if (!victim->tombstone) ++counters_.drop_memory;
        erase(*victim);
    }
    return true;
}

Reassembler::Result Reassembler::feed(Packet&& fragment, Time now) {
    Result result;
    const auto view = wire::Ipv4View::parse(fragment.bytes());
    if (!view || !view->is_fragment()) {
        ++counters_.drop_bad_fragment;
        return result;
    }
    const auto header_length = static_cast<std::uint32_t>(view->header_length());
    const std::uint32_t begin = view->fragment_offset();
    const auto length = static_cast<std::uint32_t>(view->payload().size());
    const std::uint32_t end = begin + length;
    const bool last = !view->more_fragments();
    // RFC 791 3.2: every fragment but the last carries a multiple of 8 bytes; an empty piece
    // carries nothing and only costs memory.
    if (length == 0 || (!last && length % 8 != 0)) {
        ++counters_.drop_bad_fragment;
        return result;
    }

    const Key key{view->source().to_uint(), view->destination().to_uint(), view->identification(),
                  static_cast<std::uint8_t>(view->protocol())};
    const auto found = table_.find(key);
    Datagram* datagram = found == table_.end() ? nullptr : &found->second;
    if (datagram && datagram->tombstone) {
        ++counters_.drop_tombstone;
        return result;
    }
    if (header_length + end > kMaxDatagram) {
        ++counters_.drop_too_big;
        if (!datagram) datagram = create(key, now);
        if (datagram) bury(*datagram);
        return result;
    }
    if (!datagram) datagram = create(key, now);
    if (!datagram) {
        ++counters_.drop_memory;
        return result;
    }
    Datagram& d = *datagram;
    auto& pieces = d.pieces;
    const auto position = std::lower_bound(
        pieces.begin(), pieces.end(), begin,
        [](const Piece& piece, std::uint32_t offset) { return piece.begin < offset; });

    if (position != pieces.end() && position->begin == begin && position->end == end) {
        const auto held = position->fragment.bytes().subspan(
            std::size_t{position->fragment.data()[0] & 0x0fu} * 4);
        const auto payload = view->payload();
        if (std::equal(held.begin(), held.end(), payload.begin(), payload.end())) {
            ++counters_.duplicates;
            result.outcome = Outcome::duplicate;
            return result;
        }
    }
    const bool overlaps = (position != pieces.end() && position->begin < end) ||
                          (position != pieces.begin() && std::prev(position)->end > begin);
    if (overlaps) {
        ++counters_.drop_overlap;  // RFC 5722: the whole datagram, and its later fragments
        bury(d);
        return result;
    }
    const bool inconsistent =
        last ? (d.have_last && d.total != end) || (!pieces.empty() && pieces.back().end > end)
             : d.have_last && end > d.total;
    if (inconsistent) {
        ++counters_.drop_inconsistent;
        bury(d);
        return result;
    }
    if (pieces.size() >= options_.max_fragments) {
        ++counters_.drop_too_many_fragments;
        bury(d);
        return result;
    }
    const std::size_t cost = capacity_of(fragment) + sizeof(Piece);
    if (!make_room(cost, &d)) {
        ++counters_.drop_memory;
        erase(d);
        return result;
    }
    pieces.insert(position, Piece{begin, end, std::move(fragment), cost});
    charge(d, cost);
    d.received += length;
    if (last) {
        d.have_last = true;
        d.total = end;
    }
    if (d.have_last && d.received == d.total) {
        result.datagram = assemble(d);
        result.outcome = Outcome::completed;
        ++counters_.ok;
        erase(d);
        return result;
    }
    result.outcome = Outcome::held;
    return result;
}

Packet Reassembler::assemble(Datagram& datagram) {
    // Complete means the pieces tile [0, total) without overlap, so the first starts at 0.
    const Packet& first = datagram.pieces.front().fragment;
    const std::size_t header_length = std::size_t{first.data()[0] & 0x0fu} * 4;
    Packet out = Packet::allocate(header_length + datagram.total);
    auto bytes = out.append(header_length + datagram.total);
    std::memcpy(bytes.data(), first.data(), header_length);
    for (const Piece& piece : datagram.pieces) {
        const std::size_t piece_header = std::size_t{piece.fragment.data()[0] & 0x0fu} * 4;
        std::memcpy(bytes.data() + header_length + piece.begin,
                    piece.fragment.data() + piece_header, piece.end - piece.begin);
    }
    std::uint8_t* header = bytes.data();
    wire::store_be16(header + 2, static_cast<std::uint16_t>(header_length + datagram.total));
    // No longer a fragment: clear MF and the offset, keep DF as the sender set it.
    wire::store_be16(header + 6, wire::load_be16(header + 6) & 0x4000);
    wire::store_be16(header + 10, 0);
    wire::store_be16(header + 10, checksum_.finish({header, header_length}));
    out.set_flag(Packet::kReassembled);
    return out;
}

std::size_t Reassembler::expire(Time now, const ExpiredSink& on_expired) {
    std::size_t timed_out = 0;
    while (oldest_ && oldest_->deadline <= now) {
        Datagram& datagram = *oldest_;
        Packet first;
        if (!datagram.tombstone) {
            ++counters_.drop_timeout;
            ++timed_out;
            if (!datagram.pieces.empty() && datagram.pieces.front().begin == 0) {
                first = std::move(datagram.pieces.front().fragment);
            }
        }
        erase(datagram);
        // Called once the table is consistent again: the sink may send, even feed us.
        if (first && on_expired) on_expired(first.bytes());
    }
    return timed_out;
}

std::optional<Time> Reassembler::next_deadline() const noexcept {
    if (!oldest_) return std::nullopt;
    return oldest_->deadline;
}

void Reassembler::visit_counters(const CounterVisitor& visit) const {
    visit("reasm_ok", counters_.ok);
    visit("reasm_drop_overlap", counters_.drop_overlap);
    visit("reasm_drop_timeout", counters_.drop_timeout);
    visit("reasm_drop_memory", counters_.drop_memory);
    visit("reasm_drop_too_big", counters_.drop_too_big);
    visit("reasm_drop_too_many_fragments", counters_.drop_too_many_fragments);
    visit("reasm_drop_inconsistent", counters_.drop_inconsistent);
    visit("reasm_drop_tombstone", counters_.drop_tombstone);
    visit("reasm_drop_bad_fragment", counters_.drop_bad_fragment);
    visit("reasm_duplicates", counters_.duplicates);
    visit("reasm_bytes_current", counters_.bytes_current);
    visit("reasm_bytes_peak", counters_.bytes_peak);
    visit("reasm_datagrams_current", counters_.datagrams_current);
    visit("reasm_datagrams_peak", counters_.datagrams_peak);
    visit("reasm_tombstones_current", counters_.tombstones_current);
    visit("reasm_tombstones_peak", counters_.tombstones_peak);
}

}  // namespace netloom::ip
