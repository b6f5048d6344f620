// blk_sync: one blocking pread/pwrite (or fdatasync) per operation, behind BlockQueue.
#include "sync_block.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "block_keys.hpp"

namespace netloom::block {

namespace {
constexpr std::uint32_t kDirectAlignment = 4096;
}

SyncOptions SyncOptions::from_config(const Config& config) {
    SyncOptions o;
    config.allow({"use"});
    o.path = config.get_string("path");
    if (o.path.empty()) config.fail("path", "a file or device path", "\"\"");
    o.sector_size = read_sector_size(config);
    o.read_only = config.get_bool("read_only", false);
    o.sectors_per_request = read_limit(config, "sectors_per_request", 256, 1u << 20);
    o.create = config.get_bool("create", false);
    o.direct = config.get_bool("direct", false);
    if (config.has("size")) {
        o.size = read_capacity(config, "size", o.sector_size) * o.sector_size;
    } else if (o.create) {
        config.fail_missing("size", "the size of the file `create` makes (e.g. 64MiB)");
    }
    if (o.create && o.read_only)
        config.fail("create", "false with read_only: true (a new file would stay empty)", "true");
    config.done();
    return o;
}

SyncBlockDevice::SyncBlockDevice(const SyncOptions& options, Scheduler& scheduler, bool check_only)
    : options_(options) {
    geometry_.sector_size = options.sector_size;
    geometry_.read_only = options.read_only;
    geometry_.max_sectors_per_request = options.sectors_per_request;
    geometry_.max_in_flight = 1;
    geometry_.buffer_alignment = options.direct ? kDirectAlignment : 1;
    geometry_.sectors = options.size / options.sector_size;
    if (!check_only) {
        int flags = (options.read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC;
        if (options.create) flags |= O_CREAT;
        if (options.direct) flags |= O_DIRECT;
        fd_ = ::open(options.path.c_str(), flags, 0644);
        if (fd_ < 0) throw std::runtime_error(options.path + ": " + std::strerror(errno));
        try {
            struct stat st {};
            if (::fstat(fd_, &st) != 0)
                throw std::runtime_error(options.path + ": " + std::strerror(errno));
            std::uint64_t file_bytes = static_cast<std::uint64_t>(st.st_size);
            if (S_ISBLK(st.st_mode)) {
                const off_t end = ::lseek(fd_, 0, SEEK_END);
                file_bytes = end > 0 ? static_cast<std::uint64_t>(end) : 0;
            }
            if (options.size == 0) {
                geometry_.sectors = file_bytes / options.sector_size;
                if (geometry_.sectors == 0)
                    throw std::runtime_error(options.path +
                                             " holds less than one sector; give "
                                             "`size` with `create: true`");
            } else if (file_bytes < options.size) {
                if (!options.create || S_ISBLK(st.st_mode))
                    throw std::runtime_error(options.path + " has " + format_bytes(file_bytes) +
                                             ", less than `size` (" + format_bytes(options.size) +
                                             ")");
                if (::ftruncate(fd_, static_cast<off_t>(options.size)) != 0)
                    throw std::runtime_error(options.path + ": " + std::strerror(errno));
            }
        } catch (...) {
            ::close(fd_);
            throw;
        }
    }
    queue_ = std::make_unique<BlockQueue>(scheduler, geometry_,
                                          [this](const BlockOperation& op) { run(op); });
}

SyncBlockDevice::~SyncBlockDevice() {
    queue_.reset();
    if (fd_ >= 0) ::close(fd_);
}

std::string SyncBlockDevice::describe() const {
    std::string text = "sync(" + options_.path + ", " +
                       std::to_string(options_.sectors_per_request) + " sector(s)/request";
    if (options_.direct) text += ", O_DIRECT";
    if (options_.read_only) text += ", read-only";
    return text + ")";
}

void SyncBlockDevice::submit(const BlockRequest& request, BlockCompletion done) {
    queue_->submit(request, std::move(done));
}

void SyncBlockDevice::run(const BlockOperation& op) {
    queue_->finish(op.request, transfer(op));
}

int SyncBlockDevice::transfer(const BlockOperation& op) {
    if (fd_ < 0) return EIO;  // a device built by `netloom check` has no file
    if (op.op == BlockOp::flush) {
        ++syscalls_;
        while (::fdatasync(fd_) != 0) {
            if (errno != EINTR) return errno;
        }
        return 0;
    }
    std::uint8_t* data = op.buffer.data();
    const std::size_t size = op.buffer.size();
    const bool bounce =
        options_.direct && reinterpret_cast<std::uintptr_t>(data) % kDirectAlignment != 0;
    if (bounce) {
        if (bounce_.size() < size) bounce_ = allocate(size);
        if (op.op == BlockOp::write) std::memcpy(bounce_.data(), data, size);
        data = bounce_.data();
        ++bounced_;
    }
    const off_t base = static_cast<off_t>(op.sector * geometry_.sector_size);
    std::size_t done = 0;
    while (done < size) {
        ++syscalls_;
        const ssize_t n = op.op == BlockOp::read
                              ? ::pread(fd_, data + done, size - done, base + done)
                              : ::pwrite(fd_, data + done, size - done, base + done);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return errno == EINVAL || errno == EROFS ? EIO : errno;
        if (n == 0) return EIO;  // the file ends before the device does (it shrank)
        done += static_cast<std::size_t>(n);
    }
    if (bounce && op.op == BlockOp::read) std::memcpy(op.buffer.data(), data, size);
    return 0;
}

void SyncBlockDevice::visit_counters(const CounterVisitor& visit) const {
    queue_->visit_counters(visit);
    visit("syscalls", syscalls_);
    visit("bounced_operations", bounced_);
}

std::unique_ptr<SyncBlockDevice> make_sync_block(const Config& config, Env& env) {
    return std::make_unique<SyncBlockDevice>(SyncOptions::from_config(config), env.scheduler(),
                                             env.check_only());
}

}  // namespace netloom::block
