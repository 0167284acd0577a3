// Package benchutil holds the parts of Prelude's load benchmark
// (cmd/preludebench) that do not know Prelude's API: a closed-loop load
// runner with weighted tasks, latency percentiles, an RSS sampler, the raw
// net/http + database baseline server, machine facts and Markdown tables.
//
// Nothing here sends traffic anywhere but the URLs it is given; the bench
// script only ever gives it 127.0.0.1.
package benchutil
