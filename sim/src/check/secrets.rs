//! A growing set of secret strings (keys, opaque tokens) that no trace line may contain.
//!
//! Secrets arrive over the run (each regeneration adds a key, each implicit login a token),
//! so the automata are kept in levels, like a binary counter: new forms make a small
//! automaton, and two neighbours are merged when the newer is as large as the older. Each
//! form is rebuilt into an automaton O(log n) times and a line is searched by O(log n)
//! automata, where rebuilding one automaton per secret would cost O(n^2) over a run.

use std::collections::BTreeSet;

use aho_corasick::AhoCorasick;

/// Text forms of secrets searched for; shorter ones would match by chance (16 hex digits
/// is 64 bits).
pub const SECRET_CHARS_MIN: usize = 16;

#[derive(Default)]
pub struct SecretSet {
    /// Every form learned, to count each once.
    known: BTreeSet<String>,
    /// Oldest first; each holds forms in the order learned, numbered from `first`.
    levels: Vec<Level>,
}

struct Level {
    first: usize,
    forms: Vec<String>,
    automaton: Option<AhoCorasick>,
}

impl Level {
    fn new(first: usize, forms: Vec<String>) -> Level {
        // Only a pattern set beyond the automaton's size limits fails to build; such a level
        // is searched one form at a time rather than not at all.
        let automaton = AhoCorasick::new(&forms).ok();
        Level { first, forms, automaton }
    }

    /// The number (in learning order) of the first form found in `line`.
    fn find(&self, line: &str) -> Option<usize> {
        let index = match &self.automaton {
            Some(automaton) => automaton.find(line).map(|found| found.pattern().as_usize()),
            None => self.forms.iter().position(|form| line.contains(form.as_str())),
        };
        index.map(|index| self.first + index)
    }
}

impl SecretSet {
    /// Adds the forms not known yet (and long enough to search for).
    pub fn learn(&mut self, forms: &[String]) {
        let new: Vec<String> = forms
            .iter()
            .filter(|form| form.len() >= SECRET_CHARS_MIN)
            .filter(|form| self.known.insert(form.to_string()))
            .cloned()
            .collect();
        if new.is_empty() {
            return;
        }
        let first = self.known.len() - new.len();
        self.levels.push(Level::new(first, new));
        while let [.., older, newer] = self.levels.as_slice() {
            if newer.forms.len() < older.forms.len() {
                break;
            }
            let newer = self.levels.pop().expect("two levels matched above");
            let older = self.levels.pop().expect("two levels matched above");
            let mut forms = older.forms;
            forms.extend(newer.forms);
            self.levels.push(Level::new(older.first, forms));
        }
    }

    /// The number (in learning order) of the earliest-learned form found in `line`.
    pub fn find(&self, line: &str) -> Option<usize> {
        self.levels.iter().filter_map(|level| level.find(line)).min()
    }

    /// Forms learned.
    pub fn len(&self) -> usize {
        self.known.len()
    }

    pub fn is_empty(&self) -> bool {
        self.known.is_empty()
    }

    /// Automata searched per line.
    pub fn levels(&self) -> usize {
        self.levels.len()
    }
}
