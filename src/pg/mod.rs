//! PostgreSQL facts: lock modes and their conflicts, what each statement locks, rewrites and scans
//! (per server version), volatility of functions, and binary-coercible type changes.

pub mod duration;
pub mod effect;
mod lock;
pub mod plan;
pub mod rerun;
pub mod types;
pub mod units;
pub mod volatility;

pub use lock::LockMode;
