//! [`PaceConfig`]: a steady request rate with a burst allowance, and its text form.

use std::fmt;
use std::num::NonZeroU32;
use std::str::FromStr;
use std::time::Duration;

use governor::Quota;

/// A steady request rate with a burst allowance.
///
/// Its text form (for settings such as the server's `PATCHBAY_PACING`) is
/// `<requests>/<period>[,burst=<n>]`: the period is a unit (`ms`, `s`, `min`
/// or `m`, `h`) optionally preceded by a number (`10/s`, `600/min`, `5/100ms`,
/// `30/10s`); the burst defaults to 1 (requests evenly spaced, never two
/// closer than `period / requests`).
///
/// ```
/// use std::time::Duration;
/// use patchbay_ratelimit::PaceConfig;
///
/// let pace: PaceConfig = "10/s".parse()?;
/// assert_eq!((pace.requests.get(), pace.per, pace.burst.get()), (10, Duration::from_secs(1), 1));
/// let pace: PaceConfig = "600/min, burst=20".parse()?;
/// assert_eq!((pace.requests.get(), pace.per, pace.burst.get()), (600, Duration::from_secs(60), 20));
/// assert_eq!(pace.interval(), Duration::from_millis(100));
/// assert!("10 per second".parse::<PaceConfig>().is_err());
/// # Ok::<(), patchbay_ratelimit::PaceConfigError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PaceConfig {
    /// Requests per `per`.
    pub requests: NonZeroU32,
    /// The period `requests` are spread over.
    pub per: Duration,
    /// Requests allowed back to back before pacing starts.
    pub burst: NonZeroU32,
}

impl PaceConfig {
    /// The time between two paced requests, `per / requests` (at least 1 ns).
    pub fn interval(&self) -> Duration {
        (self.per / self.requests.get()).max(Duration::from_nanos(1))
    }

    pub(crate) fn quota(&self) -> Quota {
        Quota::with_period(self.interval())
            .unwrap_or_else(|| Quota::per_second(self.requests))
            .allow_burst(self.burst)
    }
}

/// A pace's text form is not `<requests>/<period>[,burst=<n>]`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{text}` is not a pace like `10/s`, `600/min` or `10/s,burst=5`: {reason}")]
pub struct PaceConfigError {
    text: String,
    reason: &'static str,
}

impl FromStr for PaceConfig {
    type Err = PaceConfigError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let fail = |reason| PaceConfigError {
            text: text.to_owned(),
            reason,
        };
        let mut parts = text.split(',').map(str::trim);
        let rate = parts.next().unwrap_or_default();
        let (requests, period) = rate
            .split_once('/')
            .ok_or_else(|| fail("no `/` between requests and period"))?;
        let requests =
            positive(requests.trim()).ok_or_else(|| fail("requests must be a positive integer"))?;
        let per = period_of(period.trim()).ok_or_else(|| {
            fail("the period must be a unit (ms, s, min, h) after an optional positive number")
        })?;
        let mut burst = NonZeroU32::MIN;
        for option in parts {
            let value = option
                .strip_prefix("burst")
                .map(str::trim_start)
                .and_then(|rest| rest.strip_prefix('='))
                .ok_or_else(|| fail("the only option is `burst=<n>`"))?;
            burst =
                positive(value.trim()).ok_or_else(|| fail("burst must be a positive integer"))?;
        }
        Ok(Self {
            requests,
            per,
            burst,
        })
    }
}

impl fmt::Display for PaceConfig {
    /// The text form [`FromStr`] reads (the period in milliseconds when it is not whole seconds).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let per = if self.per.subsec_nanos() == 0 {
            format!("{}s", self.per.as_secs())
        } else {
            format!("{}ms", self.per.as_millis())
        };
        write!(f, "{}/{per},burst={}", self.requests, self.burst)
    }
}

fn positive(text: &str) -> Option<NonZeroU32> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// `s`, `100ms`, `10s`, `min`, `5m`, `h`: a positive period.
fn period_of(text: &str) -> Option<Duration> {
    let unit_at = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (count, unit) = text.split_at(unit_at);
    let count = if count.is_empty() {
        1
    } else {
        u64::from(positive(count)?.get())
    };
    let unit = match unit {
        "ms" => Duration::from_millis(1),
        "s" => Duration::from_secs(1),
        "m" | "min" => Duration::from_secs(60),
        "h" => Duration::from_secs(3600),
        _ => return None,
    };
    unit.checked_mul(u32::try_from(count).ok()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pace(text: &str) -> (u32, Duration, u32) {
        let p: PaceConfig = text.parse().unwrap();
        (p.requests.get(), p.per, p.burst.get())
    }

    #[test]
    fn forms() {
        assert_eq!(pace("10/s"), (10, Duration::from_secs(1), 1));
        assert_eq!(
            pace(" 5 / 100ms , burst = 3 "),
            (5, Duration::from_millis(100), 3)
        );
        assert_eq!(pace("30/10s"), (30, Duration::from_secs(10), 1));
        assert_eq!(pace("1/5m"), (1, Duration::from_secs(300), 1));
        assert_eq!(
            pace("5000/h,burst=100"),
            (5000, Duration::from_secs(3600), 100)
        );
        for bad in [
            "",
            "10",
            "0/s",
            "-1/s",
            "10/0s",
            "10/sec",
            "10/s,burst=0",
            "10/s,max=3",
            "1.5/s",
        ] {
            assert!(bad.parse::<PaceConfig>().is_err(), "{bad}");
        }
    }

    #[test]
    fn display_round_trips() {
        for text in ["10/s", "5/100ms,burst=3", "600/min,burst=20"] {
            let pace: PaceConfig = text.parse().unwrap();
            assert_eq!(pace.to_string().parse::<PaceConfig>().unwrap(), pace);
        }
    }
}
