//! The page (`--html`) and Perfetto (`--perfetto`) files of a run or of a trace read back
//! (`authzlab report`): opened before the events flow, fed as they stream, written whole at
//! the end or not at all (like `--trace`, through [`TraceFile`]).

use std::cell::RefCell;
use std::path::Path;
use std::rc::Rc;

use crate::check::{Checks, Report};
use crate::report::page::{self, PageData, PageTitle};
use crate::report::perfetto::PerfettoTrace;
use crate::trace::file::TraceFile;
use crate::trace::Observe;

/// The files asked for, open, with the observers that fill them.
pub struct PageFiles {
    html: Option<(TraceFile, Rc<RefCell<PageData>>)>,
    perfetto: Option<(TraceFile, Rc<RefCell<PerfettoTrace>>)>,
}

impl PageFiles {
    /// Opens the destinations asked for (`inputs`: files that may not be replaced). The page
    /// watches `checks` (a fresh set for the same scenario) to mark where each first failed.
    pub fn open(
        html: Option<&Path>,
        perfetto: Option<&Path>,
        inputs: &[&Path],
        checks: Option<Checks>,
        title: &str,
    ) -> Result<PageFiles, String> {
        let html = html
            .map(|path| {
                let file = TraceFile::create_as(path, inputs, "the page").map_err(|e| e.to_string())?;
                Ok::<_, String>((file, Rc::new(RefCell::new(PageData::new(checks)))))
            })
            .transpose()?;
        let perfetto = perfetto
            .map(|path| {
                let file =
                    TraceFile::create_as(path, inputs, "the Perfetto trace").map_err(|e| e.to_string())?;
                let sink = file.sink().map_err(|e| e.to_string())?;
                Ok::<_, String>((
                    file,
                    Rc::new(RefCell::new(PerfettoTrace::new(Box::new(std::io::BufWriter::new(sink)), title))),
                ))
            })
            .transpose()?;
        Ok(PageFiles { html, perfetto })
    }

    /// Whether anything was asked for.
    pub fn any(&self) -> bool {
        self.html.is_some() || self.perfetto.is_some()
    }

    /// The observers to give the trace.
    pub fn observers(&self) -> Vec<Box<dyn Observe>> {
        let mut observers: Vec<Box<dyn Observe>> = Vec::new();
        if let Some((_, page)) = &self.html {
            observers.push(Box::new(page.clone()));
        }
        if let Some((_, perfetto)) = &self.perfetto {
            observers.push(Box::new(perfetto.clone()));
        }
        observers
    }

    /// The checks as the page watched them, when there is a page that watches checks.
    pub fn report(&self) -> Option<Report> {
        self.html.as_ref().and_then(|(_, page)| page.borrow().report())
    }

    /// Writes the files and renames them into place; returns their names.
    pub fn commit(
        self,
        title: &PageTitle,
        report: Option<(&Report, &[String])>,
        checks_note: Option<&str>,
    ) -> Result<Vec<String>, String> {
        let mut written = Vec::new();
        if let Some((file, perfetto)) = self.perfetto {
            perfetto.borrow_mut().finish().map_err(|e| {
                format!("{}: the Perfetto trace could not be written: {e}", file.destination().display())
            })?;
            written.push(file.destination().display().to_string());
            file.commit().map_err(|e| e.to_string())?;
        }
        if let Some((file, page)) = self.html {
            let text = page::render(&page.borrow(), title, report, checks_note);
            let mut sink = file.sink().map_err(|e| e.to_string())?;
            std::io::Write::write_all(&mut sink, text.as_bytes()).map_err(|e| {
                format!("{}: the page could not be written: {e}", file.destination().display())
            })?;
            written.push(file.destination().display().to_string());
            file.commit().map_err(|e| e.to_string())?;
        }
        Ok(written)
    }
}
