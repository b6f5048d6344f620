// Config: yaml-cpp nodes plus their source file, the dotted path from the root, and the set of
// keys the owning component has read (so `done()` can reject the rest with a suggestion).
#include "netloom/config.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <set>

namespace netloom {

struct Config::Impl {
    std::shared_ptr<const std::string> file;
    YAML::Node node;
    std::string path;
    std::shared_ptr<std::set<std::string, std::less<>>> known =
        std::make_shared<std::set<std::string, std::less<>>>();
};

namespace {

SourceMark mark_of(const Config::Impl& impl, const YAML::Node& node) {
    SourceMark m{*impl.file, 0, 0};
    if (node.IsDefined() && !node.Mark().is_null()) {
        m.line = node.Mark().line + 1;
        m.column = node.Mark().column + 1;
    }
    return m;
}

std::string join_path(const std::string& base, std::string_view key) {
    if (base.empty()) return std::string(key);
    if (key.empty()) return base;
    return base + "." + std::string(key);
}

std::string describe(const YAML::Node& node) {
    switch (node.Type()) {
        case YAML::NodeType::Undefined: return "nothing";
        case YAML::NodeType::Null: return "null";
        case YAML::NodeType::Scalar: return "\"" + node.Scalar() + "\"";
        case YAML::NodeType::Sequence: return "a list";
        case YAML::NodeType::Map: return "a mapping";
    }
    return "?";
}

// The value node for `key`, or an undefined node. Never inserts (yaml-cpp's non-const operator[]
// would add the key to the document).
YAML::Node lookup(const YAML::Node& map, std::string_view key) {
    if (!map.IsMap()) return YAML::Node(YAML::NodeType::Undefined);
    for (auto it = map.begin(); it != map.end(); ++it) {
        if (it->first.IsScalar() && it->first.Scalar() == key) return it->second;
    }
    return YAML::Node(YAML::NodeType::Undefined);
}

std::string fmt_double(double v) {
    char text[32];
    std::snprintf(text, sizeof text, "%g", v);
    return text;
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diagonal = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            std::size_t above = row[j];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] != b[j - 1])});
            diagonal = above;
        }
    }
    return row[b.size()];
}

}  // namespace

std::string SourceMark::to_string() const {
    std::string s = file;
    if (line > 0) s += ":" + std::to_string(line) + ":" + std::to_string(column);
    return s;
}

ConfigError::ConfigError(SourceMark mark, std::string message)
    : std::runtime_error(mark.to_string() + ": " + message),
      mark_(std::move(mark)),
      detail_(std::move(message)) {}

std::string nearest(std::string_view word, const std::vector<std::string>& candidates) {
    std::string best;
    std::size_t best_distance = SIZE_MAX;
    for (const auto& c : candidates) {
        std::size_t d = edit_distance(word, c);
        if (d < best_distance) {
            best_distance = d;
            best = c;
        }
    }
    // Suggest only plausible typos: at most a third of the word may differ.
    std::size_t limit = std::max<std::size_t>(1, (word.size() + 2) / 3);
    return best_distance <= limit ? best : std::string();
}

namespace {
// "1.5 MiB" -> {1.5, "MiB"}: a non-negative decimal number, optional spaces, then the unit.
std::optional<std::pair<double, std::string_view>> split_quantity(std::string_view text) {
    std::size_t i = 0;
    while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.'))
        ++i;
    if (i == 0) return std::nullopt;
    double number = 0;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + i, number);
    if (ec != std::errc() || ptr != text.data() + i) return std::nullopt;
    std::string_view unit = text.substr(i);
    while (!unit.empty() && unit.front() == ' ') unit.remove_prefix(1);
    return std::pair{number, unit};
}
}  // namespace

std::optional<std::uint64_t> parse_size(std::string_view text) {
    auto quantity = split_quantity(text);
    if (!quantity) return std::nullopt;
    auto [number, unit] = *quantity;
    static constexpr std::pair<std::string_view, double> kUnits[] = {
        {"", 1},    {"B", 1},    {"KiB", 1024.0}, {"MiB", 1048576.0}, {"GiB", 1073741824.0},
        {"k", 1e3}, {"K", 1e3},  {"KB", 1e3},     {"M", 1e6},         {"MB", 1e6},
        {"G", 1e9}, {"GB", 1e9},
    };
    for (auto [name, scale] : kUnits) {
        if (unit == name) {
            double bytes = number * scale;
            if (bytes != std::floor(bytes) || bytes > 1.8e19) return std::nullopt;
            return static_cast<std::uint64_t>(bytes);
        }
    }
    return std::nullopt;
}

std::optional<std::chrono::nanoseconds> parse_duration(std::string_view text) {
    auto quantity = split_quantity(text);
    if (!quantity) return std::nullopt;
    auto [number, unit] = *quantity;
    static constexpr std::pair<std::string_view, double> kUnits[] = {
        {"ns", 1}, {"us", 1e3}, {"ms", 1e6}, {"s", 1e9}, {"min", 60e9}, {"h", 3600e9},
    };
    if (unit.empty() && number == 0) return std::chrono::nanoseconds(0);
    for (auto [name, scale] : kUnits) {
        if (unit == name) {
            double ns = number * scale;
            if (ns > 9.2e18) return std::nullopt;
            return std::chrono::nanoseconds(static_cast<std::int64_t>(std::llround(ns)));
        }
    }
    return std::nullopt;
}

std::string format_duration(std::chrono::nanoseconds value) {
    if (value == std::chrono::nanoseconds::zero()) return "0";
    // Largest unit first; a unit is used only when it divides the value exactly.
    static constexpr std::pair<std::string_view, std::int64_t> kUnits[] = {
        {"h", 3'600'000'000'000}, {"min", 60'000'000'000}, {"s", 1'000'000'000},
        {"ms", 1'000'000},        {"us", 1'000},           {"ns", 1},
    };
    for (auto [name, scale] : kUnits) {
        if (value.count() % scale == 0)
            return std::to_string(value.count() / scale) + std::string(name);
    }
    return std::to_string(value.count()) + "ns";  // unreachable: 1 divides everything
}

Config::Config(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
Config::~Config() = default;
Config::Config(const Config&) = default;
Config& Config::operator=(const Config&) = default;

namespace {
Config make_root(YAML::Node node, std::string file) {
    auto impl = std::make_shared<Config::Impl>();
    impl->file = std::make_shared<const std::string>(std::move(file));
    impl->node = node.IsNull() || !node.IsDefined() ? YAML::Node(YAML::NodeType::Map) : node;
    return Config(impl);
}

ConfigError parse_error(const std::string& file, const YAML::Exception& e) {
    SourceMark m{file, e.mark.is_null() ? 0 : e.mark.line + 1,
                 e.mark.is_null() ? 0 : e.mark.column + 1};
    return ConfigError(m, "YAML syntax error: " + e.msg);
}
}  // namespace

Config Config::load_file(const std::string& path) {
    YAML::Node node;
    try {
        node = YAML::LoadFile(path);
    } catch (const YAML::BadFile&) {
        throw ConfigError(SourceMark{path, 0, 0}, "cannot read the config file");
    } catch (const YAML::Exception& e) {
        throw parse_error(path, e);
    }
    Config c = make_root(node, path);
    if (!c.impl_->node.IsMap()) c.fail("", "a mapping at the top level", describe(node));
    return c;
}

Config Config::load_string(std::string_view yaml, std::string name) {
    YAML::Node node;
    try {
        node = YAML::Load(std::string(yaml));
    } catch (const YAML::Exception& e) {
        throw parse_error(name, e);
    }
    Config c = make_root(node, name);
    if (!c.impl_->node.IsMap()) c.fail("", "a mapping at the top level", describe(node));
    return c;
}

bool Config::has(std::string_view key) const {
    return lookup(impl_->node, key).IsDefined();
}
const std::string& Config::path() const {
    return impl_->path;
}
SourceMark Config::mark() const {
    return mark_of(*impl_, impl_->node);
}
SourceMark Config::mark(std::string_view key) const {
    YAML::Node v = lookup(impl_->node, key);
    return v.IsDefined() ? mark_of(*impl_, v) : mark();
}
bool Config::is_map() const {
    return impl_->node.IsMap();
}
bool Config::is_null() const {
    return impl_->node.IsNull();
}
std::size_t Config::size() const {
    return impl_->node.IsMap() ? impl_->node.size() : 0;
}

void Config::fail(std::string_view key, std::string_view expected, std::string_view found) const {
    std::string where = join_path(impl_->path, key);
    std::string message = (where.empty() ? std::string() : where + ": ") + "expected " +
                          std::string(expected) + ", found " + std::string(found);
    throw ConfigError(mark(key), message);
}

void Config::fail_missing(std::string_view key, std::string_view expected) const {
    // A missing required key is often a typo of a key that is there: point at that one.
    std::vector<std::string> present;
    if (impl_->node.IsMap()) {
        for (auto it = impl_->node.begin(); it != impl_->node.end(); ++it) {
            const YAML::Node k = it->first;
            if (k.IsScalar() && !impl_->known->count(k.Scalar())) present.push_back(k.Scalar());
        }
    }
    std::string hint = nearest(key, present);
    std::string message = "required key is missing (expected " + std::string(expected) + ")";
    if (!hint.empty()) {
        YAML::Node typo = lookup(impl_->node, hint);
        std::string where = join_path(impl_->path, key);
        // Report at the typo, since that is the line to fix.
        throw ConfigError(mark_of(*impl_, typo), where + ": " + message + "; found unknown key '" +
                                                     hint + "' (did you mean '" + std::string(key) +
                                                     "'?)");
    }
    fail_message(key, message);
}

void Config::fail_message(std::string_view key, std::string message) const {
    std::string where = join_path(impl_->path, key);
    throw ConfigError(mark(key), (where.empty() ? std::string() : where + ": ") + message);
}

namespace {
// Shared shape of every scalar getter: missing -> fallback or "required" error; present ->
// must be a scalar and convert, else a typed error.
template <typename T, typename Convert>
T get_scalar(const Config& c, const YAML::Node& map, std::string_view key,
             const std::optional<T>& fallback, std::string_view expected, Convert convert) {
    YAML::Node v = lookup(map, key);
    if (!v.IsDefined()) {
        if (fallback) return *fallback;
        c.fail_missing(key, expected);
    }
    if (!v.IsScalar()) c.fail(key, expected, describe(v));
    std::optional<T> value = convert(v.Scalar());
    if (!value) c.fail(key, expected, describe(v));
    return *value;
}
}  // namespace

std::string Config::get_string(std::string_view key, std::optional<std::string> fallback) const {
    impl_->known->emplace(key);
    return get_scalar<std::string>(*this, impl_->node, key, fallback, "a string",
                                   [](const std::string& s) { return std::optional(s); });
}

std::string Config::get_choice(std::string_view key,
                               std::initializer_list<std::string_view> choices,
                               std::optional<std::string> fallback) const {
    std::string list;
    std::vector<std::string> names;
    for (auto c : choices) {
        list += (list.empty() ? "" : "|") + std::string(c);
        names.emplace_back(c);
    }
    std::string value = get_string(key, std::move(fallback));
    if (std::find(names.begin(), names.end(), value) == names.end()) {
        std::string hint = nearest(value, names);
        fail(key, "one of " + list,
             "\"" + value + "\"" + (hint.empty() ? "" : " (did you mean '" + hint + "'?)"));
    }
    return value;
}

std::int64_t Config::get_int(std::string_view key, std::optional<std::int64_t> fallback,
                             std::int64_t min, std::int64_t max) const {
    impl_->known->emplace(key);
    std::string expected = "an integer";
    if (min != INT64_MIN || max != INT64_MAX)
        expected += " in " + std::to_string(min) + ".." + std::to_string(max);
    return get_scalar<std::int64_t>(*this, impl_->node, key, fallback, expected,
                                    [&](const std::string& s) -> std::optional<std::int64_t> {
                                        std::int64_t v = 0;
                                        auto [p, ec] =
                                            std::from_chars(s.data(), s.data() + s.size(), v);
                                        if (ec != std::errc() || p != s.data() + s.size())
                                            return {};
                                        if (v < min || v > max) return {};
                                        return v;
                                    });
}

double Config::get_double(std::string_view key, std::optional<double> fallback, double min,
                          double max) const {
    impl_->known->emplace(key);
    std::string expected = "a number";
    if (min > -1e300 || max < 1e300)
        expected += " in [" + fmt_double(min) + ", " + fmt_double(max) + "]";
    return get_scalar<double>(*this, impl_->node, key, fallback, expected,
                              [&](const std::string& s) -> std::optional<double> {
                                  double v = 0;
                                  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
                                  if (ec != std::errc() || p != s.data() + s.size()) return {};
                                  if (!(v >= min && v <= max)) return {};
                                  return v;
                              });
}

bool Config::get_bool(std::string_view key, std::optional<bool> fallback) const {
    impl_->known->emplace(key);
    return get_scalar<bool>(*this, impl_->node, key, fallback, "true or false",
                            [](const std::string& s) -> std::optional<bool> {
                                if (s == "true" || s == "yes" || s == "on") return true;
                                if (s == "false" || s == "no" || s == "off") return false;
                                return {};
                            });
}

std::uint64_t Config::get_size(std::string_view key, std::optional<std::uint64_t> fallback) const {
    impl_->known->emplace(key);
    return get_scalar<std::uint64_t>(*this, impl_->node, key, fallback,
                                     "a size like 1500, 64KiB or 4MiB",
                                     [](const std::string& s) { return parse_size(s); });
}

std::chrono::nanoseconds Config::get_duration(std::string_view key,
                                              std::optional<std::chrono::nanoseconds> fallback,
                                              std::chrono::nanoseconds min,
                                              std::chrono::nanoseconds max) const {
    impl_->known->emplace(key);
    const bool bounded_below = min > std::chrono::nanoseconds::zero();
    const bool bounded_above = max < std::chrono::nanoseconds::max();
    std::string expected = "a duration like 200ms, 30s or 500us";
    if (bounded_above) {
        expected = "a duration from " + format_duration(min) + " to " + format_duration(max);
    } else if (bounded_below) {
        expected = "a duration of at least " + format_duration(min);
    }
    return get_scalar<std::chrono::nanoseconds>(
        *this, impl_->node, key, fallback, expected,
        [&](const std::string& s) -> std::optional<std::chrono::nanoseconds> {
            auto value = parse_duration(s);
            if (!value || *value < min || *value > max) return {};
            return value;
        });
}

std::vector<std::string> Config::get_string_list(
    std::string_view key, std::optional<std::vector<std::string>> fallback) const {
    impl_->known->emplace(key);
    YAML::Node v = lookup(impl_->node, key);
    if (!v.IsDefined()) {
        if (fallback) return *fallback;
        fail_missing(key, "a list of strings");
    }
    if (v.IsScalar()) return {v.Scalar()};  // a single string stands for a one-element list
    if (!v.IsSequence()) fail(key, "a list of strings", describe(v));
    std::vector<std::string> out;
    for (const auto& item : v) {
        if (!item.IsScalar()) {
            throw ConfigError(
                mark_of(*impl_, item),
                join_path(impl_->path, key) + ": expected a string, found " + describe(item));
        }
        out.push_back(item.Scalar());
    }
    return out;
}

Config Config::child(std::string_view key, bool optional) const {
    impl_->known->emplace(key);
    YAML::Node v = lookup(impl_->node, key);
    auto impl = std::make_shared<Impl>();
    impl->file = impl_->file;
    impl->path = join_path(impl_->path, key);
    if (!v.IsDefined() || (optional && v.IsNull())) {
        if (!optional) fail_missing(key, "a mapping");
        impl->node = YAML::Node(YAML::NodeType::Map);
        return Config(impl);
    }
    if (!v.IsMap()) fail(key, "a mapping", describe(v));
    impl->node = v;
    return Config(impl);
}

std::vector<Config> Config::child_list(std::string_view key) const {
    impl_->known->emplace(key);
    YAML::Node v = lookup(impl_->node, key);
    std::vector<Config> out;
    if (!v.IsDefined() || v.IsNull()) return out;
    if (!v.IsSequence()) fail(key, "a list of mappings", describe(v));
    std::size_t index = 0;
    for (YAML::const_iterator it = v.begin(); it != v.end(); ++it) {
        const YAML::Node item = *it;
        auto impl = std::make_shared<Impl>();
        impl->file = impl_->file;
        impl->path = join_path(impl_->path, key) + "[" + std::to_string(index++) + "]";
        impl->node = item;
        if (!item.IsMap()) {
            throw ConfigError(mark_of(*impl_, item),
                              impl->path + ": expected a mapping, found " + describe(item));
        }
        out.emplace_back(impl);
    }
    return out;
}

std::vector<std::string> Config::keys() const {
    std::vector<std::string> out;
    if (!impl_->node.IsMap()) return out;
    for (auto it = impl_->node.begin(); it != impl_->node.end(); ++it) {
        if (!it->first.IsScalar()) continue;
        out.push_back(it->first.Scalar());
        impl_->known->insert(it->first.Scalar());
    }
    return out;
}

void Config::allow(std::initializer_list<std::string_view> keys) const {
    for (auto k : keys) impl_->known->emplace(k);
}

void Config::done() const {
    if (!impl_->node.IsMap()) return;
    std::vector<std::string> known(impl_->known->begin(), impl_->known->end());
    for (auto it = impl_->node.begin(); it != impl_->node.end(); ++it) {
        const YAML::Node key = it->first;  // a copy: the iterator hands out a temporary
        if (!key.IsScalar()) {
            throw ConfigError(mark_of(*impl_, key), impl_->path + ": keys must be strings");
        }
        if (impl_->known->count(key.Scalar())) continue;
        std::string hint = nearest(key.Scalar(), known);
        std::string where = impl_->path.empty() ? "at the top level" : "in " + impl_->path;
        std::string message = "unknown key '" + key.Scalar() + "' " + where;
        if (!hint.empty()) {
            message += " (did you mean '" + hint + "'?)";
        } else if (!known.empty()) {
            std::string list;
            for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
            message += " (known keys: " + list + ")";
        }
        throw ConfigError(mark_of(*impl_, key), message);
    }
}

std::string Config::dump() const {
    YAML::Emitter out;
    out << impl_->node;
    return out.c_str();
}

namespace {
// Sets `value` at `parts[i...]` below `node`, `*` matching every key of a mapping. Returns the
// number of places changed.
int apply_override(YAML::Node node, const std::vector<std::string>& parts, std::size_t i,
                   const std::string& value) {
    if (!node.IsMap()) return 0;
    if (parts[i] == "*") {
        int changed = 0;
        for (auto it = node.begin(); it != node.end(); ++it) {
            if (i + 1 == parts.size()) {
                YAML::Node target = it->second;
                target = value;
                ++changed;
            } else {
                changed += apply_override(it->second, parts, i + 1, value);
            }
        }
        return changed;
    }
    if (i + 1 == parts.size()) {
        node[parts[i]] = value;
        return 1;
    }
    YAML::Node next = lookup(node, parts[i]);
    if (!next.IsDefined()) return 0;
    return apply_override(next, parts, i + 1, value);
}
}  // namespace

Config Config::with_override(std::string_view dotted_path, std::string_view value) const {
    auto impl = std::make_shared<Impl>();
    impl->file = impl_->file;
    impl->path = impl_->path;
    impl->node = YAML::Clone(impl_->node);
    std::vector<std::string> parts;
    std::string_view rest = dotted_path;
    while (!rest.empty()) {
        auto dot = rest.find('.');
        parts.emplace_back(rest.substr(0, dot));
        rest = dot == std::string_view::npos ? std::string_view() : rest.substr(dot + 1);
    }
    if (parts.empty() || apply_override(impl->node, parts, 0, std::string(value)) == 0) {
        fail_message("",
                     "override '" + std::string(dotted_path) + "' matches nothing in the config");
    }
    return Config(impl);
}

}  // namespace netloom
