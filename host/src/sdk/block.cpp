// The default BlockDevice::allocate: aligned heap memory, freed when the BlockBuffer goes.
#include "netloom/block.hpp"

#include <cstdlib>
#include <new>

namespace netloom {

namespace {
void free_aligned(std::uint8_t* data, void*) {
    std::free(data);
}
}  // namespace

BlockBuffer BlockDevice::allocate(std::size_t bytes) {
    std::size_t alignment = geometry().buffer_alignment;
    // aligned_alloc wants a power-of-two alignment of at least sizeof(void*) and a size that is
    // a multiple of it.
    if (alignment < sizeof(void*) || (alignment & (alignment - 1)) != 0) alignment = 64;
    const std::size_t rounded = (bytes + alignment - 1) / alignment * alignment;
    void* data = std::aligned_alloc(alignment, rounded == 0 ? alignment : rounded);
    if (!data) throw std::bad_alloc();
    return BlockBuffer(static_cast<std::uint8_t*>(data), bytes, &free_aligned, nullptr);
}

}  // namespace netloom
