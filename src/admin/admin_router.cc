// Admin request routing and HTTP/1.1 response framing.
#include "lbmail/admin/admin_router.h"

namespace lbmail {

void AdminRouter::add(std::string path, Handler handler) { routes_[std::move(path)] = std::move(handler); }

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
  if (response.status == 405) out.append("Allow: GET, HEAD\r\n");
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
  auto it = routes_.find(request.path);
  if (it == routes_.end()) {
    response.status = 404;
    response.body = "not found\n";
  } else if (request.method != "GET" && !head) {
    response.status = 405;
    response.body = "method not allowed\n";
  } else {
    it->second(request, response);
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
