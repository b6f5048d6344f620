// Subcommands: run, check, ab, plugins. Errors are printed once, as "netloom: error: ...".
#include "cli.hpp"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>

#include "ab_check.hpp"
#include "ab_command.hpp"
#include "catalog.hpp"
#ifndef NETLOOM_STATIC_BUILD
#ifndef NETLOOM_STATIC_BUILD
#include "drill/drill_command.hpp"
#endif
#endif
#include "logging.hpp"
#include "runtime.hpp"

namespace netloom::host {
namespace {

struct Options {
    std::string log_level;
    std::vector<std::string> plugin_path;
    std::string config_file;
    std::string duration;
    std::string stats_json;
    bool no_stats = false;
    bool json = false;
    AbOptions ab;
};

Config load_config(const Options& o, const std::optional<EmbeddedConfig>& embedded) {
    if (!o.config_file.empty()) return Config::load_file(o.config_file);
    if (embedded) return Config::load_string(embedded->yaml, embedded->name);
    throw ConfigError(SourceMark{"(command line)", 0, 0}, "no CONFIG file given");
}

// The search path needs the config's plugin_path, which must be read before any plugin loads.
PluginCatalog make_catalog(const Options& o, const std::optional<Config>& root) {
    std::vector<std::string> from_config;
    if (root) from_config = root->get_string_list("plugin_path", std::vector<std::string>{});
    return PluginCatalog(default_search_path(o.plugin_path, from_config));
}

void print_stats(const std::vector<StatsRow>& rows) {
    std::size_t width = 9;
    for (const auto& r : rows) width = std::max(width, r.component.size() + r.counter.size() + 1);
    std::printf("%-*s %12s\n", static_cast<int>(width), "counter", "value");
    for (const auto& r : rows) {
        if (r.value == 0) continue;  // the JSON has every counter; the table shows what happened
        std::string name = r.component + " " + r.counter;
        std::printf("%-*s %12llu\n", static_cast<int>(width), name.c_str(),
                    static_cast<unsigned long long>(r.value));
    }
}

void write_stats_json(const std::string& file, const std::vector<StatsRow>& rows) {
    nlohmann::json out = nlohmann::json::object();
    for (const auto& r : rows) out[r.component][r.counter] = r.value;
    // Written aside and renamed, so a reader never sees half a file.
    std::string partial = file + ".partial";
    {
        std::ofstream f(partial);
        f << out.dump(2) << "\n";
        if (!f) throw std::runtime_error("cannot write " + partial);
    }
    if (std::rename(partial.c_str(), file.c_str()) != 0)
        throw std::runtime_error("cannot write " + file);
}

int command_run(const Options& o, const std::optional<EmbeddedConfig>& embedded, bool check_only) {
    Config root = load_config(o, embedded);
    Logging logging;
    logging.configure(root.child("log", true), o.log_level);
    PluginCatalog catalog = make_catalog(o, root);
    std::optional<std::chrono::nanoseconds> duration;
    if (!o.duration.empty()) {
        duration = parse_duration(o.duration);
        if (!duration)
            throw ConfigError(
                {"(command line)", 0, 0},
                "--duration: expected a duration like 2s, found \"" + o.duration + "\"");
    }
    std::optional<Runtime> composed;
    composed.emplace(root, catalog, logging, check_only);
    if (check_only) {
        const std::size_t stack_count = composed->stack_count();
        composed.reset();  // the A/B check composes its own; two at once would share wire links
        std::string ab;
        if (root.has("ab")) {  // `run` ignores it; `check` composes every variant x workload
            AbPlan plan = AbPlan::from_config(root);
            check_ab_plan(plan, catalog, logging);
            ab = ", A/B: " + std::to_string(plan.variants.size()) + " variant(s) x " +
                 std::to_string(plan.workloads.size()) + " workload(s)";
            for (const auto& v : plan.variants) {
                if (v.unavailable.empty()) continue;
                std::fprintf(stderr, "netloom: note: ab variant %s cannot run here: %s\n",
                             v.name.c_str(), v.unavailable.c_str());
            }
            for (const auto& w : plan.workloads) {
                if (w.unavailable.empty()) continue;
                std::fprintf(stderr, "netloom: note: ab workload %s cannot run here: %s\n",
                             w.name.c_str(), w.unavailable.c_str());
            }
        }
        std::printf("%s: OK (%zu stack(s)%s)\n", root.mark().file.c_str(), stack_count, ab.c_str());
        return 0;
    }
    Runtime& runtime = *composed;
    // SIGUSR1 writes the counters while running (tests read them mid-run this way).
    int status = runtime.run(duration, [&] {
        auto rows = runtime.stats();
        if (!o.stats_json.empty())
            write_stats_json(o.stats_json, rows);
        else
            print_stats(rows);
        std::fflush(stdout);
    });
    auto rows = runtime.stats();
    if (!o.no_stats) print_stats(rows);
    if (!o.stats_json.empty()) write_stats_json(o.stats_json, rows);
    return status;
}

int run_ab_command(Options o) {
    Config root = Config::load_file(o.config_file);
    Logging logging;
    logging.configure(root.child("log", true), o.log_level);
    PluginCatalog catalog = make_catalog(o, root);
    o.ab.plugin_path = o.plugin_path;
    o.ab.log_level = o.log_level;
    return command_ab(root, catalog, logging, o.ab);
}

int command_plugins(const Options& o) {
    PluginCatalog catalog = make_catalog(o, std::nullopt);
    auto list = catalog.list();
    if (o.json) {
        nlohmann::json out = nlohmann::json::array();
        for (const auto& p : list) {
            nlohmann::json item{
                {"name", p.name},       {"kind", p.kind},
                {"version", p.version}, {"description", p.description},
                {"file", p.file},       {"available", p.unavailable.empty() && p.error.empty()}};
            if (!p.unavailable.empty()) item["unavailable"] = p.unavailable;
            if (!p.error.empty()) item["error"] = p.error;
            out.push_back(item);
        }
        std::cout << out.dump(2) << "\n";
        return 0;
    }
    std::printf("%-12s %-10s %-8s %s\n", "name", "kind", "version", "description");
    for (const auto& p : list) {
        if (!p.error.empty()) {
            std::printf("%-12s %-10s %-8s %s\n", p.name.c_str(), "?", "?",
                        ("unusable: " + p.error).c_str());
            continue;
        }
        std::string desc = p.description;
        if (!p.unavailable.empty()) desc += " [unavailable: " + p.unavailable + "]";
        std::printf("%-12s %-10s %-8s %s\n", p.name.c_str(), p.kind.c_str(), p.version.c_str(),
                    desc.c_str());
    }
    std::string dirs;
    for (const auto& d : catalog.search_path()) dirs += (dirs.empty() ? "" : ":") + d;
    std::printf("search path: %s\n", dirs.c_str());
    return 0;
}

}  // namespace

int run_cli(int argc, char** argv, const std::optional<EmbeddedConfig>& embedded) {
    // Until the run loop installs its handler, a stats request (SIGUSR1) must not kill the
    // process: composing stacks (opening a TAP...) takes a moment and a test may already ask.
    std::signal(SIGUSR1, SIG_IGN);
    CLI::App app{"netloom: a user-space TCP/IP stack composed from plugins", "netloom"};
    app.set_version_flag("--version", std::string("netloom ") + NETLOOM_VERSION + " (plugin ABI " +
                                          std::to_string(kAbiVersion) + ")");
    Options o;
    app.add_option("--log-level", o.log_level,
                   "Default log level (trace|debug|info|warn|error|off)")
        ->check([](const std::string& v) {
            return Logging::valid_level(v) ? "" : "unknown level " + v;
        });
    app.add_option("--plugin-path", o.plugin_path,
                   "Directory searched first for plugins (repeatable)");
    bool need_config = !embedded.has_value();

    auto* run = app.add_subcommand("run", "Compose the stacks of CONFIG and run them");
    run->add_option("CONFIG", o.config_file, "YAML config")->required(need_config);
    run->add_option("--duration", o.duration,
                    "Stop after this long (e.g. 2s), overrides run.duration");
    run->add_option("--stats-json", o.stats_json, "Write every counter to this JSON file at exit");
    run->add_flag("--no-stats", o.no_stats, "Do not print the counters table at exit");
    auto* check = app.add_subcommand("check", "Validate CONFIG and its plugins without running");
    check->add_option("CONFIG", o.config_file, "YAML config")->required(need_config);
    auto* ab = app.add_subcommand(
        "ab", "A/B: run the workloads of CONFIG's ab: section over each variant, print a table");
    ab->add_option("CONFIG", o.config_file, "YAML config with an ab: section")->required();
    ab->add_option("--runs", o.ab.runs, "Repetitions (overrides ab.runs)")
        ->check(CLI::Range(1, 1000));
    ab->add_option("--json", o.ab.json, "Write the results here (overrides ab.json)");
    ab->add_option("--chart", o.ab.chart, "Write the SVG chart here (overrides ab.chart)");
    ab->add_flag("--quick", o.ab.quick, "One repetition");
    ab->add_flag("--short", o.ab.shorten,
                 "Every workload at 1/10 of its bytes, counts and durations (a smoke run)");
    ab->add_flag("--keep", o.ab.keep, "Keep the derived configs and logs of every run");
#ifndef NETLOOM_STATIC_BUILD
    auto drill = netloom::drill::add_drill_subcommand(app);
#endif
    auto* plugins = app.add_subcommand("plugins", "List the plugins found on the search path");
    plugins->add_flag("--json", o.json, "Print JSON");
    if (!embedded) app.require_subcommand(1);
    app.require_subcommand(0, 1);

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        int status = app.exit(e);
        return status == 0 ? 0 : 2;
    }
    try {
        if (plugins->parsed()) return command_plugins(o);
#ifndef NETLOOM_STATIC_BUILD
        if (drill->command->parsed())
            return netloom::drill::run_drill_subcommand(*drill, o.plugin_path);
#endif
        if (ab->parsed()) return run_ab_command(o);
        if (check->parsed()) return command_run(o, embedded, true);
        return command_run(o, embedded, false);  // `run`, or no subcommand in the image
    } catch (const ConfigError& e) {
        std::fprintf(stderr, "netloom: error: %s\n", e.what());
        return 2;
    } catch (const PluginError& e) {
        std::fprintf(stderr, "netloom: error: %s\n", e.what());
        return 2;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "netloom: fatal: %s\n", e.what());
        return 1;
    }
}

}  // namespace netloom::host
