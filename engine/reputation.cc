// Per address: one A query per zone (and TXT for a listing when asked), the PTR, then the forward
// lookup of the first PTR name. Each result lands in its own slot; the last one completes.
#include "engine/reputation.h"

#include <algorithm>
#include <cctype>
#include <utility>

namespace mxray::engine {

struct Reputation::Pending {
  io::IpAddress ip;
  std::shared_ptr<ReputationRecord> record;
  int outstanding = 1;  // held until every query is started
};

absl::StatusOr<std::vector<DnsblZone>> ParseDnsblZones(const std::vector<std::string>& specs,
                                                       const std::string& spamhaus_key) {
  std::vector<DnsblZone> zones;
  if (specs.size() == 1 && specs[0] == "none") return zones;
  for (const std::string& spec : specs) {
    DnsblZone z;
    size_t eq = spec.find('=');
    z.zone = spec.substr(0, eq);
    while (!z.zone.empty() && z.zone.back() == '.') z.zone.pop_back();
    for (char& c : z.zone) c = char(std::tolower(static_cast<unsigned char>(c)));
    if (z.zone.empty() || z.zone.find_first_of(" /\\") != std::string::npos ||
        z.zone.find('.') == std::string::npos) {
      return absl::InvalidArgumentError("--dnsbl: not a zone name: '" + spec + "'");
    }
    if (eq != std::string::npos) {
      z.profile = FindDnsblProfile(std::string_view(spec).substr(eq + 1));
      if (z.profile == nullptr) {
        return absl::InvalidArgumentError("--dnsbl: unknown profile in '" + spec +
                                          "' (spamhaus-zen, spamcop, barracuda, generic)");
      }
    }
    if (!spamhaus_key.empty() && z.zone == "zen.spamhaus.org") {
      // The Data Query Service answers registered users from any resolver, and in bulk.
      z.zone = spamhaus_key + ".zen.dq.spamhaus.net";
    }
    zones.push_back(std::move(z));
  }
  return zones;
}

Reputation::Reputation(io::Resolver* resolver, ReputationOptions options)
    : resolver_(resolver), options_(std::move(options)) {
  for (DnsblZone& z : options_.zones) {
    if (z.profile == nullptr) z.profile = &ProfileForZone(z.zone);
    zones_.push_back(std::make_shared<DnsblZone>(std::move(z)));
  }
  options_.zones.clear();
}

void Reputation::SelfTest(absl::AnyInvocable<void()> done) {
  struct Test {
    absl::AnyInvocable<void()> done;
    int outstanding = 1;
    std::vector<io::AddressAnswer> listed, unlisted;
  };
  auto test = std::make_shared<Test>();
  test->done = std::move(done);
  test->listed.resize(zones_.size());
  test->unlisted.resize(zones_.size());
  auto finish = [this, test] {
    if (--test->outstanding > 0) return;
    for (size_t i = 0; i < zones_.size(); ++i) {
      DnsblZone& z = *zones_[i];
      z.passed = DnsblSelfTestPassed(*z.profile, test->listed[i], test->unlisted[i]);
      if (z.passed) {
        z.self_test = "passed";
      } else if (test->listed[i].status != io::DnsStatus::kOk) {
        z.self_test =
            "127.0.0.2 not listed (" + std::string(io::DnsStatusName(test->listed[i].status)) + ")";
      } else if (test->unlisted[i].status == io::DnsStatus::kOk) {
        z.self_test = "127.0.0.1 listed";
      } else {
        z.self_test =
            "127.0.0.2 answered " + ClassifyDnsblAnswer(*z.profile, test->listed[i], true).reason;
      }
    }
    test->done();
  };
  const io::IpAddress listed = *io::IpAddress::Parse("127.0.0.2");
  const io::IpAddress unlisted = *io::IpAddress::Parse("127.0.0.1");
  for (size_t i = 0; i < zones_.size(); ++i) {
    test->outstanding += 2;
    resolver_->ResolveAddress(DnsblQueryName(listed, zones_[i]->zone), io::DnsType::kA,
                              [test, i, finish](io::AddressAnswer&& a) mutable {
                                test->listed[i] = std::move(a);
                                finish();
                              });
    resolver_->ResolveAddress(DnsblQueryName(unlisted, zones_[i]->zone), io::DnsType::kA,
                              [test, i, finish](io::AddressAnswer&& a) mutable {
                                test->unlisted[i] = std::move(a);
                                finish();
                              });
  }
  finish();
}

void Reputation::Get(const io::IpAddress& ip, Callback done) {
  auto [it, inserted] = entries_.try_emplace(ip);
  if (!inserted) {
    if (it->second.result) {
      ReputationPtr result = it->second.result;
      done(result);
    } else {
      it->second.waiters.push_back(std::move(done));
    }
    return;
  }
  it->second.waiters.push_back(std::move(done));
  Lookup(ip);
}

void Reputation::Lookup(const io::IpAddress& ip) {
  auto p = std::make_shared<Pending>();
  p->ip = ip;
  p->record = std::make_shared<ReputationRecord>();
  p->record->dnsbl.resize(zones_.size());
  auto finish = [this, p] {
    if (--p->outstanding == 0) Complete(p->ip, p->record);
  };
  for (size_t i = 0; i < zones_.size(); ++i) {
    const DnsblZone* zone = zones_[i].get();
    p->record->dnsbl[i].zone = zones_[i];
    ++p->outstanding;
    std::string name = DnsblQueryName(ip, zone->zone);
    resolver_->ResolveAddress(
        name, io::DnsType::kA, [this, p, i, zone, name, finish](io::AddressAnswer&& a) mutable {
          DnsblResult& r = p->record->dnsbl[i];
          r.verdict = ClassifyDnsblAnswer(*zone->profile, a, zone->passed);
          if (r.verdict.status == DnsblStatus::kListed && options_.dnsbl_txt) {
            ++p->outstanding;
            resolver_->ResolveTxt(name, [p, i, finish](io::TxtAnswer&& t) mutable {
              p->record->dnsbl[i].txt = std::move(t.texts);
              finish();
            });
          }
          finish();
        });
  }
  if (options_.ptr) {
    ++p->outstanding;
    resolver_->ResolvePtr(PtrQueryName(ip), [this, p, finish](io::PtrAnswer&& a) mutable {
      ReputationRecord& r = *p->record;
      r.ptr_status = a.status;
      r.ptr = std::move(a.names);
      if (r.ptr.empty()) {
        finish();
        return;
      }
      // Forward-confirmed reverse DNS: the first name must lead back to the address.
      ++p->outstanding;
      resolver_->ResolveAddress(r.ptr.front(), p->ip.is_v4() ? io::DnsType::kA : io::DnsType::kAaaa,
                                [p, finish](io::AddressAnswer&& f) mutable {
                                  const auto& addrs = f.addresses;
                                  p->record->fcrdns =
                                      std::find(addrs.begin(), addrs.end(), p->ip) != addrs.end();
                                  finish();
                                });
      finish();
    });
  }
  finish();
}

void Reputation::Complete(const io::IpAddress& ip, std::shared_ptr<ReputationRecord> record) {
  auto it = entries_.find(ip);
  if (it == entries_.end()) return;
  std::vector<Callback> waiters = std::move(it->second.waiters);
  ReputationPtr result = std::move(record);
  if (++finished_ > options_.cache_entries) {
    // Bounded memory over any input size: forget finished results (their domains keep them).
    finished_ = 0;
    for (auto e = entries_.begin(); e != entries_.end();) {
      if (e->second.result) {
        entries_.erase(e++);
      } else {
        ++e;
      }
    }
    it = entries_.find(ip);  // kept: its result goes in below
  }
  it->second.result = result;
  for (Callback& w : waiters) w(result);
}

}  // namespace mxray::engine
