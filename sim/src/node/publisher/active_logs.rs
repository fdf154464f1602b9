//! The publisher's logs the Korean AuthZ document (000) tells administrators to read, and
//! what its CLI answers about them:
//!
//! * `file view activelog platform/log/ssoApp.log`: "each time an SSO app operation
//!   completes, a new entry is written to ssoApp.log";
//! * `file list activelog tomcat/logs/ssosp/log4j`: "each time SSO is enabled a new log file
//!   named ssosp00XXX.log is created there; every other SSO operation and every OAuth
//!   operation is written to it as well";
//! * `file list activelog platform/log/certMgmt*.log`: "each time an AuthZ certificate is
//!   regenerated (UI or CLI), a new log file is created for the event".
//!
//! The documents quote no line of these files, so authzlab keeps what they say is there:
//! which files exist and how many entries each holds. Assumptions (listed in the report):
//! ssosp00001.log exists from installation (OAuth operations are logged without SSO too);
//! an OAuth operation is one request to AuthZ's authorize, token, revoke or introspect
//! endpoint; an SSO app operation is SSO set up at installation or configured again; files
//! are numbered in order from 00001. The logs are on disk: a crash keeps them.

use serde::Deserialize;

/// Which log a `read-log` step reads, named as the documents name the files.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
pub enum LogName {
    #[serde(rename = "ssoApp")]
    SsoApp,
    #[serde(rename = "ssosp")]
    Ssosp,
    #[serde(rename = "certMgmt")]
    CertMgmt,
}

impl LogName {
    pub const ALL: [LogName; 3] = [LogName::SsoApp, LogName::Ssosp, LogName::CertMgmt];

    /// Its name in scenario files and traces.
    pub fn name(self) -> &'static str {
        match self {
            LogName::SsoApp => "ssoApp",
            LogName::Ssosp => "ssosp",
            LogName::CertMgmt => "certMgmt",
        }
    }

    pub fn named(name: &str) -> Option<LogName> {
        LogName::ALL.into_iter().find(|log| log.name() == name)
    }

    /// The command the document gives for it, word for word.
    pub fn command(self) -> &'static str {
        match self {
            LogName::SsoApp => "file view activelog platform/log/ssoApp.log",
            LogName::Ssosp => "file list activelog tomcat/logs/ssosp/log4j",
            LogName::CertMgmt => "file list activelog platform/log/certMgmt*.log",
        }
    }
}

/// What the three logs hold.
#[derive(Clone, Debug)]
pub struct ActiveLogs {
    /// `certMgmt*.log` files written: one per AuthZ key regeneration.
    certificate_logs: u32,
    /// Entries of each `ssosp00XXX.log`, oldest first; the last one is written to.
    ssosp: Vec<u64>,
    /// Entries of `ssoApp.log`.
    sso_app: u64,
}

impl ActiveLogs {
    /// The logs at installation: the first ssosp file, and SSO's set-up in ssoApp.log when
    /// the cluster uses SSO.
    pub fn new(sso: bool) -> ActiveLogs {
        ActiveLogs { certificate_logs: 0, ssosp: vec![if sso { 1 } else { 0 }], sso_app: u64::from(sso) }
    }

    /// An AuthZ key regeneration: a new certMgmt file; returns its path.
    pub fn certificate_log_started(&mut self) -> String {
        self.certificate_logs = self.certificate_logs.saturating_add(1);
        format!("activelog platform/log/certMgmt{:05}.log", self.certificate_logs)
    }

    /// One OAuth operation, written to the current ssosp file.
    pub fn oauth_operation(&mut self) {
        if let Some(current) = self.ssosp.last_mut() {
            *current = current.saturating_add(1);
        }
    }

    /// SSO enabled again: a new ssosp file (its first entry the operation itself) and an
    /// ssoApp.log entry. Bounded: one per scenario step.
    pub fn sso_enabled(&mut self) {
        self.ssosp.push(1);
        self.sso_app = self.sso_app.saturating_add(1);
    }

    /// What the CLI answers for `log`.
    pub fn answer(&self, log: LogName) -> String {
        let entries = |n: u64| format!("{n} entr{}", if n == 1 { "y" } else { "ies" });
        match log {
            LogName::SsoApp => format!("ssoApp.log: {}", entries(self.sso_app)),
            LogName::Ssosp => self
                .ssosp
                .iter()
                .enumerate()
                .map(|(index, n)| format!("ssosp{:05}.log ({})", index + 1, entries(*n)))
                .collect::<Vec<_>>()
                .join(", "),
            LogName::CertMgmt if self.certificate_logs == 0 => "no files".to_string(),
            LogName::CertMgmt => (1..=self.certificate_logs)
                .map(|n| format!("certMgmt{n:05}.log"))
                .collect::<Vec<_>>()
                .join(", "),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_log_answers_what_the_document_says_is_there() {
        let mut logs = ActiveLogs::new(true);
        assert_eq!(logs.answer(LogName::CertMgmt), "no files");
        logs.oauth_operation();
        logs.oauth_operation();
        assert_eq!(logs.answer(LogName::Ssosp), "ssosp00001.log (3 entries)");
        assert_eq!(logs.certificate_log_started(), "activelog platform/log/certMgmt00001.log");
        logs.certificate_log_started();
        assert_eq!(logs.answer(LogName::CertMgmt), "certMgmt00001.log, certMgmt00002.log");
        logs.sso_enabled();
        logs.oauth_operation();
        assert_eq!(logs.answer(LogName::Ssosp), "ssosp00001.log (3 entries), ssosp00002.log (2 entries)");
        assert_eq!(logs.answer(LogName::SsoApp), "ssoApp.log: 2 entries");
        let without_sso = ActiveLogs::new(false);
        assert_eq!(without_sso.answer(LogName::SsoApp), "ssoApp.log: 0 entries");
        assert_eq!(without_sso.answer(LogName::Ssosp), "ssosp00001.log (0 entries)");
        for log in LogName::ALL {
            assert_eq!(LogName::named(log.name()), Some(log));
        }
    }
}
