// Classic pcap records, buffered in memory and written with write(2).
#include "pcap_writer.hpp"

#include <fcntl.h>
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
    if (!write_all(header, sizeof header)) {
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
        if (!write_all(header, sizeof header) || !write_all(frame.data(), captured)) {
            ++write_errors_;
        }
        return;
    }
    std::memcpy(buffer_.get() + used_, header, sizeof header);
    std::memcpy(buffer_.get() + used_ + sizeof header, frame.data(), captured);
    used_ += record;
}

bool PcapWriter::flush() noexcept {
    if (used_ == 0) return true;
    bool ok = write_all(buffer_.get(), used_);
    if (!ok) ++write_errors_;
    used_ = 0;
    return ok;
}

bool PcapWriter::write_all(const std::uint8_t* data, std::size_t size) noexcept {
    while (size > 0) {
        ssize_t n = ::write(fd_, data, size);
        if (n < 0) {
            if (errno == EINTR) continue;
            last_error_ = errno;
            return false;
        }
        data += n;
        size -= static_cast<std::size_t>(n);
    }
    return true;
}

}  // namespace netloom::drivers
