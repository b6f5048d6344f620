// The http tar store source: waiting for the index, lookups with the index.html fallback, and
// bodies read through the store's read-ahead; see store_source.hpp.
#include "store_source.hpp"

#include <cerrno>

namespace netloom::apps {

namespace {

class StoreBody final : public Body {
public:
    StoreBody(TarStore& store, TarExtent extent, std::string name)
        : store_(store), extent_(extent), name_(std::move(name)) {}

    std::uint64_t size() const override { return extent_.size; }
    const std::string& name() const override { return name_; }
    void start(std::uint64_t first, std::uint64_t length) override {
        reader_ = store_.open(extent_, first, length);
    }
    Task<BodyChunk> next() override {
        const BlockReadAhead::Chunk chunk = co_await reader_->next();
        if (chunk.error != 0) co_return BodyChunk{{}, chunk.error};
        // The range lies within the extent, which the index checked lies on the device: an end
        // before the range's is a device that shrank.
        if (chunk.bytes.empty()) co_return BodyChunk{{}, EIO};
        co_return BodyChunk{chunk.bytes, 0};
    }

private:
    TarStore& store_;
    TarExtent extent_;
    std::string name_;
    std::unique_ptr<BlockReadAhead> reader_;
};

}  // namespace

StoreSource::StoreSource(BlockDevice& device, TarStoreOptions options, Scheduler& scheduler,
                         std::shared_ptr<spdlog::logger> log)
    : store_(device, std::move(options), std::move(log)), ready_(scheduler) {}

void StoreSource::start(TaskScope& scope) {
    scope.spawn(build());
}

Task<void> StoreSource::build() {
    co_await store_.build();
    ready_.notify_later();
}

Task<BodyLookup> StoreSource::open(const std::string& path) {
    while (!store_.ready()) co_await ready_.wait();
    if (store_.refused()) co_return BodyLookup{503, nullptr};
    std::string name = path.substr(1);  // "/a/b" -> "a/b"; "/" -> ""
    auto extent = name.empty() ? std::nullopt : store_.find(name);
    if (!extent) {
        name = name.empty() ? "index.html" : name + "/index.html";
        extent = store_.find(name);
    }
    if (!extent) co_return BodyLookup{404, nullptr};
    co_return BodyLookup{0, std::make_unique<StoreBody>(store_, *extent, std::move(name))};
}

}  // namespace netloom::apps
