// engine_host.hpp — what an engine needs around it to be built in a test: an ipv4 layer on a
// `wire` device (address 10.9.0.1/24) driven by a ManualScheduler. Nothing is started.
#pragma once

#include <memory>
#include <string>

#include "ip_test_support.hpp"
#include "wire_device.hpp"

namespace netloom::testing {

struct Host {
    explicit Host(const std::string& link)
        : device(options(link), scheduler),
          env(scheduler, test_checksum(), device),
          layer(make_layer(env, "address: 10.9.0.1/24\n")) {}
    static drivers::WireOptions options(const std::string& link) {
        drivers::WireOptions o;
        o.link = link;
        o.mac = mac("02:00:00:00:00:01");
        return o;
    }
    ManualScheduler scheduler;
    drivers::WireDevice device;
    IpTestEnv env;
    std::unique_ptr<ip::Ipv4Layer> layer;
};

}  // namespace netloom::testing
