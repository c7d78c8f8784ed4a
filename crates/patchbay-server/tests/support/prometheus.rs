//! A strict reader of the Prometheus text exposition format (version 0.0.4), for tests
//! that scrape `/metrics`: every line must be a comment, blank, or a well-formed sample,
//! or the scrape fails naming the line. (The `prometheus-parse` crate splits label sets
//! at the first `}`, so it cannot read a route label such as `/proxy/{resource}`.)

use std::collections::{BTreeMap, HashMap};

/// One sample line: `name{label="value",...} value`.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub value: f64,
}

/// A parsed scrape.
#[derive(Debug, Default)]
pub struct Exposition {
    pub samples: Vec<Sample>,
    /// `# HELP` text by metric name.
    pub help: HashMap<String, String>,
    /// `# TYPE` by metric name (`counter`, `gauge`, `histogram`, ...).
    pub types: HashMap<String, String>,
}

impl Exposition {
    /// Parses `text`; the error names the first line that is not valid.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut parsed = Self::default();
        for (n, line) in text.lines().enumerate() {
            let at = |e: String| format!("line {}: {e}: `{line}`", n + 1);
            if line.trim().is_empty() {
                continue;
            }
            if let Some(rest) = line.strip_prefix("# HELP ") {
                let (name, help) = rest.split_once(' ').unwrap_or((rest, ""));
                parsed.help.insert(name.to_owned(), help.to_owned());
            } else if let Some(rest) = line.strip_prefix("# TYPE ") {
                let (name, kind) = rest
                    .split_once(' ')
                    .ok_or_else(|| at("TYPE without a kind".into()))?;
                parsed.types.insert(name.to_owned(), kind.to_owned());
            } else if line.starts_with('#') {
                continue;
            } else {
                parsed.samples.push(sample(line).map_err(at)?);
            }
        }
        Ok(parsed)
    }

    /// The samples named `name` whose labels include every pair of `labels`.
    pub fn find(&self, name: &str, labels: &[(&str, &str)]) -> Vec<&Sample> {
        self.samples
            .iter()
            .filter(|s| s.name == name)
            .filter(|s| {
                labels
                    .iter()
                    .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
            })
            .collect()
    }

    /// The value of the one sample named `name` with `labels`; panics naming what it saw
    /// when there is none or several.
    pub fn value(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        let found = self.find(name, labels);
        assert_eq!(
            found.len(),
            1,
            "one `{name}` sample with {labels:?}; got {found:#?}\nall `{name}`: {:#?}",
            self.find(name, &[])
        );
        found[0].value
    }
}

fn is_name_char(c: char, first: bool) -> bool {
    c.is_ascii_alphabetic() || c == '_' || c == ':' || (!first && c.is_ascii_digit())
}

fn sample(line: &str) -> Result<Sample, String> {
    let name_end = line
        .char_indices()
        .find(|(i, c)| !is_name_char(*c, *i == 0))
        .map_or(line.len(), |(i, _)| i);
    if name_end == 0 {
        return Err("no metric name".into());
    }
    let name = line[..name_end].to_owned();
    let mut rest = &line[name_end..];
    let mut labels = BTreeMap::new();
    if let Some(after) = rest.strip_prefix('{') {
        rest = after;
        loop {
            rest = rest.trim_start_matches(',');
            if let Some(after) = rest.strip_prefix('}') {
                rest = after;
                break;
            }
            let (key, after) = rest.split_once("=\"").ok_or("a label without `=\"`")?;
            if key.is_empty()
                || !key
                    .chars()
                    .enumerate()
                    .all(|(i, c)| is_name_char(c, i == 0))
            {
                return Err(format!("bad label name `{key}`"));
            }
            let (value, after) = quoted(after)?;
            labels.insert(key.to_owned(), value);
            rest = after;
        }
    }
    let mut fields = rest.split_whitespace();
    let value = fields.next().ok_or("no value")?;
    let value = match value {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        "NaN" => f64::NAN,
        v => v.parse().map_err(|e| format!("bad value `{v}`: {e}"))?,
    };
    if let Some(ts) = fields.next() {
        ts.parse::<i64>()
            .map_err(|e| format!("bad timestamp `{ts}`: {e}"))?;
    }
    if fields.next().is_some() {
        return Err("trailing text".into());
    }
    Ok(Sample {
        name,
        labels,
        value,
    })
}

/// A label value up to its closing quote (escapes `\\`, `\"`, `\n`), and what follows.
fn quoted(text: &str) -> Result<(String, &str), String> {
    let mut value = String::new();
    let mut chars = text.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Ok((value, &text[i + 1..])),
            '\\' => match chars.next() {
                Some((_, '\\')) => value.push('\\'),
                Some((_, '"')) => value.push('"'),
                Some((_, 'n')) => value.push('\n'),
                other => return Err(format!("bad escape {other:?}")),
            },
            c => value.push(c),
        }
    }
    Err("unterminated label value".into())
}
