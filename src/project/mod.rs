//! What migsafe reads from the user's project besides the migration: the configuration file,
//! Alembic's `versions` folder, and a table sizes file.

pub mod alembic;
pub mod config;
pub mod sizes;

pub use alembic::{RevisionFile, RevisionFiles};
pub use config::Config;
pub use sizes::read_sizes;
