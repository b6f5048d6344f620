// The http directory source: path resolution under the root, opening without following
// symlinks, and pread streaming; see file_source.hpp.
#include "file_source.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <vector>

#include "tcp_app_support.hpp"

namespace netloom::apps {

namespace fs = std::filesystem;

namespace {

bool within(const fs::path& path, const fs::path& root) {
    const auto [r, p] = std::mismatch(root.begin(), root.end(), path.begin(), path.end());
    return r == root.end();
}

class FileBody final : public Body {
public:
    FileBody(int fd, std::uint64_t size, std::string name)
        : fd_(fd), size_(size), name_(std::move(name)) {}
    ~FileBody() override { ::close(fd_); }
    FileBody(const FileBody&) = delete;
    FileBody& operator=(const FileBody&) = delete;

    std::uint64_t size() const override { return size_; }
    const std::string& name() const override { return name_; }
    void start(std::uint64_t first, std::uint64_t length) override {
        at_ = first;
        left_ = length;
        buffer_.resize(static_cast<std::size_t>(std::min<std::uint64_t>(length, kTcpAppChunk)));
    }
    Task<BodyChunk> next() override {
        const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(buffer_.size(), left_));
        const ssize_t got = ::pread(fd_, buffer_.data(), want, static_cast<off_t>(at_));
        // A file that shrank under us cannot keep the promised length: EIO.
        if (got <= 0) co_return BodyChunk{{}, got < 0 ? errno : EIO};
        at_ += static_cast<std::uint64_t>(got);
        left_ -= static_cast<std::uint64_t>(got);
        co_return BodyChunk{std::span(buffer_).first(static_cast<std::size_t>(got)), 0};
    }

private:
    int fd_;
    std::uint64_t size_;
    std::string name_;
    std::uint64_t at_ = 0, left_ = 0;
    std::vector<std::uint8_t> buffer_;
};

}  // namespace

int open_served_file(int root_fd, const fs::path& root, const fs::path& relative) {
    // No symlink may be met (the path was made canonical, so one now is a swap), nothing may
    // resolve outside root_fd; O_NONBLOCK so a FIFO swapped in cannot block the loop in open().
    constexpr int kFlags = O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC;
    open_how how{};
    how.flags = kFlags;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
    int fd = static_cast<int>(::syscall(SYS_openat2, root_fd, relative.c_str(), &how, sizeof how));
    if (fd < 0 && (errno == ENOSYS || errno == EPERM)) {
        // A kernel before 5.6 (or a seccomp filter): O_NOFOLLOW guards the last component only,
        // so check where the descriptor really leads.
        fd = ::openat(root_fd, relative.c_str(), kFlags);
        if (fd >= 0) {
            std::error_code ec;
            const fs::path real = fs::read_symlink("/proc/self/fd/" + std::to_string(fd), ec);
            if (ec || !within(real, root)) {
                ::close(fd);
                return -1;
            }
        }
    }
    if (fd < 0) return -1;
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        ::close(fd);
        return -1;
    }
    return fd;
}

FileSource::FileSource(fs::path root)
    : root_(std::move(root)), root_fd_(::open(root_.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC)) {
    if (root_fd_ < 0) {
        throw std::runtime_error("http server: cannot open root " + root_.string() + ": " +
                                 std::strerror(errno));
    }
}

FileSource::~FileSource() {
    ::close(root_fd_);  // bodies still alive use only their own descriptors
}

std::optional<fs::path> FileSource::resolve(const std::string& path) const {
    std::error_code ec;
    // weakly_canonical follows symlinks, so a link pointing out of the root lands outside.
    fs::path real = fs::weakly_canonical(root_ / path.substr(1), ec);
    if (ec || !within(real, root_)) return std::nullopt;
    if (fs::is_directory(real, ec)) {
        real = fs::weakly_canonical(real / "index.html", ec);
        if (ec || !within(real, root_)) return std::nullopt;
    }
    if (!fs::is_regular_file(real, ec)) return std::nullopt;
    return real;
}

Task<BodyLookup> FileSource::open(const std::string& path) {
    const auto file = resolve(path);
    const int fd = file ? open_served_file(root_fd_, root_, file->lexically_relative(root_)) : -1;
    struct stat st {};
    if (fd >= 0 && ::fstat(fd, &st) == 0) {
        co_return BodyLookup{0, std::make_unique<FileBody>(
                                    fd, static_cast<std::uint64_t>(st.st_size), file->string())};
    }
    if (fd >= 0) ::close(fd);
    co_return BodyLookup{404, nullptr};
}

}  // namespace netloom::apps
