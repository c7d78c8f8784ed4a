//! The config crate's enums as the API reads and answers them.
//!
//! `patchbay-config`'s enums carry no OpenAPI schema, so the API speaks these
//! copies, which do. The conversions both ways are exhaustive matches: a
//! variant added on either side fails to compile until it is mapped, and the
//! test below pins that every variant has the config's wire name.

use patchbay::config;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Defines a wire enum and its exhaustive conversions to and from the
/// config enum of the same name.
macro_rules! wire_enum {
    (
        $(#[$meta:meta])*
        $name:ident { $($(#[$vmeta:meta])* $variant:ident),+ $(,)? }
    ) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
        $(#[$meta])*
        pub enum $name {
            $($(#[$vmeta])* $variant),+
        }

        impl From<config::$name> for $name {
            fn from(value: config::$name) -> Self {
                match value {
                    $(config::$name::$variant => Self::$variant),+
                }
            }
        }

        impl From<$name> for config::$name {
            fn from(value: $name) -> Self {
                match value {
                    $($name::$variant => Self::$variant),+
                }
            }
        }
    };
}

wire_enum! {
    /// An integration's sharing policy.
    #[serde(rename_all = "lowercase")]
    Sharing {
        /// Anyone may install it.
        Allow,
        /// Installing needs approval.
        Ask,
        /// Private.
        Deny,
    }
}

wire_enum! {
    /// An account's data region.
    #[serde(rename_all = "lowercase")]
    Region {
        /// Western North America (the default).
        Wnam,
        /// Eastern North America.
        Enam,
        /// Asia-Pacific.
        Apac,
        /// Europe.
        Eu,
    }
}

wire_enum! {
    /// An account's connection state.
    #[serde(rename_all = "snake_case")]
    AccountStatus {
        /// Everything works.
        Active,
        /// Post-install and validation actions are running.
        Connecting,
        /// A post-install action failed (`last_error` says which).
        PostInstallError,
        /// A validation action failed (`last_error` says which).
        ValidationError,
        /// The credentials are no longer valid; the user must reconnect.
        NeedsReauth,
    }
}

wire_enum! {
    /// How an account authenticates.
    AuthenticationMethod {
        /// OAuth 2.0 authorization code; tokens in `context.oauth.token`.
        #[serde(rename = "oauth2")]
        OAuth2,
        /// User-entered keys.
        #[serde(rename = "api_key")]
        ApiKey,
        /// OAuth 2.0 client credentials.
        #[serde(rename = "oauth2_client_credentials")]
        OAuth2ClientCredentials,
        /// Keka's token grant.
        #[serde(rename = "keka_oauth")]
        KekaOauth,
    }
}

#[cfg(test)]
mod tests {
    use serde::Serialize;
    use serde::de::DeserializeOwned;

    use super::*;

    /// Every variant serializes as the config's does and reads back.
    fn same_wire_names<Wire, Config>(values: &[Config])
    where
        Wire: From<Config> + Serialize + DeserializeOwned + PartialEq + std::fmt::Debug,
        Config: Copy + Serialize,
    {
        for &value in values {
            let config_json = serde_json::to_value(value).unwrap();
            let wire = Wire::from(value);
            assert_eq!(serde_json::to_value(&wire).unwrap(), config_json);
            assert_eq!(serde_json::from_value::<Wire>(config_json).unwrap(), wire);
        }
    }

    #[test]
    fn wire_names_are_the_configs() {
        use config::{AccountStatus as S, AuthenticationMethod as A, Region as R, Sharing as Sh};
        same_wire_names::<Sharing, _>(&[Sh::Allow, Sh::Ask, Sh::Deny]);
        same_wire_names::<Region, _>(&[R::Wnam, R::Enam, R::Apac, R::Eu]);
        same_wire_names::<AccountStatus, _>(&[
            S::Active,
            S::Connecting,
            S::PostInstallError,
            S::ValidationError,
            S::NeedsReauth,
        ]);
        same_wire_names::<AuthenticationMethod, _>(&[
            A::OAuth2,
            A::ApiKey,
            A::OAuth2ClientCredentials,
            A::KekaOauth,
        ]);
    }
}
