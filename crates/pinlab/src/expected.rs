//! `litmus/EXPECTED.toml`: the verdict each scenario should get under each
//! design, with a short reason, so that `compare` (and CI) notices any
//! change to the matrix.
//!
//! ```toml
//! ["seed/rdma-writeback"]
//! "linux-4.19" = { verdict = "fail", reason = "checksum_error, lost_write" }
//! bounce = { verdict = "pass", reason = "..." }
//! ```

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cell {
    pub verdict: String,
    pub reason: String,
}

/// scenario → design → expected cell.
pub type Expected = BTreeMap<String, BTreeMap<String, Cell>>;

pub fn parse(text: &str) -> Result<Expected, String> {
    toml::from_str(text).map_err(|e| format!("EXPECTED.toml: {e}"))
}

pub fn render(e: &Expected) -> String {
    let mut out = String::from(
        "# Expected verdict of every scenario under every design (pinlab compare checks it).\n\
         # Regenerate with `pinlab compare --write-expected`; edit the reasons by hand.\n",
    );
    out.push_str(&toml::to_string_pretty(e).expect("a map of strings serialises"));
    out
}

/// One difference between the expected and the computed matrix.
pub struct Mismatch {
    pub scenario: String,
    pub design: String,
    pub expected: Option<Cell>,
    pub got: String,
}

impl std::fmt::Display for Mismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.expected {
            Some(c) => write!(
                f,
                "{} × {}: expected {} ({}), got {}",
                self.scenario, self.design, c.verdict, c.reason, self.got
            ),
            None => {
                write!(f, "{} × {}: no expectation recorded, got {}", self.scenario, self.design, self.got)
            }
        }
    }
}

/// Compare computed cells (scenario, design, verdict) against expectations.
pub fn diff<'a>(e: &Expected, cells: impl Iterator<Item = (&'a str, &'a str, &'a str)>) -> Vec<Mismatch> {
    cells
        .filter_map(|(s, d, v)| {
            let exp = e.get(s).and_then(|m| m.get(d));
            match exp {
                Some(c) if c.verdict == v => None,
                _ => Some(Mismatch {
                    scenario: s.into(),
                    design: d.into(),
                    expected: exp.cloned(),
                    got: v.into(),
                }),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_diffs() {
        let mut e = Expected::new();
        e.entry("seed/x".into())
            .or_default()
            .insert("linux-4.19".into(), Cell { verdict: "fail".into(), reason: "checksum_error".into() });
        let text = render(&e);
        assert_eq!(parse(&text).unwrap(), e);
        let same = diff(&e, [("seed/x", "linux-4.19", "fail")].into_iter());
        assert!(same.is_empty());
        let d = diff(&e, [("seed/x", "linux-4.19", "pass"), ("seed/y", "bounce", "pass")].into_iter());
        assert_eq!(d.len(), 2);
        assert_eq!(d[0].to_string(), "seed/x × linux-4.19: expected fail (checksum_error), got pass");
        assert!(d[1].to_string().contains("no expectation"));
        assert!(parse("not toml [").is_err());
    }
}
