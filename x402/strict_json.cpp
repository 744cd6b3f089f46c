#include "x402/strict_json.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

#include <boost/container/small_vector.hpp>
#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/value_stack.hpp>
#include <boost/system/errc.hpp>

namespace x402proxy::x402 {
namespace {

namespace json = boost::json;

// Keys longer than this are cut in error messages: the key is attacker-controlled text.
constexpr std::size_t kMaxKeyShownInMessage = 64;

// Objects up to this many keys are checked for duplicates by a linear scan (cheaper than hashing
// for the small objects JSON-RPC and x402 use); bigger ones get a hash index so a hostile object
// with many keys costs O(n), not O(n^2).
constexpr std::size_t kLinearScanKeys = 12;

// Appends `text` to `out` as a readable, bounded quotation: printable ASCII as is, everything else
// as \xNN, cut at kMaxKeyShownInMessage bytes.
void append_quoted_key(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  const std::size_t shown = std::min(text.size(), kMaxKeyShownInMessage);
  for (std::size_t i = 0; i < shown; ++i) {
    const auto byte = static_cast<unsigned char>(text[i]);
    if (byte >= 0x20 && byte < 0x7f && byte != '"' && byte != '\\') {
      out += static_cast<char>(byte);
    } else {
      out += "\\x";
      out += kHex[byte >> 4];
      out += kHex[byte & 0xf];
    }
  }
  if (shown < text.size())
    out += "...";
  out += '"';
}

// basic_parser handler: builds the DOM with a value_stack and, on the side, keeps the keys of every
// open object so a repeated key is caught the moment it is read. Keys of an object are dropped when
// the object closes, so memory is bounded by the keys along the current path, not the document.
class StrictHandler {
 public:
  static constexpr std::size_t max_object_size = json::object::max_size();
  static constexpr std::size_t max_array_size = json::array::max_size();
  static constexpr std::size_t max_key_size = json::string::max_size();
  static constexpr std::size_t max_string_size = json::string::max_size();

  explicit StrictHandler(json::storage_ptr storage)
      : storage_(std::move(storage)), values_({}, scratch_, sizeof(scratch_)) {}

  bool on_document_begin(json::error_code&) {
    values_.reset(storage_);
    return true;
  }
  bool on_document_end(json::error_code&) { return true; }

  bool on_object_begin(json::error_code&) {
    open_container(true);
    return true;
  }
  bool on_object_end(std::size_t n, json::error_code&) {
    values_.push_object(n);
    const Frame& frame = frames_.back();
    key_spans_.resize(frame.first_key);
    key_bytes_.resize(frame.first_key_byte);
    frames_.pop_back();
    value_done();
    return true;
  }
  bool on_array_begin(json::error_code&) {
    open_container(false);
    return true;
  }
  bool on_array_end(std::size_t n, json::error_code&) {
    values_.push_array(n);
    frames_.pop_back();
    value_done();
    return true;
  }

  // A key arrives in parts only when it is long and escaped; the parts are joined in key_bytes_.
  bool on_key_part(json::string_view part, std::size_t, json::error_code&) {
    if (pending_key_start_ == kNoPendingKey)
      pending_key_start_ = key_bytes_.size();
    key_bytes_.insert(key_bytes_.end(), part.begin(), part.end());
    return true;
  }
  bool on_key(json::string_view last_part, std::size_t, json::error_code& ec) {
    const std::size_t start =
        pending_key_start_ == kNoPendingKey ? key_bytes_.size() : pending_key_start_;
    pending_key_start_ = kNoPendingKey;
    key_bytes_.insert(key_bytes_.end(), last_part.begin(), last_part.end());
    key_spans_.push_back(KeySpan{start, key_bytes_.size() - start});
    if (!remember_key_is_new()) {
      describe_duplicate();
      ec = boost::system::errc::make_error_code(boost::system::errc::invalid_argument);
      return false;
    }
    values_.push_key(key_at(key_spans_.size() - 1));
    return true;
  }

  bool on_string_part(json::string_view part, std::size_t, json::error_code&) {
    values_.push_chars(part);
    return true;
  }
  bool on_string(json::string_view last_part, std::size_t, json::error_code&) {
    values_.push_string(last_part);
    value_done();
    return true;
  }
  bool on_number_part(json::string_view, json::error_code&) { return true; }
  bool on_int64(std::int64_t i, json::string_view, json::error_code&) {
    values_.push_int64(i);
    value_done();
    return true;
  }
  bool on_uint64(std::uint64_t u, json::string_view, json::error_code&) {
    values_.push_uint64(u);
    value_done();
    return true;
  }
  bool on_double(double d, json::string_view, json::error_code&) {
    values_.push_double(d);
    value_done();
    return true;
  }
  bool on_bool(bool b, json::error_code&) {
    values_.push_bool(b);
    value_done();
    return true;
  }
  bool on_null(json::error_code&) {
    values_.push_null();
    value_done();
    return true;
  }
  bool on_comment_part(json::string_view, json::error_code&) { return true; }
  bool on_comment(json::string_view, json::error_code&) { return true; }

  json::value release() { return values_.release(); }
  const std::string& duplicate_message() const { return duplicate_message_; }

 private:
  struct KeySpan {
    std::size_t offset;  // into key_bytes_
    std::size_t size;
  };
  // Hash index over key_spans_ positions; hashes through the handler so it survives key_bytes_
  // reallocating.
  struct KeyHash {
    const StrictHandler* owner;
    std::size_t operator()(std::size_t index) const {
      return std::hash<std::string_view>{}(owner->key_at(index));
    }
  };
  struct KeyEqual {
    const StrictHandler* owner;
    bool operator()(std::size_t a, std::size_t b) const {
      return owner->key_at(a) == owner->key_at(b);
    }
  };
  using KeyIndex = std::unordered_set<std::size_t, KeyHash, KeyEqual>;

  struct Frame {
    bool is_object;
    std::size_t first_key;            // objects: position in key_spans_ of the first key
    std::size_t first_key_byte;       // objects: size of key_bytes_ when the object opened
    std::size_t element_index;        // arrays: index of the element being read (for messages)
    std::unique_ptr<KeyIndex> index;  // objects with many keys
  };

  std::string_view key_at(std::size_t index) const {
    const KeySpan& span = key_spans_[index];
    return std::string_view(key_bytes_.data() + span.offset, span.size);
  }

  void open_container(bool is_object) {
    frames_.push_back(Frame{is_object, key_spans_.size(), key_bytes_.size(), 0, nullptr});
  }

  // A value just completed; if it was an array element, the next one has the next index.
  void value_done() {
    if (!frames_.empty() && !frames_.back().is_object)
      ++frames_.back().element_index;
  }

  // The newest key is the last of key_spans_; false if the current object already has it.
  bool remember_key_is_new() {
    Frame& frame = frames_.back();
    const std::size_t newest = key_spans_.size() - 1;
    const std::size_t count = newest - frame.first_key;
    if (!frame.index && count < kLinearScanKeys) {
      const std::string_view key = key_at(newest);
      for (std::size_t i = frame.first_key; i < newest; ++i) {
        if (key_at(i) == key)
          return false;
      }
      return true;
    }
    if (!frame.index) {
      frame.index = std::make_unique<KeyIndex>(kLinearScanKeys * 4, KeyHash{this}, KeyEqual{this});
      for (std::size_t i = frame.first_key; i < newest; ++i)
        frame.index->insert(i);
    }
    return frame.index->insert(newest).second;
  }

  // Message for the newest key: `duplicate key "name" in params.arguments`.
  void describe_duplicate() {
    std::string message = "duplicate key ";
    append_quoted_key(message, key_at(key_spans_.size() - 1));
    if (frames_.size() == 1) {
      message += " in the top-level object";
    } else {
      message += " in ";
      // Each enclosing container contributes where we are inside it: an object its current
      // (last read) key, an array the index of the element being read.
      for (std::size_t depth = 0; depth + 1 < frames_.size(); ++depth) {
        const Frame& frame = frames_[depth];
        if (frame.is_object) {
          if (depth > 0)
            message += '.';
          const std::size_t last_key = frames_[depth + 1].first_key - 1;
          const std::string_view key = key_at(last_key);
          message.append(key.data(), std::min(key.size(), kMaxKeyShownInMessage));
        } else {
          message += '[';
          message += std::to_string(frame.element_index);
          message += ']';
        }
      }
    }
    duplicate_message_ = std::move(message);
  }

  // The working state lives inline (the parser, and so this handler, is on the caller's stack), so
  // a typical request costs no allocation beyond the DOM itself.
  json::storage_ptr storage_;
  unsigned char scratch_[2048];  // value_stack's working memory before it needs the heap
  json::value_stack values_;
  boost::container::small_vector<Frame, 16> frames_;
  boost::container::small_vector<KeySpan, 64> key_spans_;  // keys of open objects, outermost first
  boost::container::small_vector<char, 1024> key_bytes_;   // their unescaped bytes
  static constexpr std::size_t kNoPendingKey = static_cast<std::size_t>(-1);
  std::size_t pending_key_start_ = kNoPendingKey;
  std::string duplicate_message_;
};

// A handler that builds nothing: used only to locate a syntax error.
struct NullHandler {
  static constexpr std::size_t max_object_size = json::object::max_size();
  static constexpr std::size_t max_array_size = json::array::max_size();
  static constexpr std::size_t max_key_size = json::string::max_size();
  static constexpr std::size_t max_string_size = json::string::max_size();
  bool on_document_begin(json::error_code&) { return true; }
  bool on_document_end(json::error_code&) { return true; }
  bool on_object_begin(json::error_code&) { return true; }
  bool on_object_end(std::size_t, json::error_code&) { return true; }
  bool on_array_begin(json::error_code&) { return true; }
  bool on_array_end(std::size_t, json::error_code&) { return true; }
  bool on_key_part(json::string_view, std::size_t, json::error_code&) { return true; }
  bool on_key(json::string_view, std::size_t, json::error_code&) { return true; }
  bool on_string_part(json::string_view, std::size_t, json::error_code&) { return true; }
  bool on_string(json::string_view, std::size_t, json::error_code&) { return true; }
  bool on_number_part(json::string_view, json::error_code&) { return true; }
  bool on_int64(std::int64_t, json::string_view, json::error_code&) { return true; }
  bool on_uint64(std::uint64_t, json::string_view, json::error_code&) { return true; }
  bool on_double(double, json::string_view, json::error_code&) { return true; }
  bool on_bool(bool, json::error_code&) { return true; }
  bool on_null(json::error_code&) { return true; }
  bool on_comment_part(json::string_view, json::error_code&) { return true; }
  bool on_comment(json::string_view, json::error_code&) { return true; }
};

// basic_parser reports no input position on failure, so on the (rare) syntax-error path the text
// is parsed again, incrementally, to find the first byte the parser refuses: 1 KiB chunks find the
// chunk, then that chunk goes byte by byte. Costs about two more parses, only for bad input.
std::size_t locate_syntax_error(std::string_view text, const json::parse_options& options) {
  constexpr std::size_t kChunk = 1024;
  std::size_t chunk_start = 0;
  {
    json::basic_parser<NullHandler> scout(options);
    json::error_code ec;
    while (chunk_start < text.size()) {
      const std::size_t size = std::min(kChunk, text.size() - chunk_start);
      scout.write_some(true, text.data() + chunk_start, size, ec);
      if (ec)
        break;
      chunk_start += size;
    }
    if (!ec)
      return text.size();  // only "incomplete" at the end of input
  }
  json::basic_parser<NullHandler> exact(options);
  json::error_code ec;
  if (chunk_start > 0)
    exact.write_some(true, text.data(), chunk_start, ec);
  for (std::size_t offset = chunk_start; offset < text.size(); ++offset) {
    exact.write_some(true, text.data() + offset, 1, ec);
    if (ec)
      return offset;
  }
  return text.size();
}

}  // namespace

Result<boost::json::value> parse_strict_json(std::string_view text, std::size_t max_depth,
                                             boost::json::storage_ptr storage) {
  json::parse_options options;  // RFC 8259 only: no comments, no trailing commas, valid UTF-8
  options.max_depth = max_depth;

  json::basic_parser<StrictHandler> parser(options, std::move(storage));
  json::error_code ec;
  const std::size_t consumed = parser.write_some(false, text.data(), text.size(), ec);
  if (!ec) {
    // The parser stops after one complete value (and trailing whitespace); anything left is an
    // error, reported at the first byte it did not take.
    if (consumed == text.size())
      return parser.handler().release();
    return make_error("json.syntax", "invalid JSON at byte " + std::to_string(consumed) +
                                         ": extra data after the JSON value");
  }

  if (!parser.handler().duplicate_message().empty()) {
    return make_error("json.duplicate_key", parser.handler().duplicate_message());
  }
  if (ec == json::error::too_deep) {
    return make_error("json.too_deep", "JSON nests arrays/objects deeper than " +
                                           std::to_string(max_depth) + " levels");
  }
  const std::size_t offset = locate_syntax_error(text, options);
  return make_error("json.syntax",
                    "invalid JSON at byte " + std::to_string(offset) + ": " + ec.message());
}

}  // namespace x402proxy::x402
