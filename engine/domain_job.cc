// DomainJob: RFC 5321 §5.1 mail host selection with RFC 7505 null MX, as a record of facts.
#include "engine/domain_job.h"

#include <algorithm>

#include "engine/domain_input.h"
#include "engine/findings.h"
#include "io/ip_address.h"

namespace mxray::engine {
namespace {

bool IsIpLiteral(std::string_view name) {
  if (name.size() >= 2 && name.front() == '[' && name.back() == ']') {
    name = name.substr(1, name.size() - 2);
    if (name.starts_with("ipv6:")) name.remove_prefix(5);
  }
  return io::IpAddress::Parse(name).has_value();
}

bool IsError(io::DnsStatus s) {
  return s == io::DnsStatus::kServfail || s == io::DnsStatus::kRefused ||
         s == io::DnsStatus::kMalformed;
}

}  // namespace

ExchangeStatus ExchangeStatusFromLookups(const ExchangeRecord& e, bool cname_loop) {
  if (!e.addresses.empty()) return ExchangeStatus::kOk;
  if (cname_loop) return ExchangeStatus::kCnameLoop;
  auto any = [&](auto pred) {
    return (e.a_status && pred(*e.a_status)) || (e.aaaa_status && pred(*e.aaaa_status));
  };
  // NXDOMAIN is definitive for the name whatever the other lookup said.
  if (any([](io::DnsStatus s) { return s == io::DnsStatus::kNxdomain; })) {
    return ExchangeStatus::kNxdomain;
  }
  if (any([](io::DnsStatus s) { return s == io::DnsStatus::kTimeout; })) {
    return ExchangeStatus::kDnsTimeout;
  }
  if (any(IsError)) return ExchangeStatus::kDnsError;
  return ExchangeStatus::kNoAddress;
}

DomainStatus DomainStatusFromExchanges(const DomainRecord& r) {
  bool timeout = false, error = false;
  for (const ExchangeRecord& e : r.mx) {
    if (e.status == ExchangeStatus::kOk) return DomainStatus::kOk;
    timeout |= e.status == ExchangeStatus::kDnsTimeout;
    error |= e.status == ExchangeStatus::kDnsError || e.status == ExchangeStatus::kCnameLoop;
  }
  if (timeout) return DomainStatus::kDnsTimeout;
  if (error) return DomainStatus::kDnsError;
  return DomainStatus::kNoMailHost;
}

void DomainJob::Start(std::string input, std::string domain, uint64_t start_ns, Done done) {
  record_ = DomainRecord{};
  record_.input = std::move(input);
  record_.domain = std::move(domain);
  start_ns_ = start_ns;
  done_ = std::move(done);
  implicit_ = false;
  probing_ = false;
  pending_ = 1;
  dns_.mx->Get(record_.domain, [this](const io::MxAnswer& a) { OnMx(a); });
}

void DomainJob::OnMx(const io::MxAnswer& answer) {
  record_.mx_status = answer.status;
  record_.mx_cname = answer.cname_chain;
  switch (answer.status) {
    case io::DnsStatus::kOk:
      break;
    case io::DnsStatus::kNodata:
      StartImplicit();
      return;
    case io::DnsStatus::kNxdomain:
      record_.status = DomainStatus::kNxdomain;
      LookupDone();
      return;
    case io::DnsStatus::kTimeout:
      record_.status = DomainStatus::kDnsTimeout;
      LookupDone();
      return;
    case io::DnsStatus::kServfail:
    case io::DnsStatus::kRefused:
    case io::DnsStatus::kMalformed:
      record_.status = DomainStatus::kDnsError;
      LookupDone();
      return;
  }

  const auto& records = answer.records;
  if (records.size() == 1 && records[0].exchange.empty()) {
    record_.status = DomainStatus::kNullMx;
    record_.mx_source = MxSource::kNullMx;
    LookupDone();
    return;
  }
  record_.mx_source = MxSource::kMx;
  record_.mx_truncated = answer.truncated_records;
  record_.mx.reserve(records.size());
  cname_loop_.assign(records.size(), false);
  size_t used = 0;
  for (const io::MxRecord& mx : records) {
    ExchangeRecord& e = record_.mx.emplace_back();
    e.preference = mx.preference;
    e.exchange = mx.exchange;
    if (mx.exchange.empty()) {
      e.status = ExchangeStatus::kNullMxMixed;
    } else if (IsIpLiteral(mx.exchange)) {
      e.status = ExchangeStatus::kIpLiteral;
    } else if (!IsValidHostname(mx.exchange)) {
      e.status = ExchangeStatus::kInvalidName;
    } else if (used >= config_->max_exchanges) {
      e.status = ExchangeStatus::kSkipped;
      record_.mx_truncated = true;
    } else {
      ++used;
      e.status = ExchangeStatus::kOk;  // settled once its lookups are back
      pending_ += 2;
    }
  }
  // Lookups may answer at once from the cache: start them only once the list is complete.
  for (size_t i = 0; i < record_.mx.size(); ++i) {
    if (record_.mx[i].status == ExchangeStatus::kOk) ResolveExchange(i);
  }
  LookupDone();
}

void DomainJob::ResolveExchange(size_t index) {
  const std::string& name = record_.mx[index].exchange;
  dns_.a->Get(name, [this, index](const io::AddressAnswer& a) { OnAddresses(index, false, a); });
  dns_.aaaa->Get(name, [this, index](const io::AddressAnswer& a) { OnAddresses(index, true, a); });
}

void DomainJob::OnAddresses(size_t index, bool v6, const io::AddressAnswer& answer) {
  ExchangeRecord& e = record_.mx[index];
  (v6 ? e.aaaa_status : e.a_status) = answer.status;
  if (e.cname.size() < answer.cname_chain.size()) e.cname = answer.cname_chain;
  if (answer.cname_loop) cname_loop_[index] = true;
  if (answer.truncated_records) e.addresses_truncated = true;
  // Capped and ordered (IPv4 first) in Finish, so the record does not depend on which of the
  // two lookups came back first.
  for (const io::IpAddress& ip : answer.addresses) e.addresses.push_back(AddressRecord{ip});
  LookupDone();
}

void DomainJob::StartImplicit() {
  implicit_ = true;
  pending_ += 2;
  cname_loop_.assign(1, false);
  ExchangeRecord& e = record_.mx.emplace_back();
  e.preference = 0;
  e.exchange = record_.domain;
  dns_.a->Get(record_.domain, [this](const io::AddressAnswer& a) { OnImplicit(false, a); });
  dns_.aaaa->Get(record_.domain, [this](const io::AddressAnswer& a) { OnImplicit(true, a); });
  LookupDone();
}

void DomainJob::OnImplicit(bool v6, const io::AddressAnswer& answer) {
  (v6 ? record_.aaaa_status : record_.a_status) = answer.status;
  OnAddresses(0, v6, answer);
}

void DomainJob::LookupDone() {
  if (--pending_ > 0) return;
  if (probing_) {
    JudgeDomain(&record_);
    Finish();
    return;
  }
  SettleDns();
  ProbeEndpoints();
}

void DomainJob::ProbeEndpoints() {
  static const std::vector<uint16_t> kNoPorts;
  const std::vector<uint16_t>& ports = dns_.endpoints ? config_->probe.ports : kNoPorts;
  const bool reputation = dns_.reputation != nullptr;
  if ((ports.empty() && !reputation) || record_.status != DomainStatus::kOk) {
    Finish();
    return;
  }
  probing_ = true;
  pending_ = 1;  // held until every request is made: results may arrive at once
  for (ExchangeRecord& e : record_.mx) {
    for (AddressRecord& a : e.addresses) {
      a.ports.resize(ports.size());
      pending_ += static_cast<int>(ports.size()) + (reputation ? 1 : 0);
    }
  }
  if (reputation) {
    for (ExchangeRecord& e : record_.mx) {
      for (AddressRecord& a : e.addresses) {
        ReputationPtr* slot = &a.reputation;
        dns_.reputation->Get(a.ip, [this, slot](const ReputationPtr& r) {
          *slot = r;
          LookupDone();
        });
      }
    }
  }
  // The vectors are sized above and never grow again, so each result can be written straight
  // to its slot; two words of capture also keep the callback free of a heap allocation.
  for (ExchangeRecord& e : record_.mx) {
    for (AddressRecord& a : e.addresses) {
      for (size_t p = 0; p < ports.size(); ++p) {
        PortRecordPtr* slot = &a.ports[p];
        dns_.endpoints->Get(a.ip, ports[p], e.exchange, [this, slot](const PortRecordPtr& r) {
          *slot = r;
          LookupDone();
        });
      }
    }
  }
  LookupDone();
}

void DomainJob::Finish() {
  Done done = std::move(done_);
  done(this);  // may reuse this job: touch nothing after
}

void DomainJob::SettleDns() {
  for (size_t i = 0; i < record_.mx.size(); ++i) {
    ExchangeRecord& e = record_.mx[i];
    if (e.status != ExchangeStatus::kOk) continue;
    std::stable_partition(e.addresses.begin(), e.addresses.end(),
                          [](const AddressRecord& a) { return a.ip.is_v4(); });
    if (e.addresses.size() > config_->max_addresses) {
      e.addresses.resize(config_->max_addresses);
      e.addresses_truncated = true;
    }
    e.status = ExchangeStatusFromLookups(e, cname_loop_[i]);
  }
  if (implicit_) {
    const ExchangeRecord& e = record_.mx[0];
    if (e.status == ExchangeStatus::kOk) {
      record_.mx_source = MxSource::kImplicit;
      record_.status = DomainStatus::kOk;
    } else {
      // No mail host: the failed implicit attempt stays visible through dns.a / dns.aaaa.
      record_.mx_source = MxSource::kNone;
      record_.status = DomainStatusFromExchanges(record_);
      record_.mx.clear();
    }
  } else if (record_.mx_source == MxSource::kMx) {
    record_.status = DomainStatusFromExchanges(record_);
  }
}

}  // namespace mxray::engine
