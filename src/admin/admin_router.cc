// Admin request routing and HTTP/1.1 response framing.
#include "lbmail/admin/admin_router.h"

namespace lbmail {

void AdminRouter::add(std::string path, Handler handler) { routes_[std::move(path)].get = std::move(handler); }

void AdminRouter::addPost(std::string path, Handler handler) { routes_[std::move(path)].post = std::move(handler); }

void AdminRouter::addPrefix(std::string prefix, Handler get, Handler post) {
  prefixes_[std::move(prefix)] = Route{std::move(get), std::move(post)};
}

const AdminRouter::Route* AdminRouter::find(std::string_view path) const {
  if (auto it = routes_.find(path); it != routes_.end()) return &it->second;
  const Route* best = nullptr;
  size_t best_len = 0;
  for (const auto& [prefix, route] : prefixes_) {
    if (path.starts_with(prefix) && (best == nullptr || prefix.size() > best_len)) {
      best = &route;
      best_len = prefix.size();
    }
  }
  return best;
}

namespace {

std::string allowOf(bool get, bool post) {
  if (get && post) return "GET, HEAD, POST";
  return post ? "POST" : "GET, HEAD";
}

}  // namespace

std::string_view AdminRouter::reasonPhrase(int status) {
  switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 413: return "Content Too Large";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Unknown";
  }
}

void AdminRouter::appendResponse(const HttpRequest* request, const AdminResponse& response, bool close,
                                 bool head, std::string& out) {
  out.append("HTTP/1.1 ");
  out.append(std::to_string(response.status));
  out.push_back(' ');
  out.append(reasonPhrase(response.status));
  out.append("\r\nContent-Type: ");
  out.append(response.content_type);
  out.append("\r\nContent-Length: ");
  out.append(std::to_string(response.body.size()));
  out.append("\r\nCache-Control: no-store\r\n");
  for (const auto& [name, value] : response.headers) {
    out.append(name).append(": ").append(value).append("\r\n");
  }
  if (close) {
    out.append("Connection: close\r\n");
  } else if (request && request->http_major == 1 && request->http_minor == 0) {
    // HTTP/1.0 closes by default; say that this connection stays open (RFC 9112 §9.3).
    out.append("Connection: keep-alive\r\n");
  }
  out.append("\r\n");
  if (!head) out.append(response.body);
}

int AdminRouter::respond(const HttpRequest& request, bool close, std::string& out) const {
  AdminResponse response;
  bool head = request.method == "HEAD";
  const Route* route = find(request.path);
  const Handler* handler = nullptr;
  if (route != nullptr) {
    if (request.method == "GET" || head) handler = route->get ? &route->get : nullptr;
    if (request.method == "POST") handler = route->post ? &route->post : nullptr;
  }
  if (route == nullptr) {
    response.status = 404;
    response.body = "not found\n";
  } else if (handler == nullptr) {
    response.status = 405;
    response.body = "method not allowed\n";
    response.headers.emplace_back("Allow", allowOf(static_cast<bool>(route->get), static_cast<bool>(route->post)));
  } else {
    (*handler)(request, response);
  }
  appendResponse(&request, response, close, head, out);
  return response.status;
}

void AdminRouter::respondError(int status, std::string& out) {
  AdminResponse response;
  response.status = status;
  response.body = std::string(reasonPhrase(status)) + "\n";
  appendResponse(nullptr, response, /*close=*/true, /*head=*/false, out);
}

}  // namespace lbmail
