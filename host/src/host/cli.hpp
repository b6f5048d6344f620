// cli.hpp — the `netloom` command line, shared by the dynamic host and the static image.
//
// Contract: returns the process exit status: 0 success, 1 runtime failure, 2 bad config or
// plugin (the message names file:line:column or the plugin file). When `embedded_config` is set
// (the static image), `run` and `check` use it when no CONFIG is given, and running the program
// with no arguments means `run`.
#pragma once

#include <optional>
#include <string>

namespace netloom::host {

struct EmbeddedConfig {
    std::string name;  // shown in messages, e.g. "(embedded) default.yaml"
    std::string yaml;
};

int run_cli(int argc, char** argv, const std::optional<EmbeddedConfig>& embedded_config);

}  // namespace netloom::host
