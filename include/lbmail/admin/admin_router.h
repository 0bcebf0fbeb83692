// Maps admin requests to handlers and writes complete HTTP/1.1 responses.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "lbmail/admin/http_request_reader.h"

namespace lbmail {

struct AdminResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

class AdminRouter {
 public:
  using Handler = std::function<void(const HttpRequest&, AdminResponse&)>;

  // Handlers answer GET and HEAD; other methods on a known path get 405.
  void add(std::string path, Handler handler);

  // Appends the whole response for request to out; returns its status code.
  // close: the connection closes after it (adds "Connection: close").
  int respond(const HttpRequest& request, bool close, std::string& out) const;

  // A bodyless error answer that always closes the connection (400, 408, 413, 431, 503).
  static void respondError(int status, std::string& out);

  static std::string_view reasonPhrase(int status);

 private:
  static void appendResponse(const HttpRequest* request, const AdminResponse& response, bool close,
                             bool head, std::string& out);

  std::map<std::string, Handler, std::less<>> routes_;
};

}  // namespace lbmail
