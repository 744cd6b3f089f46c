#include "mcp/json_member_edit.h"

#include <vector>

namespace x402proxy::mcp {
namespace {

// A cursor over the text; every step returns false at the first byte that is not JSON.
class Scanner {
 public:
  explicit Scanner(std::string_view text) : text_(text) {}

  std::size_t position() const { return at_; }
  bool done() const { return at_ >= text_.size(); }
  char peek() const { return at_ < text_.size() ? text_[at_] : '\0'; }

  void skip_space() {
    while (at_ < text_.size() &&
           (text_[at_] == ' ' || text_[at_] == '\t' || text_[at_] == '\n' || text_[at_] == '\r'))
      ++at_;
  }

  bool expect(char c) {
    skip_space();
    if (peek() != c)
      return false;
    ++at_;
    return true;
  }

  // A string; `decoded` receives its value when it is plain ASCII after unescaping (enough to
  // compare with the keys searched for, which are ASCII), else std::nullopt.
  bool string(std::optional<std::string>* decoded) {
    skip_space();
    if (peek() != '"')
      return false;
    ++at_;
    std::string out;
    bool ascii = true;
    while (at_ < text_.size()) {
      const char c = text_[at_++];
      if (c == '"') {
        if (decoded != nullptr)
          *decoded = ascii ? std::optional<std::string>(std::move(out)) : std::nullopt;
        return true;
      }
      if (static_cast<unsigned char>(c) < 0x20)
        return false;
      if (c != '\\') {
        if (static_cast<unsigned char>(c) >= 0x80)
          ascii = false;
        out.push_back(c);
        continue;
      }
      if (at_ >= text_.size())
        return false;
      const char e = text_[at_++];
      switch (e) {
        case '"':
          out.push_back('"');
          break;
        case '\\':
          out.push_back('\\');
          break;
        case '/':
          out.push_back('/');
          break;
        case 'b':
          out.push_back('\b');
          break;
        case 'f':
          out.push_back('\f');
          break;
        case 'n':
          out.push_back('\n');
          break;
        case 'r':
          out.push_back('\r');
          break;
        case 't':
          out.push_back('\t');
          break;
        case 'u': {
          if (text_.size() - at_ < 4)
            return false;
          unsigned code = 0;
          for (int i = 0; i < 4; ++i) {
            const char h = text_[at_++];
            code <<= 4;
            if (h >= '0' && h <= '9')
              code |= static_cast<unsigned>(h - '0');
            else if (h >= 'a' && h <= 'f')
              code |= static_cast<unsigned>(h - 'a' + 10);
            else if (h >= 'A' && h <= 'F')
              code |= static_cast<unsigned>(h - 'A' + 10);
            else
              return false;
          }
          if (code < 0x80)
            out.push_back(static_cast<char>(code));
          else
            ascii = false;
          break;
        }
        default:
          return false;
      }
    }
    return false;
  }

  // Any value, skipped; `depth` bounds nesting.
  bool value(int depth = 0) {
    if (depth > 512)
      return false;
    skip_space();
    const char c = peek();
    if (c == '"')
      return string(nullptr);
    if (c == '{') {
      ++at_;
      skip_space();
      if (peek() == '}') {
        ++at_;
        return true;
      }
      for (;;) {
        if (!string(nullptr) || !expect(':') || !value(depth + 1))
          return false;
        skip_space();
        if (peek() == ',') {
          ++at_;
          continue;
        }
        return expect('}');
      }
    }
    if (c == '[') {
      ++at_;
      skip_space();
      if (peek() == ']') {
        ++at_;
        return true;
      }
      for (;;) {
        if (!value(depth + 1))
          return false;
        skip_space();
        if (peek() == ',') {
          ++at_;
          continue;
        }
        return expect(']');
      }
    }
    // A number or a literal: its bytes up to the next structural character or space.
    const std::size_t start = at_;
    while (at_ < text_.size()) {
      const char d = text_[at_];
      if (d == ',' || d == '}' || d == ']' || d == ' ' || d == '\t' || d == '\n' || d == '\r')
        break;
      ++at_;
    }
    return at_ > start;
  }

 private:
  std::string_view text_;
  std::size_t at_ = 0;
};

}  // namespace

std::optional<MemberSpan> find_member(std::string_view text,
                                      std::initializer_list<std::string_view> path) {
  Scanner scanner(text);
  std::optional<MemberSpan> found;
  auto key = path.begin();
  for (;;) {
    scanner.skip_space();
    if (scanner.peek() != '{')
      return std::nullopt;
    const std::size_t object_begin = scanner.position();
    (void)scanner.expect('{');
    scanner.skip_space();
    if (scanner.peek() == '}')
      return std::nullopt;
    bool descended = false;
    for (;;) {
      scanner.skip_space();
      const std::size_t key_begin = scanner.position();
      std::optional<std::string> name;
      if (!scanner.string(&name) || !scanner.expect(':'))
        return std::nullopt;
      if (name && *name == *key) {
        if (key + 1 == path.end()) {
          if (!scanner.value())
            return std::nullopt;
          found = MemberSpan{key_begin, scanner.position(), object_begin};
          return found;
        }
        ++key;
        descended = true;
        break;  // the value is the next object to search
      }
      if (!scanner.value())
        return std::nullopt;
      scanner.skip_space();
      if (scanner.peek() == ',') {
        (void)scanner.expect(',');
        continue;
      }
      return std::nullopt;  // '}' (not found at this level) or not JSON
    }
    if (!descended)
      return std::nullopt;
  }
}

std::string without_member(std::string_view text, const MemberSpan& member) {
  // The comma after the member (then the member is not the last one), or else the one before.
  std::size_t cut_begin = member.key_begin;
  std::size_t cut_end = member.value_end;
  std::size_t after = cut_end;
  while (after < text.size() &&
         (text[after] == ' ' || text[after] == '\t' || text[after] == '\n' || text[after] == '\r'))
    ++after;
  if (after < text.size() && text[after] == ',') {
    cut_end = after + 1;
  } else {
    std::size_t before = cut_begin;
    while (before > member.object_begin + 1 &&
           (text[before - 1] == ' ' || text[before - 1] == '\t' || text[before - 1] == '\n' ||
            text[before - 1] == '\r'))
      --before;
    if (before > member.object_begin + 1 && text[before - 1] == ',')
      cut_begin = before - 1;
  }
  std::string out;
  out.reserve(text.size() - (cut_end - cut_begin));
  out.append(text.substr(0, cut_begin));
  out.append(text.substr(cut_end));
  return out;
}

std::optional<std::string> without_payment_member(std::string_view text) {
  auto payment = find_member(text, {"params", "_meta", "x402/payment"});
  if (!payment) {
    // No payment member, or a text the scanner cannot follow: a scan of the whole value tells
    // the two apart.
    Scanner whole(text);
    if (!whole.value())
      return std::nullopt;
    return std::string(text);
  }
  std::string cut = without_member(text, *payment);
  // `_meta` left empty: the member goes too, as if the client had sent no `_meta`.
  if (auto meta = find_member(cut, {"params", "_meta"})) {
    std::string_view value =
        std::string_view(cut).substr(meta->key_begin, meta->value_end - meta->key_begin);
    // The key holds no brace, so the first one opens the value (the payment was found inside
    // it, so it is an object).
    const std::size_t open = value.find('{');
    bool empty = open != std::string_view::npos && value.back() == '}';
    for (std::size_t i = open + 1; empty && i + 1 < value.size(); ++i)
      empty = value[i] == ' ' || value[i] == '\t' || value[i] == '\n' || value[i] == '\r';
    if (empty)
      cut = without_member(cut, *meta);
  }
  return cut;
}

}  // namespace x402proxy::mcp
