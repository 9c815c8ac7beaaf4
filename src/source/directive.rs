//! In-source directives: `-- migsafe: ignore <rule>[, <rule>…]`.
//!
//! A directive on its own line applies to the next statement; one on the same line as the end of a
//! statement (`ALTER …; -- migsafe: ignore rule`) applies to that statement. `ignore all` silences
//! every rule for the statement. A `;` after the names is left out: Alembic's `op.execute("-- …")`
//! and Django's `RunSQL("-- …")` end the comment with one in their exports.

/// Rule names a directive comment lists, or `None` when the comment is no directive.
pub fn ignored_rules(comment: &str) -> Option<Vec<String>> {
    let body = comment
        .trim_start_matches("--")
        .trim_start_matches("/*")
        .trim_end_matches("*/")
        .trim();
    let rest = body.strip_prefix("migsafe:")?.trim_start();
    let rules = rest.strip_prefix("ignore")?;
    if !rules.is_empty() && !rules.starts_with(char::is_whitespace) {
        return None;
    }
    Some(
        rules
            .split([',', ' ', '\t', ';'])
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .map(str::to_string)
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directives() {
        assert_eq!(
            ignored_rules("-- migsafe: ignore ban-drop-column, require-concurrent-index"),
            Some(vec![
                "ban-drop-column".to_string(),
                "require-concurrent-index".to_string()
            ])
        );
        assert_eq!(
            ignored_rules("/* migsafe: ignore all */"),
            Some(vec!["all".to_string()])
        );
        // As `op.execute` / `RunSQL` export it.
        assert_eq!(
            ignored_rules("-- migsafe: ignore rule-a, rule-b;"),
            Some(vec!["rule-a".to_string(), "rule-b".to_string()])
        );
        assert_eq!(
            ignored_rules("-- migsafe: ignore all;"),
            Some(vec!["all".to_string()])
        );
        assert_eq!(ignored_rules("-- migsafe: ignored"), None);
        assert_eq!(ignored_rules("-- just a comment"), None);
    }
}
