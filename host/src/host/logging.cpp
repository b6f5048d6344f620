// Loggers are created lazily on first use and re-levelled when the config is (re)read.
#include "logging.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>

namespace netloom::host {
namespace {
constexpr const char* kLevels = "trace|debug|info|warn|error|critical|off";
}

Logging::Logging() : sink_(std::make_shared<spdlog::sinks::stderr_color_sink_mt>()) {
    sink_->set_pattern("%H:%M:%S.%e %^%-5l%$ [%n] %v");
}

bool Logging::valid_level(const std::string& name) {
    return name != "" &&
           std::string("|").append(kLevels).append("|").find("|" + name + "|") != std::string::npos;
}

void Logging::configure(const Config& log, const std::string& cli_level) {
    std::string level = log.get_choice(
        "level", {"trace", "debug", "info", "warn", "error", "critical", "off"}, "info");
    if (!cli_level.empty()) level = cli_level;
    default_level_ = spdlog::level::from_str(level);
    component_levels_.clear();
    Config components = log.child("components", true);
    for (const auto& name : components.keys()) {
        std::string value = components.get_choice(
            name, {"trace", "debug", "info", "warn", "error", "critical", "off"});
        component_levels_[name] = spdlog::level::from_str(value);
    }
    components.done();
    log.done();
    for (auto& [name, logger] : loggers_) logger->set_level(level_for(name));
}

spdlog::level::level_enum Logging::level_for(std::string_view component) const {
    // Longest configured prefix wins: "driver.tap" before "driver".
    std::string_view name = component;
    while (true) {
        if (auto it = component_levels_.find(name); it != component_levels_.end())
            return it->second;
        auto dot = name.rfind('.');
        if (dot == std::string_view::npos) return default_level_;
        name = name.substr(0, dot);
    }
}

std::shared_ptr<spdlog::logger> Logging::get(std::string_view component) {
    if (auto it = loggers_.find(component); it != loggers_.end()) return it->second;
    auto logger = std::make_shared<spdlog::logger>(std::string(component), sink_);
    logger->set_level(level_for(component));
    loggers_.emplace(std::string(component), logger);
    return logger;
}

}  // namespace netloom::host
