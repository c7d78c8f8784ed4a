//! `rate_limit`: how a throttled response is recognised and how long to wait.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::languages::{BoolOrJsonata, Jsonata};

/// Rate-limit detection. Without it, a response is rate limited when its status
/// is 429, and the wait comes from `Retry-After` (seconds or an HTTP date).
/// Expressions see `status` and `headers` (lower-cased names).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RateLimit {
    /// Truthy when the response is rate limited, e.g.
    /// ``status = 429 or $number(headers.`x-ratelimit-remaining`) = 0``.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_rate_limited: Option<BoolOrJsonata>,
    /// Seconds to wait before retrying.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_header_expression: Option<Jsonata>,
    /// Epoch seconds at which the limit resets; the longer of the two waits wins.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit_header_expression: Option<Jsonata>,
}
