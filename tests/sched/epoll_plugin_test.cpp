// The `epoll` plugin as the host sees it: the built .so exports a descriptor with our ABI version
// and kind, and its factory validates `max_events` and rejects unknown keys.
#include <vector>  // boost/dll (1.74) misses this include with BOOST_DLL_USE_STD_FS

#include <boost/dll/shared_library.hpp>
#include <catch2/catch.hpp>

#include "netloom/config.hpp"
#include "netloom/counters.hpp"
#include "netloom/plugin.hpp"
#include "netloom/scheduler.hpp"
#include "sched_test_util.hpp"

#ifndef NETLOOM_EPOLL_PLUGIN_FILE
#error "the build passes the path of netloom_epoll.so as NETLOOM_EPOLL_PLUGIN_FILE"
#endif

using netloom::Config;
using netloom::ConfigError;
using netloom::PluginDescriptor;
using netloom::testing::MinimalEnv;

namespace {

struct LoadedPlugin {
    boost::dll::shared_library library{std::filesystem::path(NETLOOM_EPOLL_PLUGIN_FILE)};
    const PluginDescriptor& descriptor =
        library.get_alias<const PluginDescriptor>("netloom_plugin_descriptor");
};

}  // namespace

TEST_CASE("epoll plugin: descriptor", "[sched][plugin]") {
    LoadedPlugin plugin;
    CHECK(plugin.descriptor.abi_version == netloom::kAbiVersion);
    CHECK(plugin.descriptor.kind == netloom::PluginKind::scheduler);
    CHECK(std::string(plugin.descriptor.name) == "epoll");
    CHECK(plugin.descriptor.create != nullptr);
    CHECK(plugin.descriptor.unavailable == nullptr);
}

TEST_CASE("epoll plugin: the factory builds a working scheduler", "[sched][plugin]") {
    LoadedPlugin plugin;  // declared first: outlives the object its code created
    MinimalEnv env;
    const Config config = Config::load_string("max_events: 8\n", "test.yaml");
    std::unique_ptr<netloom::PluginObject> object = plugin.descriptor.create(config, env);
    REQUIRE(object != nullptr);
    auto& sched = static_cast<netloom::Scheduler&>(*object);  // what the host does for this kind
    CHECK_FALSE(sched.virtual_clock());

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

TEST_CASE("epoll plugin: config errors", "[sched][plugin]") {
    LoadedPlugin plugin;
    MinimalEnv env;
    SECTION("defaults need no keys") {
        CHECK(plugin.descriptor.create(Config::load_string("{}", "test.yaml"), env) != nullptr);
    }
    SECTION("max_events below 1") {
        const Config config = Config::load_string("max_events: 0\n", "test.yaml");
        CHECK_THROWS_AS(plugin.descriptor.create(config, env), ConfigError);
    }
    SECTION("not a number") {
        const Config config = Config::load_string("max_events: lots\n", "test.yaml");
        CHECK_THROWS_AS(plugin.descriptor.create(config, env), ConfigError);
    }
    SECTION("unknown key, with a suggestion") {
        const Config config = Config::load_string("max_event: 8\n", "test.yaml");
        CHECK_THROWS_WITH(plugin.descriptor.create(config, env), Catch::Contains("max_events"));
    }
}
