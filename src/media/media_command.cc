// The media subcommands: argument parsing and reports on stdout, errors on stderr.
#include "media_command.h"

#include <cstdio>
#include <string>

#include "lbmail/media/media_cache.h"
#include "lbmail/media/media_cache_builder.h"

namespace lbmail::media {
namespace {

void printUsage(FILE* out) {
  std::fprintf(out,
               "usage: lbmail media build --src DIR --cache DIR\n"
               "       lbmail media verify --cache DIR\n"
               "\n"
               "  build    encode every file under --src once (base64, 76-character lines) into the\n"
               "           content-addressed cache --cache, named by XXH3-128, with manifest.tsv\n"
               "  verify   re-read every cache file: size, checksum, encoding and hash; exit 1 on damage\n");
}

int usage(const std::string& message) {
  std::fprintf(stderr, "lbmail media: %s (see 'lbmail media --help')\n", message.c_str());
  return 2;
}

int build(const std::string& src, const std::string& cache) {
  auto report = buildMediaCache(src, cache);
  if (!report) {
    std::fprintf(stderr, "lbmail media build: %s\n", report.error().c_str());
    return 1;
  }
  for (const ManifestEntry& e : report->entries) {
    std::printf("%s  %10llu  %-24s  %s\n", hashToHex(e.hash).c_str(), static_cast<unsigned long long>(e.source_size),
                e.content_type.c_str(), e.name.c_str());
  }
  std::printf("media build: %zu files, %llu octets, %llu encoded; %zu written, %zu already cached, in %s\n",
              report->entries.size(), static_cast<unsigned long long>(report->source_bytes),
              static_cast<unsigned long long>(report->encoded_bytes), report->written, report->reused, cache.c_str());
  return 0;
}

int verify(const std::string& cache) {
  auto report = verifyMediaCache(cache);
  if (!report) {
    std::fprintf(stderr, "lbmail media verify: %s\n", report.error().c_str());
    return 1;
  }
  for (const std::string& d : report->damaged) std::printf("damaged: %s\n", d.c_str());
  std::printf("media verify: %zu checked, %zu damaged in %s\n", report->checked, report->damaged.size(), cache.c_str());
  return report->damaged.empty() ? 0 : 1;
}

}  // namespace

int runMediaCommand(const std::vector<std::string_view>& args) {
  if (args.empty()) return usage("a subcommand is required: build or verify");
  std::string_view sub = args[0];
  if (sub == "-h" || sub == "--help") {
    printUsage(stdout);
    return 0;
  }
  std::string src, cache;
  for (size_t i = 1; i < args.size(); ++i) {
    std::string_view a = args[i];
    std::string* target = a == "--src" ? &src : a == "--cache" ? &cache : nullptr;
    if (!target) return usage("unknown option '" + std::string(a) + "'");
    if (i + 1 >= args.size()) return usage(std::string(a) + " needs a directory");
    *target = args[++i];
  }
  if (sub == "build") {
    if (src.empty() || cache.empty()) return usage("build needs --src DIR and --cache DIR");
    return build(src, cache);
  }
  if (sub == "verify") {
    if (cache.empty() || !src.empty()) return usage("verify takes --cache DIR only");
    return verify(cache);
  }
  return usage("unknown subcommand '" + std::string(sub) + "'");
}

}  // namespace lbmail::media
