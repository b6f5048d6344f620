// server_client_run.hpp — ServerClientRun: one app's server and client on a FakeTcpEngine and a
// ManualScheduler. The server must never finish; the client is finite, and run_client() returns
// once it reported its exit status (exactly once). Used by the echo and rr tests.
#pragma once

#include <catch2/catch.hpp>
#include <memory>
#include <optional>
#include <string>

#include "fake_tcp_engine.hpp"
#include "manual_scheduler.hpp"
#include "netloom/app.hpp"
#include "netloom/config.hpp"

namespace netloom::testing {

class ServerClientRun {
public:
    using Factory = std::unique_ptr<App> (*)(const Config&, Env&);

    ServerClientRun(Factory factory, Ipv4Address own, std::string default_server_yaml,
                    FakeTcpEngine::Options options = {})
        : tcp(sched, own, options),
          factory_(factory),
          default_server_yaml_(std::move(default_server_yaml)) {}

    ManualScheduler sched;
    FakeTcpEngine tcp;
    TcpAppTestEnv env{sched, &tcp};
    std::unique_ptr<App> server, client;
    std::optional<int> status;  ///< the client's exit status

    void start_server() { start_server(default_server_yaml_); }
    void start_server(const std::string& yaml) {
        server = factory_(Config::load_string(yaml, "server.yaml"), env);
        REQUIRE_FALSE(server->finite());
        server->start([](int) { FAIL("a server never finishes"); });
    }
    void run_client(const std::string& yaml) {
        client = factory_(Config::load_string(yaml, "client.yaml"), env);
        REQUIRE(client->finite());
        client->start([this](int s) {
            REQUIRE_FALSE(status);  // exactly once
            status = s;
            sched.stop();
        });
        sched.run();
    }

private:
    Factory factory_;
    std::string default_server_yaml_;
};

}  // namespace netloom::testing
