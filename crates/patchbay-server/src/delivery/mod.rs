//! The delivery worker: sends the store's outbox of webhook events, signed,
//! with retries (see [`worker`]).

mod worker;

pub use self::worker::{
    DELIVERY_HEADER, DeliveryError, DeliveryHandle, DeliveryOptions, DeliveryWorker, EVENT_HEADER,
    PRUNE_BATCH, RETENTION_DEAD_VAR, RETENTION_DELIVERED_VAR, RetentionError, TickReport,
    USER_AGENT, spawn,
};
