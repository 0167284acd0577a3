// Package proof holds process-level tests of Prelude's promises: the real
// binary is built once, run as child processes on SQLite and PostgreSQL,
// killed with SIGKILL under load, restarted on the same data and checked
// through the public API and with SQL.
//
//   - TestCrashDurability: acknowledged writes survive kill -9; unanswered
//     ones are all or nothing; no orphan rows; the audit chain verifies.
//   - TestMultiInstance: three instances on one PostgreSQL schema behind a
//     round-robin proxy; sessions, writes, search and scheduled jobs stay
//     consistent while one instance is killed and restarted.
//   - TestSoak: long mixed load printing the server's memory every minute
//     (only with PRELUDE_PROOF_SOAK=30m, see scripts/crash.sh --soak).
//
// The short forms run in CI (go test ./internal/proof/); PRELUDE_PROOF_LONG=1
// (scripts/crash.sh, scripts/multi.sh) runs many more rounds. The PostgreSQL
// halves use PRELUDE_TEST_DATABASE_URL like every other test.
package proof
