//! A component's outline (its top-level imports and exports), read without compiling it.
//!
//! Compiling costs ~20x the component's size in memory and seconds per megabyte; a component
//! that does not even export `validate` should be refused before that, not after. The
//! outline is read with `wasmparser`, the parser wasmtime itself uses, which never executes
//! or compiles anything. What it checks is necessary, not sufficient: the linker's exact
//! check (types included) still runs after compiling.

use wasmparser::{ComponentTypeRef, Encoding, Parser, Payload};

/// The world's exports a validator must have.
pub const REQUIRED_EXPORTS: &[&str] = &["describe", "validate"];

/// Import namespaces a validator may name: the contract's own and WASI's (a component
/// built for wasm32-wasip2 imports WASI's interfaces; the host links them).
pub const IMPORT_NAMESPACES: &[&str] = &["authzlab:validator/", "wasi:"];

/// Sections a component's outline may hold at any depth: a bound on the walk whatever the
/// file says (the file itself is bounded by `COMPONENT_BYTES_MAX`).
pub const OUTLINE_SECTIONS_MAX: usize = 1 << 20;

/// Why a component cannot be a validator, found from its outline alone.
pub fn misfit(bytes: &[u8]) -> Option<String> {
    let mut depth = 0usize;
    let mut imports = Vec::new();
    let mut exports = Vec::new();
    for (sections, payload) in Parser::new(0).parse_all(bytes).enumerate() {
        if sections >= OUTLINE_SECTIONS_MAX {
            return Some(format!("more than {OUTLINE_SECTIONS_MAX} sections (OUTLINE_SECTIONS_MAX)"));
        }
        let payload = match payload {
            Ok(payload) => payload,
            Err(error) => return Some(format!("not a well-formed component: {}", error.message())),
        };
        match payload {
            Payload::Version { encoding: Encoding::Module, .. } if depth == 0 => {
                return Some("a core module, not a component".to_string());
            }
            Payload::ModuleSection { .. } | Payload::ComponentSection { .. } => depth += 1,
            Payload::End(_) => depth = depth.saturating_sub(1),
            Payload::ComponentImportSection(section) if depth == 0 => {
                for import in section {
                    match import {
                        // Types a world's functions name are imported too; they come with it.
                        Ok(import) if matches!(import.ty, ComponentTypeRef::Type(_)) => {}
                        Ok(import) => imports.push(import.name.name.to_string()),
                        Err(error) => return Some(format!("an unreadable import: {}", error.message())),
                    }
                }
            }
            Payload::ComponentExportSection(section) if depth == 0 => {
                for export in section {
                    match export {
                        Ok(export) => exports.push(export.name.name.to_string()),
                        Err(error) => return Some(format!("an unreadable export: {}", error.message())),
                    }
                }
            }
            _ => {}
        }
    }
    if let Some(foreign) =
        imports.iter().find(|name| !IMPORT_NAMESPACES.iter().any(|namespace| name.starts_with(namespace)))
    {
        return Some(format!("it imports `{foreign}`, which the host does not provide"));
    }
    let missing: Vec<&str> = REQUIRED_EXPORTS
        .iter()
        .copied()
        .filter(|wanted| !exports.iter().any(|name| name == wanted))
        .collect();
    if !missing.is_empty() {
        let has = if exports.is_empty() { "nothing".to_string() } else { exports.join(", ") };
        return Some(format!("it does not export {} (it exports {has})", missing.join(" and ")));
    }
    None
}
