// blk_ram: memory behind BlockQueue; one memcpy per operation.
#include "ram_block.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "block_keys.hpp"

namespace netloom::block {

namespace {

// Reads all of `path` into `memory` (at most `limit` bytes); throws when it cannot or when the
// file is larger.
void load_image(const std::string& path, std::uint8_t* memory, std::uint64_t limit) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw std::runtime_error("image " + path + ": " + std::strerror(errno));
    std::uint64_t offset = 0;
    for (;;) {
        std::uint8_t probe;
        const std::size_t want = offset < limit ? static_cast<std::size_t>(limit - offset) : 1;
        std::uint8_t* into = offset < limit ? memory + offset : &probe;
        const ssize_t n = ::read(fd, into, want);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            const int error = errno;
            ::close(fd);
            throw std::runtime_error("image " + path + ": " + std::strerror(error));
        }
        if (n == 0) break;
        if (offset >= limit) {
            ::close(fd);
            throw std::runtime_error("image " + path + " is larger than the device (" +
                                     format_bytes(limit) + ")");
        }
        offset += static_cast<std::uint64_t>(n);
    }
    ::close(fd);
}

std::uint64_t image_bytes(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0)
        throw std::runtime_error("image " + path + ": " + std::strerror(errno));
    return static_cast<std::uint64_t>(st.st_size);
}

}  // namespace

RamOptions RamOptions::from_config(const Config& config) {
    RamOptions o;
    config.allow({"use"});
    BlockGeometry& g = o.geometry;
    g.sector_size = read_sector_size(config);
    o.image = config.get_string("image", "");
    if (config.has("size") || o.image.empty())
        g.sectors = read_capacity(config, "size", g.sector_size);
    g.read_only = config.get_bool("read_only", false);
    g.max_sectors_per_request = read_limit(config, "max_sectors", 256, 1u << 20);
    g.max_in_flight = read_limit(config, "max_in_flight", 32, 65536);
    g.buffer_alignment = 1;
    config.done();
    return o;
}

RamBlockDevice::RamBlockDevice(const RamOptions& options, Scheduler& scheduler, bool check_only)
    : geometry_(options.geometry), image_(options.image) {
    if (!check_only) {
        if (geometry_.sectors == 0) {  // sized by the image
            const std::uint64_t bytes = image_bytes(image_);
            if (bytes == 0)
                throw std::runtime_error("image " + image_ + " is empty and no `size` is given");
            geometry_.sectors = (bytes + geometry_.sector_size - 1) / geometry_.sector_size;
        }
        // MAP_NORESERVE: a large, sparsely used device costs only the pages written.
        void* memory = ::mmap(nullptr, geometry_.bytes(), PROT_READ | PROT_WRITE,
                              MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (memory == MAP_FAILED)
            throw std::runtime_error("cannot map " + format_bytes(geometry_.bytes()) + ": " +
                                     std::strerror(errno));
        memory_ = static_cast<std::uint8_t*>(memory);
        try {
            if (!image_.empty()) load_image(image_, memory_, geometry_.bytes());
        } catch (...) {
            ::munmap(memory_, geometry_.bytes());
            throw;
        }
    }
    queue_ = std::make_unique<BlockQueue>(scheduler, geometry_,
                                          [this](const BlockOperation& op) { run(op); });
}

RamBlockDevice::~RamBlockDevice() {
    queue_.reset();
    if (memory_) ::munmap(memory_, geometry_.bytes());
}

std::string RamBlockDevice::describe() const {
    std::string text = "ram(" + format_bytes(geometry_.bytes());
    if (!image_.empty()) text += " from " + image_;
    if (geometry_.read_only) text += ", read-only";
    return text + ")";
}

void RamBlockDevice::submit(const BlockRequest& request, BlockCompletion done) {
    queue_->submit(request, std::move(done));
}

void RamBlockDevice::run(const BlockOperation& op) {
    int error = 0;
    if (!memory_) {
        error = EIO;  // a device built by `netloom check` has no memory
    } else if (op.op != BlockOp::flush) {
        std::uint8_t* at = memory_ + op.sector * geometry_.sector_size;
        if (op.op == BlockOp::read)
            std::memcpy(op.buffer.data(), at, op.buffer.size());
        else
            std::memcpy(at, op.buffer.data(), op.buffer.size());
    }
    queue_->finish(op.request, error);
}

std::unique_ptr<RamBlockDevice> make_ram_block(const Config& config, Env& env) {
    return std::make_unique<RamBlockDevice>(RamOptions::from_config(config), env.scheduler(),
                                            env.check_only());
}

}  // namespace netloom::block
