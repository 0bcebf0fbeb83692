// Child processes on the loop.
#include "child_processes.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <fstream>

#include "lbmail/core/handle_closer.h"
#include "lbmail/core/log.h"

namespace lbmail {

namespace {

constexpr uint64_t kPollMs = 20;  // how often logs are scanned for readiness lines and kills are due

// Whether the complete lines of file after offset hold needle; offset moves past what was read.
bool logHas(const std::string& file, const std::string& needle, size_t& offset) {
  std::ifstream in(file, std::ios::binary);
  in.seekg(static_cast<std::streamoff>(offset));
  std::string fresh((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  size_t end = fresh.rfind('\n');
  if (end == std::string::npos) return false;
  offset += end + 1;
  return std::string_view(fresh).substr(0, end + 1).find(needle) != std::string_view::npos;
}

}  // namespace

struct ChildProcesses::Child {
  ChildProcesses* owner = nullptr;
  uint64_t id = 0;
  std::string name;
  std::string log_file;
  uv_process_t process{};
  bool exited = false;
  bool closed = false;
  int exit_code = -1;
  ExitFn on_exit;
  // Readiness waits: scanned from where the last scan stopped.
  struct Wait {
    std::string needle;
    uint64_t deadline_ms;
    std::function<void(bool)> ready;
    size_t scanned = 0;  // complete lines before this offset did not hold the needle
  };
  std::vector<Wait> waits;
  // A stop in progress.
  uint64_t kill_at_ms = 0;
  DoneCallbacks stopped;
};

ChildProcesses::ChildProcesses(uv_loop_t* loop) : loop_(loop) {
  uv_timer_init(loop_, &poll_timer_);
  poll_timer_.data = this;
  uv_timer_start(&poll_timer_, onPoll, kPollMs, kPollMs);
}

ChildProcesses::~ChildProcesses() = default;

uint64_t ChildProcesses::start(const std::string& name, const std::vector<std::string>& argv,
                               const std::string& log_file, ExitFn on_exit) {
  if (closing_) return 0;  // the simulation is stopping: nothing new starts
  int fd = ::open(log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) {
    logError("sim.child_log_failed", {{"child", name}, {"file", log_file}});
    return 0;
  }
  auto c = std::make_unique<Child>();
  c->owner = this;
  c->id = next_id_++;
  c->name = name;
  c->log_file = log_file;
  c->on_exit = std::move(on_exit);
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  uv_stdio_container_t stdio[3];
  stdio[0].flags = UV_IGNORE;
  stdio[1].flags = UV_INHERIT_FD;
  stdio[1].data.fd = fd;
  stdio[2].flags = UV_INHERIT_FD;
  stdio[2].data.fd = fd;
  uv_process_options_t options{};
  options.file = args[0];
  options.args = args.data();
  options.exit_cb = onExit;
  options.stdio_count = 3;
  options.stdio = stdio;
  // A process group of its own: a Ctrl-C on the terminal reaches only the simulation, which
  // then stops its children in order (SIGTERM, drain) instead of all at once.
  options.flags = UV_PROCESS_DETACHED;
  c->process.data = c.get();
  int rc = uv_spawn(loop_, &c->process, &options);
  ::close(fd);
  if (rc != 0) {
    logError("sim.child_start_failed", {{"child", name}, {"program", argv[0]}, {"error", uv_strerror(rc)}});
    // A failed spawn still leaves a handle to close.
    c->exited = true;
    uv_close(asHandle(&c->process), [](uv_handle_t* h) {
      auto* child = static_cast<Child*>(h->data);
      child->closed = true;
    });
    children_.push_back(std::move(c));
    return 0;
  }
  logInfo("sim.child_started", {{"child", name}, {"pid", static_cast<int64_t>(c->process.pid)}});
  uint64_t id = c->id;
  children_.push_back(std::move(c));
  return id;
}

ChildProcesses::Child* ChildProcesses::find(uint64_t id) const {
  for (const auto& c : children_) {
    if (c->id == id) return c.get();
  }
  return nullptr;
}

void ChildProcesses::whenLogged(uint64_t id, std::string needle, std::chrono::milliseconds bound,
                                std::function<void(bool)> ready) {
  Child* c = find(id);
  if (!c || c->exited) return ready(false);
  c->waits.push_back({std::move(needle), uv_now(loop_) + static_cast<uint64_t>(bound.count()), std::move(ready), 0});
}

void ChildProcesses::stop(uint64_t id, std::chrono::milliseconds grace, std::function<void()> done) {
  Child* c = find(id);
  if (!c || c->exited) return done();
  c->stopped.add(std::move(done));
  if (c->kill_at_ms == 0) {
    uv_process_kill(&c->process, SIGTERM);
    c->kill_at_ms = uv_now(loop_) + static_cast<uint64_t>(grace.count());
  }
}

void ChildProcesses::stopAll(std::chrono::milliseconds grace, std::function<void()> done) {
  all_done_.add(std::move(done));
  if (closing_) return;
  closing_ = true;
  auto remaining = std::make_shared<size_t>(1);
  auto one = [this, remaining] {
    if (--*remaining > 0) return;
    uv_close(asHandle(&poll_timer_), [](uv_handle_t* h) {
      auto* self = static_cast<ChildProcesses*>(h->data);
      self->all_done_.runAll();
    });
  };
  for (const auto& c : children_) {
    if (c->exited) continue;
    ++*remaining;
    stop(c->id, grace, one);
  }
  one();
}

void ChildProcesses::onExit(uv_process_t* p, int64_t status, int signal) {
  auto* c = static_cast<Child*>(p->data);
  c->exited = true;
  c->exit_code = signal ? 128 + signal : static_cast<int>(status);
  logInfo("sim.child_exited", {{"child", c->name}, {"code", c->exit_code}});
  c->owner->reap(c);
}

void ChildProcesses::reap(Child* c) {
  uv_close(asHandle(&c->process), [](uv_handle_t* h) {
    auto* child = static_cast<Child*>(h->data);
    child->closed = true;
  });
  for (Child::Wait& w : c->waits) w.ready(false);
  c->waits.clear();
  if (c->on_exit) c->on_exit(c->exit_code);
  c->stopped.runAll();
}

void ChildProcesses::onPoll(uv_timer_t* t) { static_cast<ChildProcesses*>(t->data)->poll(); }

void ChildProcesses::poll() {
  uint64_t now = uv_now(loop_);
  for (auto it = children_.begin(); it != children_.end();) {
    Child* c = it->get();
    if (c->exited) {
      // Forgotten once its handle is closed.
      it = c->closed ? children_.erase(it) : std::next(it);
      continue;
    }
    if (c->kill_at_ms != 0 && now >= c->kill_at_ms) {
      logWarn("sim.child_killed", {{"child", c->name}});
      uv_process_kill(&c->process, SIGKILL);
      c->kill_at_ms = UINT64_MAX;
    }
    if (!c->waits.empty()) {
      std::vector<std::function<void()>> fire;
      for (auto w = c->waits.begin(); w != c->waits.end();) {
        if (logHas(c->log_file, w->needle, w->scanned)) {
          fire.push_back([ready = std::move(w->ready)] { ready(true); });
          w = c->waits.erase(w);
        } else if (now >= w->deadline_ms) {
          fire.push_back([ready = std::move(w->ready)] { ready(false); });
          w = c->waits.erase(w);
        } else {
          ++w;
        }
      }
      for (auto& f : fire) f();
      // A callback may have changed children_: the rest wait for the next poll.
      if (!fire.empty()) return;
    }
    ++it;
  }
}

}  // namespace lbmail
