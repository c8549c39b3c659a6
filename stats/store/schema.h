#pragma once
// The results database schema, version kSchemaVersion. Documented in
// stats/README.md ("Results database"); bump the version on any change that
// an older reader would misread, and readers refuse other versions.
namespace npusim::stats {

inline constexpr int kSchemaVersion = 1;

// One statement per element, all idempotent (IF NOT EXISTS) so concurrent
// writers creating the same file agree.
inline constexpr const char* kSchemaStatements[] = {
    "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)",
    // One row per design point, keyed by the SHA-256 of its canonical identity.
    "CREATE TABLE IF NOT EXISTS runs ("
    " run_hash TEXT PRIMARY KEY, identity TEXT NOT NULL,"
    " status TEXT NOT NULL CHECK (status IN ('ok', 'failed')), failure TEXT,"
    " npusim_version TEXT, hw TEXT, model TEXT, phase TEXT, batch INTEGER, seq INTEGER, steps INTEGER,"
    " mapping TEXT, mapping_reason TEXT, compression TEXT, fidelity TEXT,"
    " cycles INTEGER, seconds REAL, tokens REAL, tokens_per_s REAL, flops REAL,"
    " peak_flops_per_s REAL, peak_bandwidth_Bps REAL, energy_j REAL, energy_per_token_j REAL,"
    " wall_seconds REAL, sim_events INTEGER, summary_json TEXT)",
    "CREATE TABLE IF NOT EXISTS ops ("
    " run_hash TEXT NOT NULL REFERENCES runs(run_hash), idx INTEGER NOT NULL,"
    " name TEXT, kind TEXT, layer INTEGER, flops REAL, bytes REAL, seconds REAL,"
    " arithmetic_intensity REAL, achieved_flops_per_s REAL, bound TEXT, PRIMARY KEY (run_hash, idx))",
    "CREATE TABLE IF NOT EXISTS units ("
    " run_hash TEXT NOT NULL REFERENCES runs(run_hash), unit TEXT NOT NULL, utilization REAL,"
    " PRIMARY KEY (run_hash, unit))",
    "CREATE TABLE IF NOT EXISTS tiers ("
    " run_hash TEXT NOT NULL REFERENCES runs(run_hash), tier TEXT NOT NULL,"
    " bytes_read INTEGER, bytes_written INTEGER, PRIMARY KEY (run_hash, tier))",
    "CREATE TABLE IF NOT EXISTS energy ("
    " run_hash TEXT NOT NULL REFERENCES runs(run_hash), component TEXT NOT NULL, joules REAL,"
    " PRIMARY KEY (run_hash, component))",
    "CREATE TABLE IF NOT EXISTS counters ("
    " run_hash TEXT NOT NULL REFERENCES runs(run_hash), name TEXT NOT NULL, value REAL, unit TEXT,"
    " description TEXT, PRIMARY KEY (run_hash, name))",
};

}  // namespace npusim::stats
