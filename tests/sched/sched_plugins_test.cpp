// The `fair`, `busypoll` and `sim` plugins as the host sees them: each built .so exports a
// scheduler descriptor with its name, its factory builds a working scheduler, and bad config
// keys are config errors.
#include <vector>  // boost/dll (1.74) misses this include with BOOST_DLL_USE_STD_FS

#include <boost/dll/shared_library.hpp>
#include <catch2/catch.hpp>

#include "netloom/config.hpp"
#include "netloom/counters.hpp"
#include "netloom/plugin.hpp"
#include "netloom/scheduler.hpp"
#include "sched_test_util.hpp"

using netloom::Config;
using netloom::ConfigError;
using netloom::PluginDescriptor;
using netloom::testing::MinimalEnv;

namespace {

struct LoadedPlugin {
    explicit LoadedPlugin(const char* file) : library(std::filesystem::path(file)) {}
    boost::dll::shared_library library;
    const PluginDescriptor& descriptor =
        library.get_alias<const PluginDescriptor>("netloom_plugin_descriptor");
};

struct PluginCase {
    const char* name;
    const char* file;
    bool virtual_clock;
};

const std::vector<PluginCase>& plugin_cases() {
    static const std::vector<PluginCase> cases = {
        {"fair", NETLOOM_FAIR_PLUGIN_FILE, false},
        {"busypoll", NETLOOM_BUSYPOLL_PLUGIN_FILE, false},
        {"sim", NETLOOM_SIM_PLUGIN_FILE, true},
    };
    return cases;
}

}  // namespace

TEST_CASE("scheduler plugins: descriptor and a working factory", "[sched][plugin]") {
    for (const auto& c : plugin_cases()) {
        INFO("plugin " << c.name);
        LoadedPlugin plugin(c.file);  // declared first: outlives the object its code created
        CHECK(plugin.descriptor.abi_version == netloom::kAbiVersion);
        CHECK(plugin.descriptor.kind == netloom::PluginKind::scheduler);
        CHECK(std::string(plugin.descriptor.name) == c.name);
        CHECK(plugin.descriptor.unavailable == nullptr);
        MinimalEnv env;
        auto object = plugin.descriptor.create(Config::load_string("{}", "test.yaml"), env);
        REQUIRE(object != nullptr);
        auto& sched = static_cast<netloom::Scheduler&>(*object);
        CHECK(sched.virtual_clock() == c.virtual_clock);
        bool ran = false;
        sched.add_timer(sched.now(), [&] { ran = true; });
        sched.run();  // returns once idle
        CHECK(ran);
        auto* counters = dynamic_cast<netloom::CounterSource*>(object.get());
        REQUIRE(counters != nullptr);
        std::uint64_t timers_run = 0;
        counters->visit_counters([&](std::string_view name, std::uint64_t value) {
            if (name == "timers_run") timers_run = value;
        });
        CHECK(timers_run == 1);
    }
}

TEST_CASE("scheduler plugins: config errors", "[sched][plugin]") {
    MinimalEnv env;
    const auto refuses = [&](const char* file, const char* yaml) {
        LoadedPlugin plugin(file);
        CHECK_THROWS_AS(plugin.descriptor.create(Config::load_string(yaml, "test.yaml"), env),
                        ConfigError);
    };
    refuses(NETLOOM_FAIR_PLUGIN_FILE, "quantum: 0\n");
    refuses(NETLOOM_FAIR_PLUGIN_FILE, "quantum: -5\n");
    refuses(NETLOOM_FAIR_PLUGIN_FILE, "quantum: many\n");
    refuses(NETLOOM_FAIR_PLUGIN_FILE, "quantum: 2000000\n");
    refuses(NETLOOM_FAIR_PLUGIN_FILE, "max_events: 0\n");
    refuses(NETLOOM_BUSYPOLL_PLUGIN_FILE, "max_events: 0\n");
    refuses(NETLOOM_BUSYPOLL_PLUGIN_FILE, "quantum: 4\n");  // not one of its keys
    refuses(NETLOOM_SIM_PLUGIN_FILE, "start: 5s\n");        // sim takes no keys
    refuses(NETLOOM_FAIR_PLUGIN_FILE, "timer_slack: 2s\n");
    refuses(NETLOOM_FAIR_PLUGIN_FILE, "timer_slack: -1us\n");
    refuses(NETLOOM_BUSYPOLL_PLUGIN_FILE, "timer_slack: 1us\n");  // it never sleeps

    LoadedPlugin fair(NETLOOM_FAIR_PLUGIN_FILE);
    CHECK_THROWS_WITH(fair.descriptor.create(Config::load_string("quantm: 8\n", "t.yaml"), env),
                      Catch::Contains("quantum"));
    CHECK(fair.descriptor.create(Config::load_string("quantum: 1\n", "t.yaml"), env) != nullptr);
}
