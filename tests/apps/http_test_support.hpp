// http_test_support.hpp — what the http app's unit tests share: the server on FakeTcpEngine
// serving a temporary directory (HttpRun), a client exchange over one connection, and a splitter
// of what the server sent into Content-Length framed responses.
#pragma once

#include <catch2/catch.hpp>

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "fake_ip_layer.hpp"
#include "fake_tcp_engine.hpp"
#include "http_server.hpp"
#include "manual_scheduler.hpp"
#include "netloom/config.hpp"
#include "stream.hpp"
#include "task_scope.hpp"
#include "test_addresses.hpp"

namespace netloom::testing::http {

using namespace std::chrono_literals;
namespace apps = netloom::apps;
namespace fs = std::filesystem;
using apps::IoResult;
using apps::IoStatus;
using apps::TcpStream;

inline std::string get(const std::string& target) {
    return "GET " + target + " HTTP/1.1\r\nHost: x\r\n\r\n";
}

struct Response {
    int status = 0;
    std::map<std::string, std::string> headers;  // names lower-cased
    std::string body;
};

// Splits what a server sent into responses (Content-Length framed; HEAD responses have no body).
inline std::vector<Response> split_responses(std::string text, const std::vector<bool>& head_only) {
    std::vector<Response> out;
    while (!text.empty()) {
        const std::size_t end = text.find("\r\n\r\n");
        if (end == std::string::npos) break;
        Response r;
        std::string head = text.substr(0, end);
        text.erase(0, end + 4);
        r.status = std::stoi(head.substr(9, 3));
        std::size_t pos = head.find("\r\n");
        while (pos != std::string::npos) {
            const std::size_t next = head.find("\r\n", pos + 2);
            const std::string line = head.substr(pos + 2, next - pos - 2);
            const std::size_t colon = line.find(':');
            std::string name = line.substr(0, colon);
            for (char& c : name) c = static_cast<char>(std::tolower(c));
            r.headers[name] = line.substr(colon + 2);
            pos = next;
        }
        const bool no_body = out.size() < head_only.size() && head_only[out.size()];
        const std::size_t length = no_body ? 0 : std::stoul(r.headers["content-length"]);
        r.body = text.substr(0, length);
        text.erase(0, std::min(length, text.size()));
        out.push_back(std::move(r));
    }
    return out;
}

// Sends `request` to port 80 of `tcp` from a client coroutine in `scope`, half-closes (unless
// told not to, like a browser), reads everything until the server's FIN, letting `wait` of
// scheduler time pass.
inline std::string exchange(ManualScheduler& sched, FakeTcpEngine& tcp, apps::TaskScope& scope,
                            const std::string& request, netloom::Time wait = 1s,
                            bool half_close = true) {
    std::string received;
    std::optional<IoStatus> end;
    auto client = [&]() -> Task<void> {
        TcpStream s = co_await apps::tcp_connect(sched, tcp, {kOwn, 80});
        co_await s.write_all(
            {reinterpret_cast<const std::uint8_t*>(request.data()), request.size()});
        if (half_close) s.shutdown();
        std::vector<std::uint8_t> buffer(4096);
        for (;;) {
            IoResult r = co_await s.read(buffer, sched.now() + 10s);
            received.append(reinterpret_cast<const char*>(buffer.data()), r.bytes);
            if (!r.ok()) {
                end = r.status;
                break;
            }
        }
        co_await s.close();
    };
    scope.spawn(client());
    sched.advance(wait);
    CHECK(end == IoStatus::eof);
    return received;
}

struct HttpRun {
    explicit HttpRun(FakeTcpEngine::Options options = {}) : tcp(sched, kOwn, options) {
        root = fs::temp_directory_path() / ("netloom_http_test_" + std::to_string(::getpid()));
        fs::remove_all(root);
        fs::create_directories(root / "sub");
        data.resize(300'000);
        for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 7 + i / 300);
        std::ofstream(root / "data.bin", std::ios::binary).write(data.data(), data.size());
        std::ofstream(root / "index.html") << "<h1>hi</h1>\n";
        std::ofstream(root / "sub" / "index.html") << "sub\n";
        fs::create_directory_symlink("/etc", root / "out");
        fs::create_symlink(root / "data.bin", root / "in.bin");
        server = apps::make_http(
            Config::load_string("port: 80\nidle_timeout: 2s\nroot: " + root.string() + "\n",
                                "http.yaml"),
            env);
        server->start([](int) { FAIL("a server never finishes"); });
    }
    ~HttpRun() {
        server.reset();
        fs::remove_all(root);
    }
    std::string exchange(const std::string& request, netloom::Time wait = 1s,
                         bool half_close = true) {
        return http::exchange(sched, tcp, scope, request, wait, half_close);
    }
    std::uint64_t counter(std::string_view name) const {
        return netloom::testing::counter(*server, name);
    }

    ManualScheduler sched;
    FakeTcpEngine tcp;
    TcpAppTestEnv env{sched, &tcp};
    fs::path root;
    std::string data;
    std::unique_ptr<App> server;
    apps::TaskScope scope{sched};
};

}  // namespace netloom::testing::http
