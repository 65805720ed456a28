//! Tower.
