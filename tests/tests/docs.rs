//! The repository's own documentation holds: it sends nobody to a file outside the
//! repository, every section a comment cites exists, and the scenario reference's first
//! scenario runs as written.

mod common;

use std::path::{Path, PathBuf};

use authzlab::cluster;
use authzlab::scenario::Scenario;

/// Text files of the repository (not build output, not git's own).
fn text_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if path.is_dir() {
            if !["target", ".git", "corpus", "artifacts"].contains(&name.as_str())
                || path.ends_with("plugins/artifacts")
            {
                text_files(&path, out);
            }
        } else if ["rs", "toml", "md", "wit", "snap", "js", "css", "json"]
            .iter()
            .any(|extension| name.ends_with(&format!(".{extension}")))
            || name == "run"
        {
            out.push(path);
        }
    }
}

/// The `## ` headings of a markdown file.
fn sections(doc: &Path) -> Vec<String> {
    std::fs::read_to_string(doc)
        .unwrap()
        .lines()
        .filter_map(|line| line.strip_prefix("## "))
        .map(str::to_string)
        .collect()
}

#[test]
fn nothing_cites_a_file_outside_the_repository_and_every_cited_section_exists() {
    let repo = common::repo();
    let mut files = Vec::new();
    text_files(&repo, &mut files);
    assert!(files.len() > 100, "{} files", files.len());
    // Spelt in pieces, so that this file does not cite them itself.
    let outside =
        [["DOMAIN", ".md"], ["DESIGN", ".md"], ["STYLE", ".md"], ["../", "shared"], ["shared/", "seeds"]]
            .map(|pieces| pieces.concat());
    let docs = ["docs/domain.md", "docs/architecture.md"];
    let mut cited = 0;
    for file in &files {
        let Ok(text) = std::fs::read_to_string(file) else { continue };
        for name in &outside {
            assert!(
                !text.contains(name.as_str()),
                "{} cites {name}, which is not in the repository",
                file.display()
            );
        }
        for doc in docs {
            let headings = sections(&repo.join(doc));
            for (at, _) in text.match_indices(&format!("{doc} \"")) {
                let rest = &text[at + doc.len() + 2..];
                // A citation may run over a comment's line break: `# ` or `/// ` then.
                let section: Vec<&str> = rest[..rest.find('"').unwrap()]
                    .split_whitespace()
                    .filter(|word| !["#", "//", "///", "//!"].contains(word))
                    .collect();
                let section = section.join(" ");
                assert!(
                    headings.iter().any(|heading| heading.starts_with(&section)),
                    "{} cites {doc} \"{section}\", which has no such section ({headings:?})",
                    file.display()
                );
                cited += 1;
            }
        }
    }
    assert!(cited > 50, "only {cited} citations found: is the search still reading the files?");
}

/// The walkthrough in docs/scenarios.md, exactly as printed there, holds for several seeds.
#[test]
fn the_scenario_reference_s_first_scenario_holds_as_written() {
    let reference = std::fs::read_to_string(common::repo().join("docs/scenarios.md")).unwrap();
    let start = reference.find("```toml\n").unwrap() + "```toml\n".len();
    let text = &reference[start..start + reference[start..].find("```").unwrap()];
    let scenario = Scenario::parse(text, Path::new("docs/scenarios.md")).unwrap();
    for seed in [scenario.seed, 1, 2] {
        let run = cluster::run(&scenario, seed, common::plugins()).unwrap();
        let failures: Vec<String> =
            run.report.failures().map(|f| format!("{}: {}", f.name, f.detail)).collect();
        assert!(failures.is_empty(), "seed {seed}: {failures:#?}");
        assert_eq!(run.report.expectations.len(), 2);
    }
}

/// Every action the shipped scenarios use has its row in the reference's table of steps.
#[test]
fn every_action_the_library_uses_is_in_the_scenario_reference() {
    let reference = std::fs::read_to_string(common::repo().join("docs/scenarios.md")).unwrap();
    let mut actions = std::collections::BTreeSet::new();
    for file in common::scenario_files() {
        let scenario: toml::Table = toml::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        for step in scenario.get("step").and_then(|steps| steps.as_array()).into_iter().flatten() {
            actions.insert(step["action"].as_str().unwrap().to_string());
        }
    }
    assert!(actions.len() >= 20, "{actions:?}");
    for action in &actions {
        assert!(
            reference.contains(&format!("| `{action}` |")),
            "docs/scenarios.md has no row for `{action}`"
        );
    }
}
