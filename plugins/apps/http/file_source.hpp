// file_source.hpp — the `http` app's directory source (`root:`): regular files under a root
// directory, a directory's index.html for a directory, read with pread in 64 KiB pieces.
//
// Contract: a path that leaves the root — a ".." segment (refused by the parser), or a symlink
// resolving outside — is never served (404); the file is opened beneath the root without
// following symlinks and without blocking (open_served_file), so a swap after the check is
// refused too. A body holds its descriptor and one 64 KiB buffer; a file that shrinks under it
// gives EIO. The root must exist when the source is made (std::runtime_error otherwise).
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "body_source.hpp"

namespace netloom::apps {

/// Opens `relative` (a canonical path under the root, without symlinks) beneath `root_fd` for
/// reading: a descriptor of a regular file, or -1. A symlink met on the way (swapped in since
/// the path was resolved) or a non-regular file (a FIFO, a device) gives -1 without blocking.
/// Uses openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS); without it (ENOSYS), openat with
/// O_NOFOLLOW and a check through /proc/self/fd that the file lies under `root`.
int open_served_file(int root_fd, const std::filesystem::path& root,
                     const std::filesystem::path& relative);

class FileSource final : public BodySource {
public:
    /// `root`: canonical.
    explicit FileSource(std::filesystem::path root);
    ~FileSource() override;
    FileSource(const FileSource&) = delete;
    FileSource& operator=(const FileSource&) = delete;

    void start(TaskScope&) override {}
    Task<BodyLookup> open(const std::string& path) override;
    std::string describe() const override { return root_.string(); }
    void visit_counters(const CounterVisitor&) const override {}

    /// The file `path` (normalised, from the parser) names under the root, or nullopt when it is
    /// missing, not a regular file, or resolves outside the root.
    std::optional<std::filesystem::path> resolve(const std::string& path) const;

private:
    std::filesystem::path root_;
    int root_fd_;  ///< O_PATH descriptor of the root, for open_served_file
};

}  // namespace netloom::apps
