//! Shared by the spec's bad-input tests: find where a needle is in the text (independently of
//! the loader) and assert exactly one error about it, at that position.

use berth_spec::SpecError;

/// Line and column (1-based) of the `nth` occurrence of `needle` in `text`.
pub(crate) fn at(text: &str, needle: &str, nth: usize) -> (usize, usize) {
    let offset = text
        .match_indices(needle)
        .nth(nth)
        .unwrap_or_else(|| panic!("`{needle}` not in text"))
        .0;
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let col = before.len() - before.rfind('\n').map(|i| i + 1).unwrap_or(0) + 1;
    (line, col)
}

/// Asserts exactly one of `errs` contains `message`, at the `nth` occurrence of `needle`.
#[track_caller]
pub(crate) fn one_at(
    errs: &[SpecError],
    text: &str,
    message: &str,
    needle: &str,
    nth: usize,
) -> SpecError {
    let matching: Vec<_> = errs
        .iter()
        .filter(|e| e.to_string().contains(message))
        .collect();
    assert_eq!(
        matching.len(),
        1,
        "expected one error containing {message:?}, got: {:#?}",
        errs.iter().map(SpecError::one_line).collect::<Vec<_>>()
    );
    let e = matching[0].clone();
    assert_eq!(
        (e.line, e.col),
        at(text, needle, nth),
        "position of {message:?}: {}",
        e.one_line()
    );
    e
}
