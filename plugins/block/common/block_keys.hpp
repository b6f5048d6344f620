// block_keys.hpp — what every block driver reads and checks the same way: the geometry keys of
// its YAML mapping, and the refusal of a request before any I/O (block.hpp's EINVAL and EROFS).
//
// Contract: the readers throw ConfigError at the offending key (file:line:column, expected,
// found). `refusal` returns 0 for a request the device may run, EINVAL for a buffer that is not a
// whole number of sectors or a range past the capacity (overflow included), EROFS for a write to
// a read-only device; flush is always 0. A read or write of no sectors is allowed (it completes
// with 0 and moves nothing).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "netloom/block.hpp"
#include "netloom/config.hpp"

namespace netloom::block {

/// `sector_size`: a power of two from 512 to 64 KiB.
std::uint32_t read_sector_size(const Config& config, std::uint32_t fallback = 512);

/// A count in [1, max] (`max_sectors`, `max_in_flight`...).
std::uint32_t read_limit(const Config& config, std::string_view key, std::uint32_t fallback,
                         std::uint32_t max);

/// A size key (`size: 64MiB`) as a number of sectors: positive and a whole number of sectors.
std::uint64_t read_capacity(const Config& config, std::string_view key, std::uint32_t sector_size);

/// 0, EINVAL or EROFS (see the contract above).
int refusal(const BlockGeometry& geometry, const BlockRequest& request) noexcept;

/// "64 MiB", "512 B", "1.5 GiB": a size for describe() strings.
std::string format_bytes(std::uint64_t bytes);

}  // namespace netloom::block
