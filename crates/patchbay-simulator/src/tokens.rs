//! Issued OAuth state: authorization codes, grants (one per connected account),
//! access tokens with expiry, refresh tokens with optional rotation, and revocation.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use super::Provider;
use super::faults::lock;
use super::pkce::Challenge;

/// A connected account to pre-load, as if it had completed the OAuth flow earlier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub(crate) name: String,
    pub(crate) access_token: Option<String>,
    pub(crate) refresh_token: Option<String>,
    pub(crate) expires_in: Option<Duration>,
}

impl Account {
    /// An account called `name` (the handle for [`RunningSimulator::revoke`](super::RunningSimulator::revoke)).
    pub fn new(name: impl Into<String>) -> Self {
        Account {
            name: name.into(),
            access_token: None,
            refresh_token: None,
            expires_in: None,
        }
    }

    /// An access token the provider accepts for this account.
    pub fn access_token(mut self, token: impl Into<String>) -> Self {
        self.access_token = Some(token.into());
        self
    }

    /// A refresh token the token endpoint accepts for this account.
    pub fn refresh_token(mut self, token: impl Into<String>) -> Self {
        self.refresh_token = Some(token.into());
        self
    }

    /// How long the seeded access token stays valid (`Duration::ZERO` = already expired).
    /// Without it the seeded access token never expires.
    pub fn expires_in(mut self, lifetime: Duration) -> Self {
        self.expires_in = Some(lifetime);
        self
    }
}

/// One live access token, as reported by [`Stats::tokens`](super::Stats::tokens).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenSnapshot {
    /// The provider that issued it.
    pub provider: Provider,
    /// The account (grant) it belongs to.
    pub account: String,
    /// The token itself (simulator tokens are not secrets).
    pub access_token: String,
    /// When it stops being accepted, if ever.
    pub expires_at: Option<SystemTime>,
    /// Whether it has already expired.
    pub expired: bool,
}

/// Result of looking up a bearer token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TokenStatus {
    Valid,
    Expired,
    Unknown,
}

/// RFC 6749 §5.2 token-endpoint errors.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum OAuthError {
    #[error("invalid_request: {0}")]
    InvalidRequest(String),
    #[error("invalid_client")]
    InvalidClient,
    #[error("invalid_grant: {0}")]
    InvalidGrant(String),
    #[error("unsupported_grant_type")]
    UnsupportedGrantType,
}

impl OAuthError {
    pub(crate) fn code(&self) -> &'static str {
        match self {
            OAuthError::InvalidRequest(_) => "invalid_request",
            OAuthError::InvalidClient => "invalid_client",
            OAuthError::InvalidGrant(_) => "invalid_grant",
            OAuthError::UnsupportedGrantType => "unsupported_grant_type",
        }
    }

    pub(crate) fn description(&self) -> String {
        match self {
            OAuthError::InvalidRequest(d) | OAuthError::InvalidGrant(d) => d.clone(),
            OAuthError::InvalidClient => "client authentication failed".into(),
            OAuthError::UnsupportedGrantType => "the grant_type is not supported".into(),
        }
    }
}

/// Tokens handed out by one token request.
#[derive(Debug, Clone)]
pub(crate) struct Issued {
    pub access_token: String,
    pub refresh_token: Option<String>,
    pub lifetime: Option<Duration>,
    pub scope: Option<String>,
}

/// How a provider issues tokens (from its setup).
#[derive(Debug, Clone, Copy)]
pub(crate) struct IssuePolicy {
    pub lifetime: Option<Duration>,
    pub rotate: bool,
    pub refresh_tokens: bool,
}

#[derive(Debug)]
struct Grant {
    provider: Provider,
    account: String,
    revoked: bool,
    scope: Option<String>,
}

#[derive(Debug)]
struct AccessEntry {
    grant: u64,
    expires_at: Option<Instant>,
    expires_at_wall: Option<SystemTime>,
}

#[derive(Debug)]
struct RefreshEntry {
    grant: u64,
    valid: bool,
}

/// A code from the authorize endpoint, waiting for its exchange.
#[derive(Debug, Clone)]
pub(crate) struct PendingCode {
    pub provider: Provider,
    pub client_id: String,
    pub redirect_uri: String,
    pub challenge: Option<Challenge>,
    pub scope: Option<String>,
}

#[derive(Debug, Default)]
struct Inner {
    grants: HashMap<u64, Grant>,
    access: HashMap<String, AccessEntry>,
    refresh: HashMap<String, RefreshEntry>,
    codes: HashMap<String, PendingCode>,
}

/// All OAuth state of one simulator. Cheap critical sections behind one mutex.
#[derive(Debug, Default)]
pub(crate) struct TokenStore {
    inner: Mutex<Inner>,
    next: AtomicU64,
}

impl TokenStore {
    fn serial(&self) -> u64 {
        self.next.fetch_add(1, Ordering::Relaxed) + 1
    }

    fn new_grant(
        inner: &mut Inner,
        id: u64,
        provider: Provider,
        account: String,
        scope: Option<String>,
    ) {
        inner.grants.insert(
            id,
            Grant {
                provider,
                account,
                revoked: false,
                scope,
            },
        );
    }

    fn insert_access(inner: &mut Inner, token: String, grant: u64, lifetime: Option<Duration>) {
        let entry = AccessEntry {
            grant,
            expires_at: lifetime.map(|l| Instant::now() + l),
            expires_at_wall: lifetime.map(|l| SystemTime::now() + l),
        };
        inner.access.insert(token, entry);
    }

    /// Pre-loads an account (builder `account(...)`).
    pub(crate) fn seed(&self, provider: Provider, account: &Account) {
        let id = self.serial();
        let mut inner = lock(&self.inner);
        Self::new_grant(&mut inner, id, provider, account.name.clone(), None);
        if let Some(at) = &account.access_token {
            Self::insert_access(&mut inner, at.clone(), id, account.expires_in);
        }
        if let Some(rt) = &account.refresh_token {
            inner.refresh.insert(
                rt.clone(),
                RefreshEntry {
                    grant: id,
                    valid: true,
                },
            );
        }
    }

    /// Issues a fresh access (and maybe refresh) token for a new grant.
    fn issue_new_grant(
        &self,
        provider: Provider,
        account_prefix: &str,
        scope: Option<String>,
        policy: IssuePolicy,
    ) -> Issued {
        let id = self.serial();
        let access_token = format!("sim_{}_at_{id}", provider.slug().replace('-', "_"));
        let refresh_token = policy
            .refresh_tokens
            .then(|| format!("sim_{}_rt_{id}", provider.slug().replace('-', "_")));
        let mut inner = lock(&self.inner);
        Self::new_grant(
            &mut inner,
            id,
            provider,
            format!("{account_prefix}-{id}"),
            scope.clone(),
        );
        Self::insert_access(&mut inner, access_token.clone(), id, policy.lifetime);
        if let Some(rt) = &refresh_token {
            inner.refresh.insert(
                rt.clone(),
                RefreshEntry {
                    grant: id,
                    valid: true,
                },
            );
        }
        Issued {
            access_token,
            refresh_token,
            lifetime: policy.lifetime,
            scope,
        }
    }

    /// Stores a code issued by the authorize endpoint.
    pub(crate) fn store_code(&self, pending: PendingCode) -> String {
        let code = format!("sim_code_{}", self.serial());
        lock(&self.inner).codes.insert(code.clone(), pending);
        code
    }

    /// `grant_type=authorization_code`: single-use code, same client and redirect URI, PKCE.
    pub(crate) fn exchange_code(
        &self,
        provider: Provider,
        code: &str,
        client_id: &str,
        redirect_uri: Option<&str>,
        verifier: Option<&str>,
        policy: IssuePolicy,
    ) -> Result<Issued, OAuthError> {
        let pending = lock(&self.inner).codes.remove(code);
        let pending = pending.filter(|p| p.provider == provider).ok_or_else(|| {
            OAuthError::InvalidGrant("authorization code is invalid or was already used".into())
        })?;
        if pending.client_id != client_id {
            return Err(OAuthError::InvalidGrant(
                "code was issued to another client".into(),
            ));
        }
        if redirect_uri.is_some_and(|r| r != pending.redirect_uri) {
            return Err(OAuthError::InvalidGrant(
                "redirect_uri does not match".into(),
            ));
        }
        if let Some(challenge) = &pending.challenge {
            match verifier {
                None => return Err(OAuthError::InvalidGrant("code_verifier is required".into())),
                Some(v) if !challenge.verify(v) => {
                    return Err(OAuthError::InvalidGrant(
                        "code_verifier does not match the code_challenge".into(),
                    ));
                }
                Some(_) => {}
            }
        }
        Ok(self.issue_new_grant(provider, "code-grant", pending.scope, policy))
    }

    /// Client-credentials style grants (also Keka's `kekaapi`): access token only.
    pub(crate) fn issue_client_grant(
        &self,
        provider: Provider,
        kind: &str,
        scope: Option<String>,
        lifetime: Option<Duration>,
    ) -> Issued {
        let policy = IssuePolicy {
            lifetime,
            rotate: false,
            refresh_tokens: false,
        };
        self.issue_new_grant(provider, kind, scope, policy)
    }

    /// `grant_type=refresh_token`. Rotation invalidates the presented refresh token.
    pub(crate) fn refresh(
        &self,
        provider: Provider,
        refresh_token: &str,
        policy: IssuePolicy,
    ) -> Result<Issued, OAuthError> {
        let serial = self.serial();
        let mut inner = lock(&self.inner);
        let invalid =
            || OAuthError::InvalidGrant("refresh token is invalid, expired or revoked".into());
        let entry = inner.refresh.get(refresh_token).ok_or_else(invalid)?;
        let grant_id = entry.grant;
        let usable = entry.valid
            && inner
                .grants
                .get(&grant_id)
                .is_some_and(|g| g.provider == provider && !g.revoked);
        if !usable {
            return Err(invalid());
        }
        let scope = inner.grants.get(&grant_id).and_then(|g| g.scope.clone());
        let slug = provider.slug().replace('-', "_");
        let access_token = format!("sim_{slug}_at_{serial}");
        Self::insert_access(&mut inner, access_token.clone(), grant_id, policy.lifetime);
        let refresh_token = if policy.rotate {
            if let Some(old) = inner.refresh.get_mut(refresh_token) {
                old.valid = false;
            }
            let new = format!("sim_{slug}_rt_{serial}");
            inner.refresh.insert(
                new.clone(),
                RefreshEntry {
                    grant: grant_id,
                    valid: true,
                },
            );
            new
        } else {
            refresh_token.to_owned()
        };
        Ok(Issued {
            access_token,
            refresh_token: Some(refresh_token),
            lifetime: policy.lifetime,
            scope,
        })
    }

    /// Checks a bearer token issued (or seeded) for `provider`.
    pub(crate) fn status(&self, provider: Provider, token: &str) -> TokenStatus {
        let inner = lock(&self.inner);
        let Some(entry) = inner.access.get(token) else {
            return TokenStatus::Unknown;
        };
        match inner.grants.get(&entry.grant) {
            Some(g) if g.provider == provider && !g.revoked => {}
            _ => return TokenStatus::Unknown,
        }
        match entry.expires_at {
            Some(at) if Instant::now() >= at => TokenStatus::Expired,
            _ => TokenStatus::Valid,
        }
    }

    /// Revokes every grant of `provider` named `account`. Returns whether one existed.
    pub(crate) fn revoke(&self, provider: Provider, account: &str) -> bool {
        let mut inner = lock(&self.inner);
        let mut found = false;
        for g in inner
            .grants
            .values_mut()
            .filter(|g| g.provider == provider && g.account == account)
        {
            g.revoked = true;
            found = true;
        }
        found
    }

    /// Makes every issued access token of `provider` expire now.
    pub(crate) fn expire_all(&self, provider: Provider) {
        let mut inner = lock(&self.inner);
        let Inner { grants, access, .. } = &mut *inner;
        let now = Instant::now();
        for entry in access.values_mut() {
            if grants
                .get(&entry.grant)
                .is_some_and(|g| g.provider == provider)
            {
                entry.expires_at = Some(now);
                entry.expires_at_wall = Some(SystemTime::now());
            }
        }
    }

    /// Live (non-revoked) access tokens.
    pub(crate) fn snapshot(&self) -> Vec<TokenSnapshot> {
        let inner = lock(&self.inner);
        let now = Instant::now();
        let mut out: Vec<TokenSnapshot> = inner
            .access
            .iter()
            .filter_map(|(token, entry)| {
                let grant = inner.grants.get(&entry.grant).filter(|g| !g.revoked)?;
                Some(TokenSnapshot {
                    provider: grant.provider,
                    account: grant.account.clone(),
                    access_token: token.clone(),
                    expires_at: entry.expires_at_wall,
                    expired: entry.expires_at.is_some_and(|at| now >= at),
                })
            })
            .collect();
        out.sort_by(|a, b| (a.provider, &a.access_token).cmp(&(b.provider, &b.access_token)));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROTATE: IssuePolicy = IssuePolicy {
        lifetime: None,
        rotate: true,
        refresh_tokens: true,
    };

    #[test]
    fn rotation_invalidates_old_refresh_token() {
        let store = TokenStore::default();
        store.seed(Provider::Slack, &Account::new("a").refresh_token("rt0"));
        let first = store
            .refresh(Provider::Slack, "rt0", ROTATE)
            .expect("first refresh");
        assert_ne!(first.refresh_token.as_deref(), Some("rt0"));
        assert!(matches!(
            store.refresh(Provider::Slack, "rt0", ROTATE),
            Err(OAuthError::InvalidGrant(_))
        ));
        assert_eq!(
            store.status(Provider::Slack, &first.access_token),
            TokenStatus::Valid
        );
    }

    #[test]
    fn revoke_kills_refresh_and_access() {
        let store = TokenStore::default();
        store.seed(
            Provider::Hubspot,
            &Account::new("acme").access_token("at").refresh_token("rt"),
        );
        assert!(store.revoke(Provider::Hubspot, "acme"));
        assert_eq!(store.status(Provider::Hubspot, "at"), TokenStatus::Unknown);
        assert!(store.refresh(Provider::Hubspot, "rt", ROTATE).is_err());
    }
}
