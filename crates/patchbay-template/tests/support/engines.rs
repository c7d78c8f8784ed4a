//! Every JSONata backend this build enables, with default limits and the extension
//! functions, for tests that check a result on all of them.

use patchbay_template::expression::ExpressionEngine;

/// The enabled backends: jsonata-core and/or jsonata-rs.
pub fn engines() -> Vec<Box<dyn ExpressionEngine>> {
    vec![
        #[cfg(feature = "jsonata-core")]
        Box::new(patchbay_template::expression::CoreEngine::default()),
        #[cfg(feature = "jsonata-rs")]
        Box::new(patchbay_template::expression::RsEngine::default()),
    ]
}
