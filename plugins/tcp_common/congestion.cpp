// congestion.cpp — the congestion-control factory by name (contract in congestion.hpp).
#include "netloom/tcp_common/congestion.hpp"

#include <array>

namespace netloom::tcp {

namespace {
constexpr std::array<std::string_view, 2> kNames = {"newreno", "cubic"};
}  // namespace

std::optional<CongestionControl> CongestionControl::create(std::string_view name,
                                                           std::uint32_t mss) {
    if (name == kNames[0]) return CongestionControl(NewReno(mss));
    if (name == kNames[1]) return CongestionControl(Cubic(mss));
    return std::nullopt;
}

std::span<const std::string_view> CongestionControl::names() noexcept {
    return kNames;
}

std::string_view CongestionControl::name() const noexcept {
    return kNames[impl_.index()];
}

}  // namespace netloom::tcp
