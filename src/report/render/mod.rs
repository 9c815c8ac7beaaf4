//! Renderers: each turns a [`Report`](super::Report) into text for one audience.

pub mod json;
pub mod text;
