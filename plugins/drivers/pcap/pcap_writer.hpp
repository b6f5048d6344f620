// pcap_writer.hpp — writes the classic libpcap file format (magic 0xa1b2c3d4, version 2.4,
// microsecond timestamps, LINKTYPE_ETHERNET), as documented in the pcap-savefile man page and
// draft-ietf-opsawg-pcap.
//
// Contract: the constructor creates (truncates) the file and writes the global header, throwing
// std::runtime_error naming the path when it cannot. `write` appends one record to an in-memory
// buffer (frames longer than `snaplen` are cut, their original length kept) and flushes when the
// buffer is full; it never throws: a failed write is counted and its data discarded. The file
// never ends in a torn record: records go to the kernel whole (the buffer holds whole records),
// and a write that fails part-way (disk full) is cut off again, so the file ends on the last
// whole record. Fields are in host byte order, which readers detect from the magic. The
// destructor flushes.
#pragma once

#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

namespace netloom::drivers {

class PcapWriter {
public:
    static constexpr std::uint32_t kMagicMicroseconds = 0xa1b2c3d4;
    static constexpr std::uint16_t kVersionMajor = 2;
    static constexpr std::uint16_t kVersionMinor = 4;
    static constexpr std::uint32_t kLinkTypeEthernet = 1;
    static constexpr std::size_t kGlobalHeaderBytes = 24;
    static constexpr std::size_t kRecordHeaderBytes = 16;

    PcapWriter(const std::string& path, std::uint32_t snaplen,
               std::size_t buffer_bytes = 256 * 1024);
    ~PcapWriter();
    PcapWriter(const PcapWriter&) = delete;
    PcapWriter& operator=(const PcapWriter&) = delete;

    /// `unix_time_ns`: capture time as nanoseconds since 1970-01-01 UTC (stored as s + us).
    void write(std::span<const std::uint8_t> frame, std::int64_t unix_time_ns) noexcept;
    /// Hands the buffered records to the kernel; false if that failed (the data is dropped).
    bool flush() noexcept;
    bool has_buffered() const noexcept { return used_ != 0; }

    const std::string& path() const noexcept { return path_; }
    std::uint64_t records() const noexcept { return records_; }
    std::uint64_t write_errors() const noexcept { return write_errors_; }
    /// errno of the last failed write (0 if none), for one log line by the owner.
    int last_error() const noexcept { return last_error_; }

private:
    /// Writes `parts` (at most two) whole at the end of the file, or nothing: a failed write
    /// is cut off again, so the file always ends on a whole record.
    bool append(const iovec* parts, int count) noexcept;

    std::string path_;
    int fd_ = -1;
    std::uint32_t snaplen_;
    std::unique_ptr<std::uint8_t[]> buffer_;
    std::size_t capacity_;
    std::size_t used_ = 0;
    std::uint64_t records_ = 0;
    std::uint64_t write_errors_ = 0;
    int last_error_ = 0;
    std::uint64_t file_bytes_ = 0;  ///< the file's length: whole records only
};

}  // namespace netloom::drivers
