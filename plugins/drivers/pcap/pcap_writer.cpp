// Classic pcap records, buffered in memory and written with write(2).
#include "pcap_writer.hpp"

#include <fcntl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace netloom::drivers {
namespace {

void put32(std::uint8_t* at, std::uint32_t value) noexcept {
    std::memcpy(at, &value, 4);
}
void put16(std::uint8_t* at, std::uint16_t value) noexcept {
    std::memcpy(at, &value, 2);
}

}  // namespace

PcapWriter::PcapWriter(const std::string& path, std::uint32_t snaplen, std::size_t buffer_bytes)
    : path_(path),
      snaplen_(snaplen),
      buffer_(new std::uint8_t[buffer_bytes]),
      capacity_(buffer_bytes) {
    fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd_ < 0) {
        throw std::runtime_error("cannot create capture file '" + path +
                                 "': " + std::strerror(errno));
    }
    std::uint8_t header[kGlobalHeaderBytes];
    put32(header + 0, kMagicMicroseconds);
    put16(header + 4, kVersionMajor);
    put16(header + 6, kVersionMinor);
    put32(header + 8, 0);   // thiszone: timestamps are UTC
    put32(header + 12, 0);  // sigfigs: always 0 in practice
    put32(header + 16, snaplen_);
    put32(header + 20, kLinkTypeEthernet);
    const iovec whole[] = {{header, sizeof header}};
    if (!append(whole, 1)) {
        int error = last_error_;
        ::close(fd_);
        throw std::runtime_error("cannot write capture file '" + path +
                                 "': " + std::strerror(error));
    }
}

PcapWriter::~PcapWriter() {
    flush();
    ::close(fd_);
}

void PcapWriter::write(std::span<const std::uint8_t> frame, std::int64_t unix_time_ns) noexcept {
    const auto captured = static_cast<std::uint32_t>(std::min<std::size_t>(frame.size(), snaplen_));
    const std::size_t record = kRecordHeaderBytes + captured;
    if (used_ + record > capacity_) flush();

    std::uint8_t header[kRecordHeaderBytes];
    if (unix_time_ns < 0) unix_time_ns = 0;
    put32(header + 0, static_cast<std::uint32_t>(unix_time_ns / 1'000'000'000));
    put32(header + 4, static_cast<std::uint32_t>(unix_time_ns % 1'000'000'000 / 1000));
    put32(header + 8, captured);
    put32(header + 12, static_cast<std::uint32_t>(frame.size()));
    ++records_;

    if (record > capacity_) {  // only when snaplen exceeds the buffer: write through
        const iovec parts[] = {{header, sizeof header},
                               {const_cast<std::uint8_t*>(frame.data()), captured}};
        if (!append(parts, 2)) ++write_errors_;
        return;
    }
    std::memcpy(buffer_.get() + used_, header, sizeof header);
    std::memcpy(buffer_.get() + used_ + sizeof header, frame.data(), captured);
    used_ += record;
}

bool PcapWriter::flush() noexcept {
    if (used_ == 0) return true;
    const iovec whole[] = {{buffer_.get(), used_}};
    bool ok = append(whole, 1);
    if (!ok) ++write_errors_;
    used_ = 0;
    return ok;
}

bool PcapWriter::append(const iovec* parts, int count) noexcept {
    // A copy to advance through: writev may take any prefix.
    iovec left[2];
    int left_count = std::min(count, 2);
    std::copy(parts, parts + left_count, left);
    std::size_t total = 0;
    for (int i = 0; i < left_count; ++i) total += left[i].iov_len;
    iovec* next = left;
    std::size_t remaining = total;
    while (remaining > 0) {
        const ssize_t n = ::writev(fd_, next, left_count);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            last_error_ = n < 0 ? errno : EIO;
            // Never leave a torn record: cut the file back to the last whole one, so what is
            // there stays readable and later records follow it cleanly.
            if (::ftruncate(fd_, static_cast<off_t>(file_bytes_)) != 0 ||
                ::lseek(fd_, static_cast<off_t>(file_bytes_), SEEK_SET) < 0) {
                last_error_ = errno;
            }
            return false;
        }
        remaining -= static_cast<std::size_t>(n);
        for (auto done = static_cast<std::size_t>(n); done > 0 && left_count > 0;) {
            const std::size_t step = std::min(done, next->iov_len);
            next->iov_base = static_cast<std::uint8_t*>(next->iov_base) + step;
            next->iov_len -= step;
            done -= step;
            if (next->iov_len == 0) {
                ++next;
                --left_count;
            }
        }
    }
    file_bytes_ += total;
    return true;
}

}  // namespace netloom::drivers
