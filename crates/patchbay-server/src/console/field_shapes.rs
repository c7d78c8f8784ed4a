//! The keys the integration form has one input each for (seed 002's steps
//! 2 to 7), as [`Shape`]s; `patchbay-config` defines what they mean.

use super::structured::{Input, Part, Rows, Shape, Variant};

/// A text input at `pointer`.
const fn text(pointer: &'static str, label: &'static str) -> Part {
    Part {
        pointer,
        label,
        input: Input::Text,
    }
}

/// A yes / no / unset input at `pointer`.
const fn flag(pointer: &'static str, label: &'static str) -> Part {
    Part {
        pointer,
        label,
        input: Input::Flag,
    }
}

/// A whole-number input at `pointer`.
const fn number(pointer: &'static str, label: &'static str) -> Part {
    Part {
        pointer,
        label,
        input: Input::Number,
    }
}

/// Step 2: the credential's format, OAuth hosts, paths and token details,
/// and its variables (`config.fields`) as rows.
pub(super) const CREDENTIALS: Shape = Shape {
    formats: &[
        "oauth2",
        "oauth2_client_credentials",
        "keka_oauth",
        "api_key",
    ],
    common: &[],
    variants: &[Variant {
        name: "oauth",
        formats: &["oauth2", "oauth2_client_credentials", "keka_oauth"],
        parts: &[
            text("/config/client/id", "Client ID"),
            text("/config/client/secret", "Client secret"),
            text("/config/auth/authorizeHost", "Authorization host"),
            text("/config/auth/authorizePath", "Authorization path"),
            text("/config/auth/tokenHost", "Token host"),
            text("/config/auth/tokenPath", "Token path"),
            Part {
                pointer: "/config/scope",
                label: "Scopes (comma-separated)",
                input: Input::Words,
            },
            Part {
                pointer: "/config/options/authorizationMethod",
                label: "Client credentials sent in",
                input: Input::Choice(&["body", "header"]),
            },
            Part {
                pointer: "/config/options/bodyFormat",
                label: "Token request body",
                input: Input::Choice(&["form", "json"]),
            },
            flag("/config/pkce", "PKCE"),
            number("/config/tokenExpiryDuration", "Token lifetime (seconds)"),
        ],
    }],
    rows: Some(Rows {
        name: "fields",
        pointer: "/config/fields",
        label: "Variables people fill in when they connect",
        columns: &[
            ("name", "Name", Input::Text),
            ("label", "Label", Input::Text),
            (
                "type",
                "Type",
                Input::Choice(&["text", "password", "single_select"]),
            ),
            ("required", "Required", Input::Flag),
        ],
    }),
    map: false,
};

/// Step 3: how requests carry the credentials.
pub(super) const AUTHORIZATION: Shape = Shape {
    formats: &["bearer", "basic", "header"],
    common: &[],
    variants: &[
        Variant {
            name: "bearer",
            formats: &["bearer"],
            parts: &[text(
                "/config/token",
                "Token (default: the OAuth access token)",
            )],
        },
        Variant {
            name: "basic",
            formats: &["basic"],
            parts: &[
                text("/config/username", "User name"),
                text("/config/password", "Password"),
            ],
        },
        Variant {
            name: "header",
            formats: &["header"],
            parts: &[
                text("/config/header_name", "Header name"),
                text("/config/header_value", "Header value"),
                text(
                    "/config/expression",
                    "Or a JSONata expression returning the headers",
                ),
            ],
        },
    ],
    rows: None,
    map: false,
};

/// Steps 4 and 5: headers and query parameters, name/value rows.
pub(super) const NAME_VALUES: Shape = Shape {
    formats: &[],
    common: &[],
    variants: &[],
    rows: None,
    map: true,
};

/// The size keys every paging format but `dynamic` and `range` shares.
const PAGE_SIZE_KEYS: [Part; 2] = [
    text("/config/limit_key", "Page size key"),
    number("/config/max_limit", "Largest page size"),
];

/// Step 6: the pagination format and its keys.
pub(super) const PAGINATION: Shape = Shape {
    formats: &[
        "cursor",
        "page",
        "offset",
        "link_header",
        "range",
        "dynamic",
    ],
    common: &[],
    variants: &[
        Variant {
            name: "cursor",
            formats: &["cursor"],
            parts: &[
                text("/config/cursor_path", "Cursor path"),
                flag("/config/is_link", "The cursor is a link"),
                flag("/config/include_path", "Use the link's path"),
                text("/config/cursor_key", "Cursor key"),
                text("/config/has_next_path", "Has-next path"),
                PAGE_SIZE_KEYS[0],
                PAGE_SIZE_KEYS[1],
            ],
        },
        Variant {
            name: "page",
            formats: &["page"],
            parts: &[
                text("/config/page_key", "Page key"),
                number("/config/initial_page", "First page number"),
                text("/config/has_next_path", "Has-next path"),
                PAGE_SIZE_KEYS[0],
                PAGE_SIZE_KEYS[1],
            ],
        },
        Variant {
            name: "offset",
            formats: &["offset"],
            parts: &[
                text("/config/offset_key", "Offset key"),
                text("/config/has_next_path", "Has-next path"),
                PAGE_SIZE_KEYS[0],
                PAGE_SIZE_KEYS[1],
            ],
        },
        Variant {
            name: "link_header",
            formats: &["link_header"],
            parts: &[
                text("/config/rel", "Link relation (default next)"),
                PAGE_SIZE_KEYS[0],
                PAGE_SIZE_KEYS[1],
            ],
        },
        Variant {
            name: "range",
            formats: &["range"],
            parts: &[
                text("/config/unit", "Range unit (default items)"),
                number("/config/max_limit", "Items per request"),
            ],
        },
        Variant {
            name: "dynamic",
            formats: &["dynamic"],
            parts: &[
                text(
                    "/config/get_initial_pagination_values_expression",
                    "First values (JSONata)",
                ),
                text(
                    "/config/get_pagination_values_expression",
                    "Next values (JSONata)",
                ),
                text(
                    "/config/get_cursor_from_response_expression",
                    "Cursor reported to callers (JSONata)",
                ),
            ],
        },
    ],
    rows: None,
    map: false,
};

/// Step 7: the rate-limit expressions.
pub(super) const RATE_LIMIT: Shape = Shape {
    formats: &[],
    common: &[
        text("/is_rate_limited", "Is rate limited (JSONata)"),
        text(
            "/retry_after_header_expression",
            "Seconds to wait (JSONata)",
        ),
        text(
            "/rate_limit_header_expression",
            "Resets at, epoch seconds (JSONata)",
        ),
    ],
    variants: &[],
    rows: None,
    map: false,
};
