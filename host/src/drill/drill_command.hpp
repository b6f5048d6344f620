// drill_command.hpp — `netloom drill [options] SCRIPT...`: parses packetdrill scripts and runs
// each against a target (tcp_utcp, tcp_classic in process on the sim clock, or the Linux kernel
// behind a TUN device), one forked process per script (`-j N` at once), then prints a summary.
//
// Contract: exit status 0 when no script failed (unsupported scripts and marked divergences are
// counted apart, and do not fail the run unless --strict), 1 when one failed, 2 when a script or
// an option is unusable (with file:line:column). A script's process is killed after --timeout
// seconds of wall time and reported as failed, so no script can hang the run.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace netloom::drill {

struct DrillOptions {
    std::vector<std::string> scripts;
    std::string engine = "tcp_utcp";
    std::string json;
    int jobs = 1;
    double timeout_seconds = 0;  ///< 0: 120 s on engines, 600 s on linux
    bool strict = false;         ///< unsupported scripts fail the run too
    bool dry_run = false;        ///< parse only
    bool verbose = false;
    std::vector<std::string> plugin_path;
    std::string base_config;
    /// packetdrill options given on the command line ("tolerance_usecs" -> "10000"); they
    /// override the script's own.
    std::map<std::string, std::string> overrides;
    std::map<std::string, std::string> defines;
};

int command_drill(const DrillOptions& options);

}  // namespace netloom::drill

namespace CLI {
class App;
}

namespace netloom::drill {

/// The `drill` subcommand as registered on the host's command line.
struct DrillSubcommand {
    CLI::App* command = nullptr;
    DrillOptions options;
    std::map<std::string, std::string> overrides;
    std::vector<std::string> defines;
};
std::unique_ptr<DrillSubcommand> add_drill_subcommand(CLI::App& app);
int run_drill_subcommand(DrillSubcommand& drill, const std::vector<std::string>& plugin_path);

}  // namespace netloom::drill
