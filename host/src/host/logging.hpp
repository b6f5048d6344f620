// logging.hpp — one named spdlog logger per component, writing to stderr through one sink.
//
// Contract: levels come from the config's `log: {level: info, components: {tcp: debug}}`; a
// component level applies to the name and everything below it ("driver" covers "driver.tap").
// A level given on the command line replaces the default level (component levels still apply).
#pragma once

#include <spdlog/logger.h>

#include <map>
#include <memory>
#include <string>

#include "netloom/config.hpp"

namespace netloom::host {

class Logging {
public:
    Logging();
    /// Reads the `log` mapping (may be empty); `cli_level` (if not empty) overrides `level`.
    void configure(const Config& log, const std::string& cli_level);
    std::shared_ptr<spdlog::logger> get(std::string_view component);
    static bool valid_level(const std::string& name);

private:
    spdlog::level::level_enum level_for(std::string_view component) const;

    spdlog::sink_ptr sink_;
    spdlog::level::level_enum default_level_ = spdlog::level::info;
    std::map<std::string, spdlog::level::level_enum, std::less<>> component_levels_;
    std::map<std::string, std::shared_ptr<spdlog::logger>, std::less<>> loggers_;
};

}  // namespace netloom::host
