// Tests for admin routing and HTTP/1.1 response framing.
#include "lbmail/admin/admin_router.h"

#include <gtest/gtest.h>

namespace lbmail {
namespace {

HttpRequest request(std::string_view method, std::string_view path) {
  HttpRequest r;
  r.method = method;
  r.path = path;
  return r;
}

AdminRouter helloRouter() {
  AdminRouter router;
  router.add("/hello", [](const HttpRequest&, AdminResponse& r) { r.body = "hi\n"; });
  return router;
}

TEST(AdminRouter, AnswersAKnownPath) {
  std::string out;
  EXPECT_EQ(helloRouter().respond(request("GET", "/hello"), false, out), 200);
  EXPECT_EQ(out,
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 3\r\n"
            "Cache-Control: no-store\r\n\r\nhi\n");
}

TEST(AdminRouter, HeadGivesHeadersWithoutBody) {
  std::string out;
  EXPECT_EQ(helloRouter().respond(request("HEAD", "/hello"), false, out), 200);
  EXPECT_NE(out.find("Content-Length: 3\r\n"), std::string::npos);
  EXPECT_EQ(out.substr(out.size() - 4), "\r\n\r\n");
}

TEST(AdminRouter, UnknownPathIs404) {
  std::string out;
  EXPECT_EQ(helloRouter().respond(request("GET", "/nope"), false, out), 404);
  EXPECT_EQ(out.rfind("HTTP/1.1 404 Not Found\r\n", 0), 0u);
}

TEST(AdminRouter, OtherMethodsAre405WithAllow) {
  for (std::string_view m : {"POST", "PUT", "DELETE", "OPTIONS"}) {
    std::string out;
    EXPECT_EQ(helloRouter().respond(request(m, "/hello"), false, out), 405);
    EXPECT_NE(out.find("Allow: GET, HEAD\r\n"), std::string::npos);
  }
}

TEST(AdminRouter, SaysWhenTheConnectionCloses) {
  std::string out;
  helloRouter().respond(request("GET", "/hello"), true, out);
  EXPECT_NE(out.find("Connection: close\r\n"), std::string::npos);
}

TEST(AdminRouter, ConfirmsKeepAliveToHttp10) {
  HttpRequest r = request("GET", "/hello");
  r.http_minor = 0;
  std::string out;
  helloRouter().respond(r, false, out);
  EXPECT_NE(out.find("Connection: keep-alive\r\n"), std::string::npos);
}

TEST(AdminRouter, ErrorAnswersClose) {
  std::string out;
  AdminRouter::respondError(431, out);
  EXPECT_EQ(out.rfind("HTTP/1.1 431 Request Header Fields Too Large\r\n", 0), 0u);
  EXPECT_NE(out.find("Connection: close\r\n"), std::string::npos);
}

TEST(AdminRouter, PostHandlersAnswerPostOnly) {
  AdminRouter router;
  router.addPost("/form", [](const HttpRequest& q, AdminResponse& r) { r.body = std::string(q.body); });
  HttpRequest post = request("POST", "/form");
  post.body = "a=b";
  std::string out;
  EXPECT_EQ(router.respond(post, false, out), 200);
  EXPECT_EQ(out.substr(out.size() - 3), "a=b");
  out.clear();
  EXPECT_EQ(router.respond(request("GET", "/form"), false, out), 405);
  EXPECT_NE(out.find("Allow: POST\r\n"), std::string::npos);
}

TEST(AdminRouter, PrefixRoutesTakeEveryPathBelowThemLongestFirstAndExactPathsWin) {
  AdminRouter router;
  router.add("/u/exact", [](const HttpRequest&, AdminResponse& r) { r.body = "exact"; });
  router.addPrefix("/", [](const HttpRequest& q, AdminResponse& r) { r.body = "root:" + std::string(q.path); }, {});
  router.addPrefix(
      "/u/", [](const HttpRequest& q, AdminResponse& r) { r.body = "u-get:" + std::string(q.path); },
      [](const HttpRequest& q, AdminResponse& r) { r.body = "u-post:" + std::string(q.path); });
  auto body = [&](std::string_view method, std::string_view path) {
    std::string out;
    router.respond(request(method, path), false, out);
    return out.substr(out.find("\r\n\r\n") + 4);
  };
  EXPECT_EQ(body("GET", "/u/exact"), "exact");
  EXPECT_EQ(body("GET", "/u/TOKEN"), "u-get:/u/TOKEN");
  EXPECT_EQ(body("POST", "/u/a/b/TOKEN"), "u-post:/u/a/b/TOKEN");
  EXPECT_EQ(body("GET", "/x/TOKEN"), "root:/x/TOKEN");
  std::string out;
  EXPECT_EQ(router.respond(request("POST", "/x/TOKEN"), false, out), 405);
  EXPECT_NE(out.find("Allow: GET, HEAD\r\n"), std::string::npos);
  out.clear();
  EXPECT_EQ(router.respond(request("DELETE", "/u/TOKEN"), false, out), 405);
  EXPECT_NE(out.find("Allow: GET, HEAD, POST\r\n"), std::string::npos);
}

TEST(AdminRouter, HandlersMayAddHeaderFields) {
  AdminRouter router;
  router.add("/busy", [](const HttpRequest&, AdminResponse& r) {
    r.status = 503;
    r.headers.emplace_back("Retry-After", "60");
  });
  std::string out;
  EXPECT_EQ(router.respond(request("GET", "/busy"), false, out), 503);
  EXPECT_NE(out.find("\r\nRetry-After: 60\r\n"), std::string::npos);
}

}  // namespace
}  // namespace lbmail
