//! "Did you mean" suggestions for misspelled keys and values.

/// The known name closest to `written`, if one is close enough to be a likely
/// typo. Truto's alternative `*_param` spellings map to the `*_key` names.
pub(crate) fn closest_key(written: &str, known: &[&str]) -> Option<String> {
    if let Some(stem) = written.strip_suffix("_param") {
        let keyed = format!("{stem}_key");
        if known.contains(&keyed.as_str()) {
            return Some(keyed);
        }
    }
    let lower = written.to_ascii_lowercase();
    known
        .iter()
        .map(|k| (k, strsim::jaro_winkler(&lower, &k.to_ascii_lowercase())))
        .filter(|(_, score)| *score >= 0.8)
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(k, _)| (*k).to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names_only() {
        let known = ["cursor_path", "cursor_key", "limit_key", "has_next_path"];
        assert_eq!(
            closest_key("curser_path", &known).as_deref(),
            Some("cursor_path")
        );
        assert_eq!(
            closest_key("limit_param", &known).as_deref(),
            Some("limit_key")
        );
        assert_eq!(
            closest_key("Cursor_Key", &known).as_deref(),
            Some("cursor_key")
        );
        assert_eq!(closest_key("banana", &known), None);
    }
}
