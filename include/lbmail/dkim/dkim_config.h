// The [dkim] configuration table: which keys sign, how messages are canonicalized, the signer
// threads.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "lbmail/core/config_document.h"
#include "lbmail/dkim/canonicalization.h"
#include "lbmail/dkim/dkim_key.h"

namespace lbmail::dkim {

struct DkimConfig {
  std::vector<DkimKey> keys;  // every [[dkim.domain]], loaded, in file order
  std::string default_domain;  // keys of this domain sign when From's domain has none; "" none
  Canonicalization header = Canonicalization::kRelaxed, body = Canonicalization::kRelaxed;
  std::chrono::seconds expire{0};  // x= is t= + expire; 0: no x=
  unsigned signer_threads = 0;     // 0: std::thread::hardware_concurrency()
};

// t is the [dkim] table:
//   canonicalization = "relaxed/relaxed" | "relaxed/simple" | "simple/relaxed" | "simple/simple"
//   expire = "0s"; signer_threads = 0; default_domain = ""
//   [[dkim.domain]] domain, selector, algorithm = "rsa-sha256" | "ed25519-sha256" ("rsa",
//   "ed25519"), key_file (relative to config_file's folder).
// Domains are stored lowercase. A key that does not load, two entries with the same domain and
// selector, or a default_domain without keys throw ConfigError (ConfigTable::fail).
DkimConfig readDkimConfig(ConfigTable t, const std::string& config_file);

}  // namespace lbmail::dkim
