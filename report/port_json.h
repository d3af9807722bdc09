// The JSON of one probed endpoint (an item of addresses[].ports): kept apart from the domain line
// so that TLS, AUTH-after-TLS and the findings that later issues add have one home.
#ifndef MXRAY_REPORT_PORT_JSON_H_
#define MXRAY_REPORT_PORT_JSON_H_

#include "engine/port_record.h"
#include "report/safe_json_writer.h"

namespace mxray::report {

void WritePort(const engine::PortRecord& port, SafeJsonWriter* w);

}  // namespace mxray::report

#endif  // MXRAY_REPORT_PORT_JSON_H_
