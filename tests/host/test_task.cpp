// Task<T>: laziness, values, exceptions and detached completion.
#include <catch2/catch.hpp>

#include <stdexcept>

#include "netloom/task.hpp"

using netloom::Task;

namespace {
Task<int> answer(int& started) {
    ++started;
    co_return 42;
}
Task<int> sum_of_answers(int& started) {
    int a = co_await answer(started);
    int b = co_await answer(started);
    co_return a + b;
}
Task<void> failing() {
    throw std::runtime_error("boom");
    co_return;
}
Task<void> run_to(int& result, int& started) {
    result = co_await sum_of_answers(started);
}
}  // namespace

TEST_CASE("tasks are lazy and return values through co_await") {
    int started = 0;
    int result = 0;
    Task<void> t = run_to(result, started);
    CHECK(started == 0);
    auto h = t.detach();
    h.resume();  // runs to completion: nothing in the chain suspends
    CHECK(started == 2);
    CHECK(result == 84);
}

TEST_CASE("exceptions from a detached task reach the handler") {
    std::string message;
    auto previous = netloom::set_detached_exception_handler([&](std::exception_ptr e) {
        try {
            std::rethrow_exception(e);
        } catch (const std::exception& ex) {
            message = ex.what();
        }
    });
    failing().detach().resume();
    netloom::set_detached_exception_handler(previous);
    CHECK(message == "boom");
}

TEST_CASE("a task destroyed before it runs releases its frame") {
    int started = 0;
    { Task<int> t = answer(started); }
    CHECK(started == 0);
}
