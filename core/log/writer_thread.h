// The threads that write to disk behind the workers — the access log's writer and the spend
// ledger's — run at a lower priority than the workers, so their bursts never hold up a request.
//
// Why: a worker and a writer usually share a core (a sidecar gets one core or a CPU quota).
// The ledger's writer commits every flush interval: at 20k requests/s that is ~1,000 rows,
// a few milliseconds of SQLite. At the same priority a request arriving then waits behind the
// batch; under a real-time policy (`chrt`, inherited by every thread) it waits for all of it.
// That was the ledger's share of sluice's p99.9 at c=1 (bench/README, issue 14).
#pragma once

namespace sluice::log {

// Call first thing on the writer's own thread. Switches the thread to SCHED_BATCH (the
// scheduler treats it as CPU-bound and lets a waking worker run first; a thread that inherited
// a real-time policy leaves it) and nice +5 relative to the process, which leaves it a quarter
// of a core shared with a saturated worker — more than the writing needs — rather than none
// (SCHED_IDLE would starve it and the ledger would drop rows under load). Both only lower the
// thread's priority, which needs no privilege; a failure leaves it as it was.
void run_behind_workers();

}  // namespace sluice::log
