// The public answers to TXT, TLSA and address lookups, made from the cached results of the
// questions they asked.
#pragma once

#include "lbmail/dns/record_answers.h"
#include "record_set.h"

namespace lbmail::dns {

TxtAnswer txtAnswer(const RecordSet& txt);
TlsaAnswer tlsaAnswer(const RecordSet& tlsa);
// From the A and the AAAA result of one host; the addresses lose the resolver's SMTP port.
AddressAnswer addressAnswer(const RecordSet& a, const RecordSet& aaaa);

}  // namespace lbmail::dns
