//! Outbound event signing and the receiver-side check.

use std::time::{Duration, UNIX_EPOCH};

use patchbay_webhook::outbound::{
    DEFAULT_TOLERANCE, SIGNATURE_HEADER, sign_event, sign_event_with_secrets, verify_event,
};
use patchbay_webhook::{Check, VerificationError};

const SECRET: &[u8] = b"endpoint-secret";
const BODY: &[u8] = br#"{"id":"evt_1","event":"record:created","payload":{"id":"1"}}"#;

fn at(secs: u64) -> std::time::SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

#[test]
fn header_format_matches_independent_computation() {
    // python3: hmac.new(b'endpoint-secret', b'1700000000.' + BODY, hashlib.sha256).hexdigest()
    let header = sign_event(SECRET, BODY, at(1_700_000_000));
    assert_eq!(header.name(), SIGNATURE_HEADER);
    assert_eq!(
        header.value(),
        "t=1700000000,v1=32a7460ac2124c78f100086e590ed83ab08e898c32e34a668a940e33be761a80"
    );
}

#[test]
fn round_trip_and_tampering() {
    let header = sign_event(SECRET, BODY, at(1_700_000_000)).value();
    let now = at(1_700_000_060);
    assert_eq!(
        verify_event(SECRET, &header, BODY, now, DEFAULT_TOLERANCE),
        Ok(())
    );
    let mut body = BODY.to_vec();
    body[5] ^= 0x20;
    assert_eq!(
        verify_event(SECRET, &header, &body, now, DEFAULT_TOLERANCE).map_err(|e| e.check()),
        Err(Check::Signature)
    );
    assert_eq!(
        verify_event(b"other-secret", &header, BODY, now, DEFAULT_TOLERANCE).map_err(|e| e.check()),
        Err(Check::Signature)
    );
    let shifted = header.replace("t=1700000000", "t=1700000030");
    assert_eq!(
        verify_event(SECRET, &shifted, BODY, now, DEFAULT_TOLERANCE).map_err(|e| e.check()),
        Err(Check::Signature)
    );
}

#[test]
fn stale_and_future_timestamps() {
    let header = sign_event(SECRET, BODY, at(1_700_000_000)).value();
    assert_eq!(
        verify_event(SECRET, &header, BODY, at(1_700_000_301), DEFAULT_TOLERANCE),
        Err(VerificationError::StaleTimestamp {
            age_seconds: 301,
            tolerance_seconds: 300
        })
    );
    assert_eq!(
        verify_event(SECRET, &header, BODY, at(1_699_999_000), DEFAULT_TOLERANCE),
        Err(VerificationError::FutureTimestamp {
            ahead_seconds: 1000,
            tolerance_seconds: 300
        })
    );
}

#[test]
fn rotation_and_malformed_headers() {
    let header = sign_event_with_secrets(&[b"old", b"new"], BODY, at(1_700_000_000)).value();
    assert_eq!(header.matches(",v1=").count(), 2);
    for secret in [b"old".as_slice(), b"new"] {
        assert_eq!(
            verify_event(secret, &header, BODY, at(1_700_000_000), DEFAULT_TOLERANCE),
            Ok(())
        );
    }
    let check = |h: &str| {
        verify_event(SECRET, h, BODY, at(1_700_000_000), DEFAULT_TOLERANCE).map_err(|e| e.check())
    };
    assert_eq!(check("v1=00"), Err(Check::TimestampFormat));
    assert_eq!(check("t=1700000000"), Err(Check::SignatureFormat));
    assert_eq!(check("t=1700000000,v1=zz"), Err(Check::SignatureFormat));
    assert_eq!(check("t=soon,v1=00"), Err(Check::TimestampFormat));
    assert_eq!(check("t=1,t=2,v1=00"), Err(Check::TimestampFormat));
}
