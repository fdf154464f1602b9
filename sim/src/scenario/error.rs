//! What is wrong with a scenario file, and where: file, line, column and field.

use authzlab_host::input::ReadError;

use crate::node_id::NodeId;
use crate::trace::catalogue::did_you_mean;

/// A scenario file that cannot be run, with where and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScenarioError {
    #[error(transparent)]
    Read(#[from] ReadError),
    #[error("{file}:{line}:{column}: {field}: {message}")]
    Invalid { file: String, line: usize, column: usize, field: String, message: String },
}

/// How the parsers report an error: at a span of the file, naming the field, saying why.
/// One helper for every part of the parser, so every refusal has file, line, column, field.
pub(super) type At<'a> = &'a dyn Fn(std::ops::Range<usize>, &str, String) -> ScenarioError;

/// 1-based line and column (in characters) of a byte offset.
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    // Back off to a character boundary: a span inside a multi-byte character must not panic.
    let mut end = offset.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let before = &text[..end];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |last| last.chars().count()) + 1;
    (line, column)
}

/// The bytes as UTF-8 text, or the line and column of the first byte that is not.
pub fn utf8_text(bytes: Vec<u8>, file: &str) -> Result<String, ScenarioError> {
    String::from_utf8(bytes).map_err(|error| {
        let valid = error.utf8_error().valid_up_to();
        let bytes = error.as_bytes();
        // The prefix up to `valid` is UTF-8 by definition.
        let before = std::str::from_utf8(&bytes[..valid]).unwrap_or_default();
        let (line, column) = line_column(before, valid);
        ScenarioError::Invalid {
            file: file.to_string(),
            line,
            column,
            field: "scenario".to_string(),
            message: format!(
                "not UTF-8 text: byte 0x{:02X} does not belong here; save the file as UTF-8",
                bytes[valid]
            ),
        }
    })
}

/// The node called `name` among `nodes` (the list's own `NodeId`); if there is none, the
/// hint for the error that refuses it: ` (did you mean "…"?)` when one is close, else nothing.
pub(super) fn one_of_nodes(name: &str, nodes: &[NodeId]) -> Result<NodeId, String> {
    if let Some(node) = nodes.iter().find(|node| *node == name) {
        return Ok(node.clone());
    }
    let near = did_you_mean(name, nodes.iter().map(NodeId::as_str));
    Err(near.map_or_else(String::new, |near| format!(" (did you mean {near:?}?)")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_characters_and_never_split_one() {
        let text = "név = \"é\"\nduration = 1";
        assert_eq!(line_column(text, 0), (1, 1));
        assert_eq!(line_column(text, 2), (1, 2), "inside `é`, backs off to its start");
        let second_line = text.find("duration").unwrap();
        assert_eq!(line_column(text, second_line), (2, 1));
        assert_eq!(line_column(text, text.len() + 10), (2, 13));
    }

    #[test]
    fn a_byte_that_is_not_utf8_is_located() {
        let bytes = b"name = \"x\"\nduration = \"6h\" # caf\xe9\n";
        let error = utf8_text(bytes.to_vec(), "s.toml").unwrap_err();
        assert_eq!(
            error.to_string(),
            "s.toml:2:22: scenario: not UTF-8 text: byte 0xE9 does not belong here; save the file as UTF-8"
        );
        assert_eq!(utf8_text(b"ok".to_vec(), "s.toml").unwrap(), "ok");
    }
}
