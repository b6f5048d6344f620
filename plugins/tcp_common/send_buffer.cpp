// send_buffer.cpp — bounded ring send buffer (contract in send_buffer.hpp).
#include "netloom/tcp_common/send_buffer.hpp"

#include <algorithm>

namespace netloom::tcp {

std::size_t SendBuffer::append(std::span<const std::uint8_t> bytes) {
    const auto taken =
        static_cast<std::uint32_t>(std::min<std::size_t>(bytes.size(), free_space()));
    if (taken == 0) return 0;
    ring_.reserve(size_ + taken, size_, std::max(limit_, size_ + taken));
    ring_.write(size_, bytes.first(taken));
    size_ += taken;
    return taken;
}

std::size_t SendBuffer::peek(std::uint32_t offset, std::span<std::uint8_t> out) const noexcept {
    if (offset >= size_) return 0;
    const std::size_t n = std::min<std::size_t>(out.size(), size_ - offset);
    ring_.read(offset, out.first(n));
    return n;
}

std::array<std::span<const std::uint8_t>, 2> SendBuffer::view(std::uint32_t offset,
                                                              std::uint32_t length) const noexcept {
    if (offset >= size_) return {};
    return ring_.view(offset, std::min(length, size_ - offset));
}

void SendBuffer::consume(std::uint32_t count) noexcept {
    count = std::min(count, size_);
    size_ -= count;
    if (size_ == 0) {
        ring_.release();  // an idle connection keeps no storage
    } else {
        ring_.advance(count);
    }
}

void SendBuffer::clear() noexcept {
    size_ = 0;
    ring_.release();
}

}  // namespace netloom::tcp
