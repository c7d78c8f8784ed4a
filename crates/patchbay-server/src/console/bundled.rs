//! The catalog configs the server ships: `examples/catalog/*.json`, compiled
//! into the binary, so the console can install them with no file at hand.

use serde_json::Value;

/// A bundled catalog config.
pub(super) struct Bundled {
    /// Its slug, the integration's `name` once installed.
    pub(super) slug: &'static str,
    /// The config's JSON text.
    text: &'static str,
}

impl Bundled {
    /// The config.
    ///
    /// # Errors
    ///
    /// The parse error (the catalog's own tests keep every file valid).
    pub(super) fn config(&self) -> Result<Value, serde_json::Error> {
        serde_json::from_str(self.text)
    }
}

macro_rules! bundle {
    ($slug:literal) => {
        Bundled {
            slug: $slug,
            text: include_str!(concat!("../../../../examples/catalog/", $slug, ".json")),
        }
    };
}

/// Every bundled config, by slug.
pub(super) const BUNDLED: &[Bundled] = &[
    bundle!("github"),
    bundle!("hubspot"),
    bundle!("jira"),
    bundle!("keka"),
    bundle!("microsoft-graph"),
    bundle!("notion"),
    bundle!("salesforce"),
    bundle!("shopify"),
    bundle!("slack"),
    bundle!("stripe"),
    bundle!("zendesk"),
];

/// The bundled config `slug`.
pub(super) fn find(slug: &str) -> Option<&'static Bundled> {
    BUNDLED.iter().find(|b| b.slug == slug)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bundled_config_is_valid_and_every_catalog_file_is_bundled() {
        for bundled in BUNDLED {
            let config = bundled.config().expect(bundled.slug);
            assert!(
                patchbay::config::validate_integration_config(&config).is_ok(),
                "{}",
                bundled.slug
            );
        }
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/catalog");
        let files = std::fs::read_dir(dir)
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
            .count();
        assert_eq!(files, BUNDLED.len(), "a catalog file is not bundled");
    }
}
