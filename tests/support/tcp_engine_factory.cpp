// tcp_engine_factory.cpp — builds each engine as its plugin.cpp does; the only file of the
// engine tests that includes an engine's own headers.
#include "tcp_engine_factory.hpp"

#include <stdexcept>
#include <string>

#include "engine.hpp"        // tcp_classic
#include "shell/engine.hpp"  // tcp_utcp

namespace netloom::testing {

namespace {

bool is_utcp(std::string_view engine) {
    if (engine == "tcp_utcp") return true;
    if (engine == "tcp_classic") return false;
    throw std::invalid_argument("no TCP engine named " + std::string(engine));
}

}  // namespace

std::unique_ptr<TcpEngine> make_tcp_engine(std::string_view engine, const Config& section,
                                           IpLayer& ip, Scheduler& scheduler,
                                           std::shared_ptr<spdlog::logger> log,
                                           std::optional<std::uint64_t> secret_seed) {
    if (is_utcp(engine)) {
        auto config = utcp::read_engine_config(section);
        config.secret_seed = secret_seed;
        return std::make_unique<utcp::Engine>(std::move(config), ip, scheduler, std::move(log));
    }
    auto config = classic::read_engine_config(section);
    config.secret_seed = secret_seed;
    return std::make_unique<classic::Engine>(std::move(config), ip, scheduler, std::move(log));
}

Transport& transport_of(TcpEngine& engine) {
    return dynamic_cast<Transport&>(engine);
}

tcp::EngineOptions read_tcp_engine_options(std::string_view engine, const Config& section) {
    if (is_utcp(engine)) return utcp::read_engine_config(section);
    return classic::read_engine_config(section);
}

const tcp::EngineOptions& effective_options(const TcpEngine& engine) {
    if (auto* u = dynamic_cast<const utcp::Engine*>(&engine)) return u->config();
    return dynamic_cast<const classic::Engine&>(engine).config();
}

const tcp::ConnectionOptions* connection_options_copy(const TcpEngine& engine) {
    if (auto* u = dynamic_cast<const utcp::Engine*>(&engine)) return &u->config().core;
    return nullptr;
}

std::size_t connection_state_size(std::string_view engine) {
    return is_utcp(engine) ? sizeof(utcp::Tcb) : sizeof(classic::Pcb);
}

}  // namespace netloom::testing
