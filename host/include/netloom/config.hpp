// config.hpp — a read-only view of one YAML mapping, validated by the component that owns it.
//
// Contract: a component reads its keys with the typed getters (each records the key as known),
// then calls `done()`, which rejects any key it did not read with a "did you mean". Every failure
// throws ConfigError carrying file:line:column of the offending node, the key, what was expected
// and what was found; the host prints it and exits with status 2.
// Sizes accept B/KiB/MiB/GiB (and k/M/G as powers of 1000); durations accept ns/us/ms/s/min.
#pragma once

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace netloom {

struct SourceMark {
    std::string file;
    int line = 0;                   // 1-based, 0 when unknown
    int column = 0;                 // 1-based, 0 when unknown
    std::string to_string() const;  // "file:line:column"
};

class ConfigError : public std::runtime_error {
public:
    ConfigError(SourceMark mark, std::string message);
    const SourceMark& mark() const noexcept { return mark_; }
    const std::string& detail() const noexcept { return detail_; }

private:
    SourceMark mark_;
    std::string detail_;
};

class Config {
public:
    struct Impl;
    explicit Config(std::shared_ptr<Impl> impl);
    ~Config();
    Config(const Config&);
    Config& operator=(const Config&);

    /// Parses a file or a string (the string is reported as `name`).
    static Config load_file(const std::string& path);
    static Config load_string(std::string_view yaml, std::string name);

    bool has(std::string_view key) const;
    /// Dotted path of this node from the document root, e.g. "stacks.server.tcp".
    const std::string& path() const;
    SourceMark mark() const;
    SourceMark mark(std::string_view key) const;  // of the key's value, or of this node
    bool is_map() const;
    bool is_null() const;
    /// Number of keys of this mapping (0 for an absent optional child).
    std::size_t size() const;

    std::string get_string(std::string_view key, std::optional<std::string> fallback = {}) const;
    std::string get_choice(std::string_view key, std::initializer_list<std::string_view> choices,
                           std::optional<std::string> fallback = {}) const;
    std::int64_t get_int(std::string_view key, std::optional<std::int64_t> fallback = {},
                         std::int64_t min = INT64_MIN, std::int64_t max = INT64_MAX) const;
    double get_double(std::string_view key, std::optional<double> fallback = {},
                      double min = -1e300, double max = 1e300) const;
    bool get_bool(std::string_view key, std::optional<bool> fallback = {}) const;
    std::uint64_t get_size(std::string_view key, std::optional<std::uint64_t> fallback = {}) const;
    /// A duration in [min, max] (a value outside is an error like get_int's, naming the bounds:
    /// "a duration from 1ms to 24h"); the fallback is not checked. Durations are never negative.
    std::chrono::nanoseconds get_duration(
        std::string_view key, std::optional<std::chrono::nanoseconds> fallback = {},
        std::chrono::nanoseconds min = std::chrono::nanoseconds::zero(),
        std::chrono::nanoseconds max = std::chrono::nanoseconds::max()) const;
    std::vector<std::string> get_string_list(
        std::string_view key, std::optional<std::vector<std::string>> fallback = {}) const;

    /// A nested mapping (required unless `optional`, then an empty mapping when absent).
    Config child(std::string_view key, bool optional = false) const;
    /// A sequence of mappings; empty when absent.
    std::vector<Config> child_list(std::string_view key) const;
    /// Keys of this mapping in document order (marks each as known).
    std::vector<std::string> keys() const;
    /// Mark keys as known without reading them (handled by someone else, e.g. `use`).
    void allow(std::initializer_list<std::string_view> keys) const;
    /// Rejects keys not read or allowed so far, suggesting the nearest known key.
    void done() const;

    /// Throws ConfigError at `key` (or at this node when key is empty).
    [[noreturn]] void fail(std::string_view key, std::string_view expected,
                           std::string_view found) const;
    [[noreturn]] void fail_message(std::string_view key, std::string message) const;
    /// "required key is missing", pointing at a present unknown key that looks like a typo of it.
    [[noreturn]] void fail_missing(std::string_view key, std::string_view expected) const;

    /// Serialises this node back to YAML (used by the A/B harness and the static image).
    std::string dump() const;
    /// A deep copy with `dotted.path` set to a scalar value (`*` matches every key at its level).
    Config with_override(std::string_view dotted_path, std::string_view value) const;

    Impl& impl() const { return *impl_; }

private:
    std::shared_ptr<Impl> impl_;
};

/// Parsers shared with tests and the CLI; return nullopt on malformed text.
std::optional<std::uint64_t> parse_size(std::string_view text);
std::optional<std::chrono::nanoseconds> parse_duration(std::string_view text);
/// The shortest exact spelling parse_duration reads back: "0", "1ms", "24h", "1500us".
std::string format_duration(std::chrono::nanoseconds value);
/// Levenshtein-nearest candidate within a small distance, or empty.
std::string nearest(std::string_view word, const std::vector<std::string>& candidates);

}  // namespace netloom
