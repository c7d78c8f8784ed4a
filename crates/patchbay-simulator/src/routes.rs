//! Route registration: one provider's routes under its `/{slug}` prefix, plus the table
//! the [`gate`](super::gate) middleware uses to know which provider and endpoint kind
//! answered.

use axum::Router;
use axum::routing::{MethodRouter, get, post};

use super::faults::Endpoints;
use super::state::Ctx;
use super::{Provider, oauth};

/// Which provider a matched route belongs to and what kind of endpoint it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RouteInfo {
    pub provider: Provider,
    pub kind: Endpoints,
}

/// Builder for one provider's routes.
pub(crate) struct Routes {
    provider: Provider,
    router: Router<Ctx>,
    table: Vec<(String, RouteInfo)>,
}

impl Routes {
    pub(crate) fn new(provider: Provider) -> Self {
        Routes {
            provider,
            router: Router::new(),
            table: Vec::new(),
        }
    }

    fn add(mut self, full: String, kind: Endpoints, handler: MethodRouter<Ctx>) -> Self {
        self.table.push((
            full.clone(),
            RouteInfo {
                provider: self.provider,
                kind,
            },
        ));
        self.router = self.router.route(&full, handler);
        self
    }

    /// An authenticated API route at `/{slug}{path}`.
    pub(crate) fn api(self, path: &str, handler: MethodRouter<Ctx>) -> Self {
        let full = format!("/{}{path}", self.provider.slug());
        self.add(full, Endpoints::Api, handler)
    }

    /// An authenticated API route at `/{slug}{path}` and also at the server root `{path}`
    /// (Salesforce's `nextRecordsUrl` is host-relative, so clients that resolve it against
    /// the host instead of appending it to `instance_url` still land on the simulator).
    pub(crate) fn api_and_root(self, path: &str, handler: MethodRouter<Ctx>) -> Self {
        let this = self.api(path, handler.clone());
        this.add(path.to_owned(), Endpoints::Api, handler)
    }

    /// The provider's token and authorize endpoints, if it has OAuth.
    pub(crate) fn oauth(self) -> Self {
        let Some(paths) = self.provider.oauth_paths() else {
            return self;
        };
        let slug = self.provider.slug();
        let mut this = self.add(
            format!("/{slug}{}", paths.token),
            Endpoints::Token,
            post(oauth::token),
        );
        if let Some(authorize) = paths.authorize {
            this = this.add(
                format!("/{slug}{authorize}"),
                Endpoints::All,
                get(oauth::authorize),
            );
        }
        this
    }

    /// The routes with their state applied, and the route table entries.
    pub(crate) fn finish(self, ctx: Ctx) -> (Router, Vec<(String, RouteInfo)>) {
        (self.router.with_state(ctx), self.table)
    }
}
