//! The repository's own fixtures, for unit tests that run over all of them.

/// Every `.sql` file under `fixtures/` that is UTF-8 without NUL bytes, as (path, text), sorted.
pub(crate) fn texts() -> Vec<(String, String)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let mut texts: Vec<(String, String)> = Vec::new();
    let mut dirs = vec![dir];
    while let Some(d) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().is_some_and(|x| x == "sql")
                && let Ok(bytes) = std::fs::read(&p)
                && let Ok(text) = String::from_utf8(bytes)
                && !text.contains('\0')
            {
                texts.push((p.display().to_string(), text));
            }
        }
    }
    texts.sort();
    assert!(texts.len() > 50, "fixtures not found: {}", texts.len());
    texts
}
