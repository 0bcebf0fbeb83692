// Maps HTTP requests to handlers and writes complete HTTP/1.1 responses: the admin endpoint's
// routes, and those of other small endpoints built on the same server (one-click unsubscribe).
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lbmail/admin/http_request_reader.h"

namespace lbmail {

struct AdminResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  // Further header fields, written as given (e.g. {"Retry-After", "60"}).
  std::vector<std::pair<std::string, std::string>> headers;
};

class AdminRouter {
 public:
  using Handler = std::function<void(const HttpRequest&, AdminResponse&)>;

  // A GET handler: it answers GET and HEAD (HEAD without the body).
  void add(std::string path, Handler handler);
  // A POST handler for the same kind of exact path.
  void addPost(std::string path, Handler handler);
  // Handlers for every path that starts with prefix and has no exact route; the longest
  // prefix wins. Either handler may be empty (that method gets 405).
  void addPrefix(std::string prefix, Handler get, Handler post);

  // Appends the whole response for request to out; returns its status code.
  // close: the connection closes after it (adds "Connection: close").
  int respond(const HttpRequest& request, bool close, std::string& out) const;

  // A bodyless error answer that always closes the connection (400, 408, 413, 431, 503).
  static void respondError(int status, std::string& out);

  static std::string_view reasonPhrase(int status);

 private:
  struct Route {
    Handler get;
    Handler post;
  };

  const Route* find(std::string_view path) const;
  static void appendResponse(const HttpRequest* request, const AdminResponse& response, bool close,
                             bool head, std::string& out);

  std::map<std::string, Route, std::less<>> routes_;
  std::map<std::string, Route, std::less<>> prefixes_;
};

}  // namespace lbmail
