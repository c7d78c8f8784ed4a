//! The state every API handler shares.

use std::sync::Arc;

use crate::runtime::Runtimes;
use crate::store::Store;

/// The store and the facades that run proxy calls.
#[derive(Debug, Clone)]
pub struct AppState {
    /// Where every object lives.
    pub store: Arc<dyn Store>,
    /// One facade per environment (see [`Runtimes`]).
    pub runtimes: Arc<Runtimes>,
}

impl AppState {
    /// State over `store`.
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self {
            runtimes: Arc::new(Runtimes::new(store.clone())),
            store,
        }
    }
}
