// src/pg/tracking.hpp: transaction-end hook of the tracking functions (sql_tracking.cpp).
#pragma once

namespace audit_chain::pg {

void TrackingAtEndOfTransaction(void);

}  // namespace audit_chain::pg
