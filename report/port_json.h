// The JSON of one probed endpoint (an item of addresses[].ports): kept apart from the domain line
// so that TLS, AUTH-after-TLS and the findings that later issues add have one home.
#ifndef MXRAY_REPORT_PORT_JSON_H_
#define MXRAY_REPORT_PORT_JSON_H_

#include "engine/domain_record.h"
#include "engine/port_record.h"
#include "report/safe_json_writer.h"

namespace mxray::report {

// `verdict` judges the certificate for the exchange this port is written under (null: none).
void WritePort(const engine::PortRecord& port, const engine::CertificateVerdict* verdict,
               SafeJsonWriter* w);

}  // namespace mxray::report

#endif  // MXRAY_REPORT_PORT_JSON_H_
