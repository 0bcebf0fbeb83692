// Initiator memory during a run with a large recipient database. Target: under 256 MB resident
// with 10 million recipients (LBMAIL_BENCH_RECIPIENTS, default 10,000,000; the CI smoke run uses
// fewer). The campaign streams the database in pages, so its memory should not grow with the
// list: beside it in the same run, the peer is the naive initiator that loads every recipient
// into memory first (a forked child reading the same database), and the summary prints both
// peaks and their ratio. The run goes through two real gateways into `lbmail sink` for
// LBMAIL_BENCH_SECONDS (default 20) and is then stopped; the rate it reached is printed too.
#include <benchmark/benchmark.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "bench_summary.h"
#include "campaign_ledger.h"
#include "gateway_process.h"
#include "initiator_process.h"
#include "recipient_store.h"
#include "sink_process.h"

namespace {

using namespace lbmail;

constexpr int kDomains = 100;

uint64_t envNumber(const char* name, uint64_t fallback) {
  const char* v = std::getenv(name);
  return v ? std::strtoull(v, nullptr, 10) : fallback;
}

// A database of n recipients, made once per n and kept in /tmp for the next run (10 million
// rows take a minute or two to insert and index).
std::string benchDatabase(uint64_t n) {
  std::string path = "/tmp/lbmail-bench-recipients-" + std::to_string(n) + ".db";
  if (std::filesystem::exists(path + ".done")) return path;
  std::filesystem::remove(path);
  auto store = RecipientStore::open(path);
  if (!store) return "";
  std::string sql =
      "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < " + std::to_string(n) +
      ") INSERT INTO recipients (email, domain, attributes, imported_at) SELECT 'user' || x || '@d' || (x % " +
      std::to_string(kDomains) + ") || '.test', 'd' || (x % " + std::to_string(kDomains) +
      ") || '.test', '{\"first_name\":\"Name' || x || '\",\"tier\":\"' || CASE WHEN x % 10 = 0 THEN 'gold' ELSE "
      "'std' END || '\",\"city\":\"Rotterdam\"}', 0 FROM n";
  if (sqlite3_exec((*store)->handle(), sql.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) return "";
  std::ofstream(path + ".done") << n << "\n";
  return path;
}

// Resident set of a process, kB (VmRSS; VmHWM when peak).
uint64_t residentKb(pid_t pid, bool peak) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string key = peak ? "VmHWM:" : "VmRSS:";
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(key, 0) == 0) return std::strtoull(line.c_str() + key.size(), nullptr, 10);
  }
  return 0;
}

// The peer: every recipient read into memory before sending, as a list-loading sender does.
// Forked, so its peak is its own.
uint64_t loadAllPeakKb(const std::string& db) {
  int fds[2];
  if (pipe(fds) != 0) return 0;
  pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    std::vector<StoredRecipient> all;
    {
      auto ledger = CampaignLedger::open(db, "peer");
      if (ledger) {
        uint64_t after = 0;
        while ((*ledger)->fetchFresh(after, 100000, all) && !all.empty() && all.back().id != after) {
          after = all.back().id;
        }
      }
    }
    uint64_t kb = residentKb(getpid(), true);
    benchmark::DoNotOptimize(all.data());
    [[maybe_unused]] ssize_t w = write(fds[1], &kb, sizeof kb);
    _exit(all.empty() ? 1 : 0);
  }
  close(fds[1]);
  uint64_t kb = 0;
  if (read(fds[0], &kb, sizeof kb) != sizeof kb) kb = 0;
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  return kb;
}

std::string routes(const SocketAddress& sink) {
  std::string r;
  for (int i = 0; i < kDomains; ++i) {
    r += "[[dns.route]]\ndomain = \"d" + std::to_string(i) + ".test\"\naddresses = [\"" + sink.toString() + "\"]\n";
  }
  return r;
}

void initiatorMemory(benchmark::State& state) {
  uint64_t n = envNumber("LBMAIL_BENCH_RECIPIENTS", 10'000'000);
  auto seconds = std::chrono::seconds(envNumber("LBMAIL_BENCH_SECONDS", 20));
  std::string db = benchDatabase(n);
  if (db.empty()) return state.SkipWithError("could not make the recipient database");
  for (auto _ : state) {
    // A run of its own: the campaign name is new, so every recipient is fresh.
    test::SinkProcess sink("");
    if (!sink.start()) return state.SkipWithError("the sink did not start");
    std::vector<std::unique_ptr<test::GatewayProcess>> gateways;
    test::InitiatorOptions o;
    o.database = db;
    for (int i = 0; i < 2; ++i) {
      test::GatewayOptions go;
      go.name = "gw" + std::to_string(i + 1);
      go.smtp_port = sink.smtp().port();
      go.capacity = 2000;
      go.extra = routes(sink.smtp());
      gateways.push_back(std::make_unique<test::GatewayProcess>(go));
      if (!gateways.back()->start()) return state.SkipWithError("a gateway did not start");
      o.gateways.push_back({"gw" + std::to_string(i + 1), gateways.back()->link(), gateways.back()->keyFile()});
    }
    o.campaign_extra = "progress_interval = \"1h\"\nexit_when_done = false\n";
    // A campaign name of its own: earlier runs' rows hide no recipient (and are removed after).
    o.campaign = "bench-" + std::to_string(::getpid());
    test::InitiatorProcess initiator(o);
    if (!initiator.start()) return state.SkipWithError("the initiator did not start");
    uint64_t peak_rss = 0;
    auto until = std::chrono::steady_clock::now() + seconds;
    while (std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      peak_rss = std::max(peak_rss, residentKb(initiator.pid(), false));
    }
    int64_t delivered = initiator.campaignCount("delivered");
    uint64_t hwm = residentKb(initiator.pid(), true);
    initiator.stop();
    for (auto& g : gateways) g->stop();
    sink.stop();
    sqlite3* h = nullptr;
    sqlite3_open(db.c_str(), &h);
    sqlite3_exec(h, ("DELETE FROM deliveries WHERE campaign = '" + o.campaign + "'").c_str(), nullptr, nullptr,
                 nullptr);
    sqlite3_close(h);
    uint64_t peer = loadAllPeakKb(db);
    state.counters["recipients"] = static_cast<double>(n);
    state.counters["initiator_peak_mb"] = static_cast<double>(std::max(peak_rss, hwm)) / 1024.0;
    state.counters["load_all_peak_mb"] = static_cast<double>(peer) / 1024.0;
    state.counters["delivered"] = static_cast<double>(delivered);
    state.counters["msgs_s"] = static_cast<double>(delivered) / static_cast<double>(seconds.count());
  }
}

BENCHMARK(initiatorMemory)->Iterations(1)->Unit(benchmark::kSecond);

void summarise(const perf::Runs& runs) {
  std::printf("\ninitiator_bench summary (this run):\n");
  for (const auto& r : runs) {
    if (r.error_occurred || r.counters.count("initiator_peak_mb") == 0) continue;
    double mine = r.counters.at("initiator_peak_mb"), peer = r.counters.at("load_all_peak_mb");
    std::printf(
        "  %.0f recipients in the database: initiator peak %.1f MB resident during the run (target < 256 MB) %s; "
        "loading every recipient first peaks at %.1f MB (%.1fx the initiator); %.0f delivered, %.0f msg/s\n",
        static_cast<double>(r.counters.at("recipients")), mine, mine < 256 ? "met" : "NOT MET", peer,
        mine > 0 ? peer / mine : 0.0, static_cast<double>(r.counters.at("delivered")),
        static_cast<double>(r.counters.at("msgs_s")));
  }
}

[[maybe_unused]] const bool kRegistered = perf::setSummary(summarise);

}  // namespace
