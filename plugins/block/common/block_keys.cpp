// The geometry keys shared by the block drivers and the refusal of bad requests.
#include "block_keys.hpp"

#include <cerrno>
#include <cstdio>
#include <string>

namespace netloom::block {

std::uint32_t read_sector_size(const Config& config, std::uint32_t fallback) {
    const std::uint64_t size = config.get_size("sector_size", fallback);
    if (size < 512 || size > 65536 || (size & (size - 1)) != 0) {
        config.fail("sector_size", "a power of two from 512 to 64KiB", std::to_string(size));
    }
    return static_cast<std::uint32_t>(size);
}

std::uint32_t read_limit(const Config& config, std::string_view key, std::uint32_t fallback,
                         std::uint32_t max) {
    return static_cast<std::uint32_t>(config.get_int(key, fallback, 1, max));
}

std::uint64_t read_capacity(const Config& config, std::string_view key, std::uint32_t sector_size) {
    const std::uint64_t bytes = config.get_size(key);
    if (bytes == 0 || bytes % sector_size != 0) {
        config.fail(
            key,
            "a positive size, a whole number of " + std::to_string(sector_size) + "-byte sectors",
            std::to_string(bytes) + " bytes");
    }
    return bytes / sector_size;
}

int refusal(const BlockGeometry& geometry, const BlockRequest& request) noexcept {
    if (request.op == BlockOp::flush) return 0;
    if (request.buffer.size() % geometry.sector_size != 0) return EINVAL;
    const std::uint64_t count = request.buffer.size() / geometry.sector_size;
    // sector + count > sectors, written so that neither side can overflow.
    if (request.sector > geometry.sectors || count > geometry.sectors - request.sector)
        return EINVAL;
    if (request.op == BlockOp::write && geometry.read_only) return EROFS;
    return 0;
}

std::string format_bytes(std::uint64_t bytes) {
    static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int unit = 0;
    double value = static_cast<double>(bytes);
    while (value >= 1024 && unit < 4) {
        value /= 1024;
        ++unit;
    }
    char text[32];
    if (value == static_cast<double>(static_cast<std::uint64_t>(value)))
        std::snprintf(text, sizeof text, "%llu %s", static_cast<unsigned long long>(value),
                      kUnits[unit]);
    else
        std::snprintf(text, sizeof text, "%.1f %s", value, kUnits[unit]);
    return text;
}

}  // namespace netloom::block
