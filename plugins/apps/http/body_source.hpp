// body_source.hpp — where the `http` app's response bodies come from, behind one small
// interface so the connection loop (http_server.cpp) serves every source alike: a directory
// (`root:`, file_source.hpp) or a tar archive on a block device (`store:`, store_source.hpp).
//
// Contract: single-threaded, on the scheduler's thread. `open` resolves a normalised request
// path ("/" or "/a/b", from the parser) to a body, or to the status to answer instead (404;
// 503 when the source cannot serve at all); it may wait (the store's index being built). A Body
// streams the bytes [first, first + length) of its data, `start` choosing the range (within
// size()): `next` gives them in order, in non-empty chunks valid until the next call, or a chunk
// with `error` (an errno) when they could not be read — the body's stream is then over. `next`
// is never called past the range. A body's memory is bounded whatever its size (each source
// says how much); destroying a body at any point, even while its next() is suspended, is safe.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "netloom/counters.hpp"
#include "netloom/task.hpp"
#include "task_scope.hpp"

namespace netloom::apps {

struct BodyChunk {
    std::span<const std::uint8_t> bytes;
    int error = 0;
};

class Body {
public:
    virtual ~Body() = default;
    virtual std::uint64_t size() const = 0;
    /// The file's name, for the Content-Type.
    virtual const std::string& name() const = 0;
    virtual void start(std::uint64_t first, std::uint64_t length) = 0;
    virtual Task<BodyChunk> next() = 0;
};

struct BodyLookup {
    int status = 0;  ///< 0: `body` is set; else the status to answer
    std::unique_ptr<Body> body;
};

class BodySource : public CounterSource {
public:
    /// Starts what the source does in the background (the store's index build) in `scope`.
    virtual void start(TaskScope& scope) = 0;
    virtual Task<BodyLookup> open(const std::string& path) = 0;
    /// What is served, for the start-up log line ("/srv/www", "tar store on disk0 (...)").
    virtual std::string describe() const = 0;
};

}  // namespace netloom::apps
