// A value or an error, for results that can fail without exceptions (std::expected arrives in C++23).
#pragma once

#include <cassert>
#include <utility>
#include <variant>

namespace lbmail {

template <typename E>
struct Unexpected {
  E error;
};

template <typename E>
Unexpected<E> unexpected(E error) {
  return Unexpected<E>{std::move(error)};
}

template <typename T, typename E>
class Expected {
 public:
  Expected(T value) : v_(std::in_place_index<0>, std::move(value)) {}
  Expected(Unexpected<E> u) : v_(std::in_place_index<1>, std::move(u.error)) {}

  bool hasValue() const { return v_.index() == 0; }
  explicit operator bool() const { return hasValue(); }

  T& value() {
    assert(hasValue());
    return std::get<0>(v_);
  }
  const T& value() const {
    assert(hasValue());
    return std::get<0>(v_);
  }
  T& operator*() { return value(); }
  const T& operator*() const { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const E& error() const {
    assert(!hasValue());
    return std::get<1>(v_);
  }

 private:
  std::variant<T, E> v_;
};

}  // namespace lbmail
