// blk_uring's set-up: config keys, opening the file (O_DIRECT or the reason why not), the ring,
// its registered buffers, its watch and poller, the availability probe, the factory; and
// tear-down.
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include <spdlog/spdlog.h>

#include "block_keys.hpp"
#include "netloom/config.hpp"
#include "netloom/env.hpp"
#include "uring_device.hpp"

namespace netloom::block {

namespace {

constexpr std::uint64_t kMaxOperationBytes = std::uint64_t{1} << 30;  // one registered iovec
constexpr std::uint32_t kDefaultOperationBytes = 256 << 10;           // max_sectors' default

bool power_of_two(std::uint64_t value) {
    return value != 0 && (value & (value - 1)) == 0;
}

std::runtime_error failure(const std::string& path, const std::string& what, int error) {
    return std::runtime_error("blk_uring(" + path + "): " + what + ": " + std::strerror(error));
}

// The operations every device uses; READ_FIXED/WRITE_FIXED came with READV (5.1), READ/WRITE
// with 5.6.
constexpr int kNeededOps[] = {IORING_OP_READ, IORING_OP_WRITE, IORING_OP_READ_FIXED,
                              IORING_OP_WRITE_FIXED, IORING_OP_FSYNC};

}  // namespace

UringOptions UringOptions::from_config(const Config& config) {
    UringOptions o;
    o.path = config.get_string("path");
    if (o.path.empty()) config.fail("path", "a file or block device path", "an empty string");
    if (config.has("sector_size")) o.sector_size = read_sector_size(config);
    o.read_only = config.get_bool("read_only", false);
    o.direct = config.get_bool("direct", true);
    o.queue_depth = static_cast<std::uint32_t>(config.get_int("queue_depth", 32, 1, 4096));
    o.max_sectors =
        static_cast<std::uint32_t>(config.get_int("max_sectors", 0, 0, kMaxOperationBytes / 512));
    if (o.max_sectors != 0 && o.sector_size != 0 &&
        std::uint64_t{o.max_sectors} * o.sector_size > kMaxOperationBytes) {
        config.fail("max_sectors", "at most 1 GiB per operation", config.get_string("max_sectors"));
    }
    o.registered_bytes = config.get_size("registered_buffers", o.registered_bytes);
    if (o.registered_bytes > kMaxOperationBytes) {
        config.fail("registered_buffers", "at most 1 GiB", config.get_string("registered_buffers"));
    }
    return o;
}

const char* uring_unavailable() {
    static const std::string reason = [] {
        io_uring ring{};
        const int result = io_uring_queue_init(2, &ring, 0);
        if (result < 0) {
            return std::string("io_uring_setup failed: ") + std::strerror(-result) +
                   (result == -EPERM ? " (kernel.io_uring_disabled, or a seccomp filter)" : "");
        }
        std::string missing;
        if (io_uring_probe* probe = io_uring_get_probe_ring(&ring)) {
            for (int op : kNeededOps) {
                if (!io_uring_opcode_supported(probe, op)) missing += " " + std::to_string(op);
            }
            io_uring_free_probe(probe);
        } else {
            missing = " (no probe: kernel before 5.6)";
        }
        io_uring_queue_exit(&ring);
        return missing.empty() ? std::string() : "the kernel's io_uring lacks opcodes" + missing;
    }();
    return reason.empty() ? nullptr : reason.c_str();
}

UringDevice::UringDevice(UringOptions options, Scheduler& scheduler,
                         std::shared_ptr<spdlog::logger> log)
    : options_(std::move(options)), scheduler_(scheduler), log_(std::move(log)) {
    geometry_.read_only = options_.read_only;
    geometry_.max_in_flight = options_.queue_depth;
    geometry_.sector_size = options_.sector_size ? options_.sector_size : 512;
    if (options_.check_only) {  // `netloom check`: touch nothing
        geometry_.max_sectors_per_request = options_.max_sectors
                                                ? options_.max_sectors
                                                : kDefaultOperationBytes / geometry_.sector_size;
        return;
    }
    try {
        open_file();
        set_up_ring();
    } catch (...) {
        release_resources();
        throw;
    }
    log_->info("{}: {} sectors, {} per operation, fixed buffers {}", describe(), geometry_.sectors,
               geometry_.max_sectors_per_request,
               fixed_buffers_ ? std::to_string(pool_->region_bytes()) + " bytes" : "off");
}

UringDevice::~UringDevice() {
    release_resources();
}

void UringDevice::open_file() {
    const std::string& path = options_.path;
    const int access = (options_.read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC;
    fd_ = options_.direct ? ::open(path.c_str(), access | O_DIRECT) : -1;
    direct_ = fd_ >= 0;
    if (options_.direct && fd_ < 0 && errno == EINVAL) {
        direct_note_ = "the file system refuses O_DIRECT";
    }
    if (fd_ < 0 && (!options_.direct || errno == EINVAL)) fd_ = ::open(path.c_str(), access);
    if (fd_ < 0) {
        const int error = errno;
        throw failure(path,
                      error == EROFS || error == EACCES
                          ? "cannot open it for writing (read_only: true opens it read-only)"
                          : "cannot open it",
                      error);
    }
    struct stat st {};
    if (::fstat(fd_, &st) != 0) throw failure(path, "fstat", errno);
    std::uint64_t bytes = 0;
    if (S_ISREG(st.st_mode)) {
        bytes = static_cast<std::uint64_t>(st.st_size);
    } else if (S_ISBLK(st.st_mode)) {
        if (::ioctl(fd_, BLKGETSIZE64, &bytes) != 0) throw failure(path, "BLKGETSIZE64", errno);
    } else {
        throw std::runtime_error("blk_uring(" + path +
                                 "): neither a regular file nor a block device");
    }

    // The alignment O_DIRECT needs: statx's STATX_DIOALIGN (6.1), else the block device's
    // logical sector size, else the file system's block size (safe if coarse).
    std::uint32_t offset_alignment = 512;
    if (direct_) {
        struct statx sx {};
        if (::statx(fd_, "", AT_EMPTY_PATH, STATX_DIOALIGN, &sx) == 0 &&
            (sx.stx_mask & STATX_DIOALIGN) != 0) {
            offset_alignment = sx.stx_dio_offset_align;
            memory_alignment_ = sx.stx_dio_mem_align;
            if (offset_alignment == 0) {
                direct_ = false;  // e.g. tmpfs, which accepts the flag and caches anyway
                direct_note_ = "the file system does no direct I/O on this file";
            }
        } else if (S_ISBLK(st.st_mode)) {
            int logical = 512;
            if (::ioctl(fd_, BLKSSZGET, &logical) == 0 && logical > 0) {
                offset_alignment = static_cast<std::uint32_t>(logical);
            }
            memory_alignment_ = offset_alignment;
        } else {
            offset_alignment = power_of_two(static_cast<std::uint64_t>(st.st_blksize))
                                   ? static_cast<std::uint32_t>(st.st_blksize)
                                   : 4096;
            memory_alignment_ = offset_alignment;
        }
    }
    std::uint32_t sector_size = options_.sector_size;
    if (sector_size == 0)
        sector_size = direct_ ? std::max<std::uint32_t>(512, offset_alignment) : 512;
    if (direct_ && sector_size % offset_alignment != 0) {
        direct_ = false;
        direct_note_ = "sector_size " + std::to_string(sector_size) +
                       " is finer than the file's direct-I/O alignment " +
                       std::to_string(offset_alignment);
    }
    if (!direct_) {
        memory_alignment_ = 1;
        const int flags = ::fcntl(fd_, F_GETFL);
        if ((flags & O_DIRECT) != 0 && ::fcntl(fd_, F_SETFL, flags & ~O_DIRECT) != 0) {
            throw failure(path, "cannot turn O_DIRECT off", errno);
        }
        if (options_.direct) {
            log_->warn("blk_uring({}): not using O_DIRECT: {}; I/O goes through the page cache",
                       path, direct_note_);
        }
    }
    if (memory_alignment_ == 0) memory_alignment_ = 1;

    geometry_.sector_size = sector_size;
    geometry_.sectors = bytes / sector_size;
    if (geometry_.sectors == 0) {
        throw std::runtime_error("blk_uring(" + path + "): holds " + std::to_string(bytes) +
                                 " bytes, less than one sector of " + std::to_string(sector_size));
    }
    if (bytes % sector_size != 0) {
        log_->warn("blk_uring({}): the last {} bytes are not a whole sector and are not used", path,
                   bytes % sector_size);
    }
    std::uint32_t max_sectors = options_.max_sectors;
    if (max_sectors == 0)
        max_sectors = std::max<std::uint32_t>(1, kDefaultOperationBytes / sector_size);
    if (std::uint64_t{max_sectors} * sector_size > kMaxOperationBytes) {
        max_sectors = static_cast<std::uint32_t>(kMaxOperationBytes / sector_size);
    }
    geometry_.max_sectors_per_request = max_sectors;
    geometry_.buffer_alignment = direct_ ? std::max<std::uint32_t>(memory_alignment_, 64) : 64;
}

void UringDevice::set_up_ring() {
    const std::string& path = options_.path;
    const int result = io_uring_queue_init(options_.queue_depth, &ring_, 0);
    if (result < 0) throw failure(path, "cannot set up an io_uring", -result);
    ring_ready_ = true;

    pool_ = BufferPool::create(options_.registered_bytes);
    if (pool_->region()) {
        iovec region{pool_->region(), pool_->region_bytes()};
        const int registered = io_uring_register_buffers(&ring_, &region, 1);
        if (registered == 0) {
            fixed_buffers_ = true;
        } else {
            // Usually RLIMIT_MEMLOCK: the memory is still handed out, used with plain ops.
            log_->warn(
                "blk_uring({}): cannot register {} bytes of buffers: {}; plain reads and "
                "writes",
                path, pool_->region_bytes(), std::strerror(-registered));
        }
    }
    slots_.resize(options_.queue_depth);
    free_slots_.reserve(options_.queue_depth);
    for (std::uint32_t slot = options_.queue_depth; slot-- > 0;) free_slots_.push_back(slot);
    // Completions are posted to the shared queue by io_uring's task work, which runs whenever
    // this thread leaves the kernel: after each io_uring_enter, and when a completion interrupts
    // the loop's wait (epoll_wait then returns EINTR). The poller reaps them before the loop
    // waits again, with no system call; it reports work only when it left some, so that a
    // drained queue lets the loop sleep. The ring's fd (readable while completions are queued)
    // is watched for what the poller cannot see: a completion posted between its look and the
    // wait (an interrupt while the loop is in user space runs the task work on its way back)
    // would otherwise wait for the next event, and a worker of io-wq may post one without
    // interrupting the wait. (An eventfd registered for io-wq's completions only, cheaper per
    // completion, hung the benchmark within minutes on the first.) An eventfd signalled for
    // every completion cost a read per wake-up, and a second wait after the interrupted one.
    watch_ = scheduler_.watch_readable(ring_.ring_fd, [this] {
        ++counters_.wakeups;
        reap_completions();
    });
    poller_ = scheduler_.add_poller([this] {
        if (io_uring_cq_ready(&ring_) == 0) return false;
        ++counters_.turn_reaps;
        return reap_completions();
    });
}

void UringDevice::release_resources() noexcept {
    if (watch_ != 0) scheduler_.unwatch(watch_);
    watch_ = 0;
    if (poller_ != 0) scheduler_.remove_poller(poller_);
    poller_ = 0;
    alive_.reset();  // posted completions and retries do nothing from now on
    bool kernel_done = true;
    if (ring_ready_ && in_flight_ > 0) {
        // The kernel may still write into our memory: wait for each of its operations, and
        // call nobody (block.hpp: destruction abandons pending requests).
        io_uring_submit(&ring_);
        while (in_flight_ > 0) {
            io_uring_cqe* cqe = nullptr;
            const int result = io_uring_wait_cqe(&ring_, &cqe);
            if (result == -EINTR) continue;
            if (result < 0) {
                log_->error("blk_uring({}): waiting for {} operations: {}; leaking their memory",
                            options_.path, in_flight_, std::strerror(-result));
                kernel_done = false;
                break;
            }
            const auto slot = static_cast<std::uint32_t>(cqe->user_data);
            io_uring_cqe_seen(&ring_, cqe);
            --in_flight_;
            delete release_piece(slots_[slot]);
        }
    }
    while (!waiting_.empty()) {
        delete release_piece(waiting_.front());
        waiting_.pop_front();
    }
    if (ring_ready_ && kernel_done) io_uring_queue_exit(&ring_);
    ring_ready_ = false;
    if (pool_ && kernel_done) pool_->detach_device();
    pool_ = nullptr;
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
}

std::unique_ptr<BlockDevice> make_uring_device(const Config& config, Env& env) {
    UringOptions options = UringOptions::from_config(config);
    config.done();
    options.check_only = env.check_only();
    if (env.scheduler().virtual_clock()) {
        config.fail_message("use",
                            "blk_uring needs a scheduler that watches fds; this one has a virtual "
                            "clock (sim): use epoll, fair or busypoll, or blk_ram");
    }
    if (!options.check_only) {
        if (const char* why = uring_unavailable()) {
            config.fail_message("use", std::string("io_uring is unavailable here: ") + why +
                                           "; blk_sync does the same with pread/pwrite");
        }
    }
    return std::make_unique<UringDevice>(std::move(options), env.scheduler(),
                                         env.logger("block.uring"));
}

}  // namespace netloom::block
