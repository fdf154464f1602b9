//! The CallManager cluster's configuration tables in the publisher's database (a SQLite file
//! beside the refresh-token table, on the publisher's disk): `processconfig`
//! (`ClusterSIPOAuthMode`), the SIP OAuth ports per node, and `expresswaycconfiguration`
//! (the CN/SAN Expressway-C pushes over AXL, and the domain an entry was given by hand,
//! `expresswaycdomain`: our table, see [`crate::dns_domain`]). docs/domain.md "SIP OAuth mode".
//!
//! Assumption (the documents do not describe the database's replication): every node reads
//! an up-to-date replica, modelled as reading this file; only the publisher writes it. A
//! crash of the publisher leaves the file as it was.

use std::path::Path;

use rusqlite::{params, Connection, OptionalExtension};

use crate::dns_domain::{domain_of, in_cluster_domain};
use crate::node_id::NodeId;
use crate::phone_security::{DeviceSecurityMode, PhoneSecurity, Transport};
use crate::proto::sip::{SIP_MRA_OAUTH_PORT, SIP_PHONE_OAUTH_PORT};

/// `processconfig`'s row for the cluster's SIP OAuth mode (0 disabled, 1 enabled).
pub const SIP_OAUTH_MODE_PARAM: &str = "ClusterSIPOAuthMode";
/// Rows `expresswaycconfiguration` may hold (one per Expressway-C host and X.509 name): its
/// CN and SAN entries, bounded by the scenario's SAN limit, with room for a few Expressway-C
/// clusters and entries made by hand.
pub const EXPRESSWAY_NAMES_MAX: usize = 64;

/// What CallManager makes of a mutual-TLS peer's names on the MRA port.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PeerNames {
    /// One of them is an entry's, in the cluster's domain or in the domain its entry holds.
    Accepted,
    /// None is in `expresswaycconfiguration`.
    NotListed,
    /// Listed, but only in this domain, which is not the cluster's and no entry of the name
    /// holds (the domain was not added to Expressway-C).
    DomainNotAdded(String),
}

/// The configuration tables.
pub struct ClusterDatabase {
    connection: Connection,
}

pub use crate::phone_security::SecurityProfile;

/// The profile's name in the table.
const SECURITY_PROFILE: &str = "Universal Device Template - Model-independent Security Profile";

/// A node's SIP OAuth ports as its CallManager page holds them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SipPorts {
    /// SIP Phone OAuth Port (TLS, on premises).
    pub phone: u16,
    /// SIP Mobile and Remote Access Port (mutual TLS from Expressway-C).
    pub mra: u16,
}

impl Default for SipPorts {
    fn default() -> Self {
        SipPorts { phone: SIP_PHONE_OAUTH_PORT, mra: SIP_MRA_OAUTH_PORT }
    }
}

type Result<T> = std::result::Result<T, String>;

fn failed(what: &str) -> impl Fn(rusqlite::Error) -> String + '_ {
    move |e| format!("cluster database: {what}: {e}")
}

/// The columns as written by [`ClusterDatabase::set_security_profile`]; a name this build
/// did not write reads as the profile SIP OAuth needs (the table is ours alone).
fn phone_security(mode: String, transport: String, oauth_authentication: bool) -> PhoneSecurity {
    PhoneSecurity {
        mode: DeviceSecurityMode::named(&mode).unwrap_or(PhoneSecurity::FOR_SIP_OAUTH.mode),
        transport: Transport::named(&transport).unwrap_or(PhoneSecurity::FOR_SIP_OAUTH.transport),
        oauth_authentication,
    }
}

impl ClusterDatabase {
    /// Opens (creating) the tables in `path`, with the mode and every node's ports as the
    /// cluster was installed.
    pub fn open(path: &Path, sip_oauth: bool, nodes: &[NodeId], ports: SipPorts) -> Result<ClusterDatabase> {
        let connection = Connection::open(path).map_err(failed("open"))?;
        connection
            .execute_batch(
                "CREATE TABLE IF NOT EXISTS processconfig (paramname TEXT PRIMARY KEY, paramvalue TEXT NOT NULL);
                 CREATE TABLE IF NOT EXISTS callmanager (name TEXT PRIMARY KEY,
                     sipoauthport INTEGER NOT NULL, sipmraoauthport INTEGER NOT NULL);
                 CREATE TABLE IF NOT EXISTS expresswaycconfiguration (host TEXT NOT NULL, name TEXT NOT NULL,
                     PRIMARY KEY (host, name));
                 CREATE TABLE IF NOT EXISTS expresswaycdomain (host TEXT PRIMARY KEY, domain TEXT NOT NULL);
                 CREATE TABLE IF NOT EXISTS securityprofile (name TEXT PRIMARY KEY,
                     digestauthentication INTEGER NOT NULL, tftpencryptedconfig INTEGER NOT NULL,
                     devicesecuritymode TEXT NOT NULL, transport TEXT NOT NULL,
                     enableoauthauthentication INTEGER NOT NULL);
                 CREATE TABLE IF NOT EXISTS phonesecurity (device TEXT PRIMARY KEY,
                     devicesecuritymode TEXT NOT NULL, transport TEXT NOT NULL,
                     enableoauthauthentication INTEGER NOT NULL);",
            )
            .map_err(failed("create the tables"))?;
        let database = ClusterDatabase { connection };
        database.set_sip_oauth_mode(sip_oauth)?;
        database.set_security_profile(SecurityProfile::default())?;
        for node in nodes {
            database.set_ports(node.as_str(), ports)?;
        }
        Ok(database)
    }

    /// `run sql select paramvalue FROM processconfig WHERE paramname = 'ClusterSIPOAuthMode'`.
    pub fn sip_oauth_mode(&self) -> Result<bool> {
        let value: Option<String> = self
            .connection
            .query_row(
                "SELECT paramvalue FROM processconfig WHERE paramname = ?1",
                [SIP_OAUTH_MODE_PARAM],
                |row| row.get(0),
            )
            .optional()
            .map_err(failed("read processconfig"))?;
        Ok(value.as_deref() == Some("1"))
    }

    /// `utils sipOAuth-mode enable|disable`.
    pub fn set_sip_oauth_mode(&self, enabled: bool) -> Result<()> {
        self.connection
            .execute(
                "INSERT INTO processconfig (paramname, paramvalue) VALUES (?1, ?2)
                 ON CONFLICT(paramname) DO UPDATE SET paramvalue = excluded.paramvalue",
                params![SIP_OAUTH_MODE_PARAM, if enabled { "1" } else { "0" }],
            )
            .map_err(failed("write processconfig"))?;
        Ok(())
    }

    /// The node's SIP OAuth ports.
    pub fn ports(&self, node: &str) -> Result<SipPorts> {
        self.connection
            .query_row(
                "SELECT sipoauthport, sipmraoauthport FROM callmanager WHERE name = ?1",
                [node],
                |row| Ok(SipPorts { phone: row.get(0)?, mra: row.get(1)? }),
            )
            .map_err(failed("read the callmanager table"))
    }

    /// Sets the node's SIP OAuth ports (the caller has checked the range).
    pub fn set_ports(&self, node: &str, ports: SipPorts) -> Result<()> {
        self.connection
            .execute(
                "INSERT INTO callmanager (name, sipoauthport, sipmraoauthport) VALUES (?1, ?2, ?3)
                 ON CONFLICT(name) DO UPDATE SET sipoauthport = excluded.sipoauthport,
                     sipmraoauthport = excluded.sipmraoauthport",
                params![node, ports.phone, ports.mra],
            )
            .map_err(failed("write the callmanager table"))?;
        Ok(())
    }

    /// The phone security profile.
    pub fn security_profile(&self) -> Result<SecurityProfile> {
        self.connection
            .query_row(
                "SELECT digestauthentication, tftpencryptedconfig, devicesecuritymode, transport,
                     enableoauthauthentication FROM securityprofile WHERE name = ?1",
                [SECURITY_PROFILE],
                |row| {
                    Ok(SecurityProfile {
                        digest_authentication: row.get(0)?,
                        tftp_encrypted_config: row.get(1)?,
                        phone: phone_security(row.get(2)?, row.get(3)?, row.get(4)?),
                    })
                },
            )
            .map_err(failed("read the security profile"))
    }

    /// Saves the phone security profile (the caller has checked it against the mode).
    pub fn set_security_profile(&self, profile: SecurityProfile) -> Result<()> {
        self.connection
            .execute(
                "INSERT INTO securityprofile (name, digestauthentication, tftpencryptedconfig,
                     devicesecuritymode, transport, enableoauthauthentication) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT(name) DO UPDATE SET digestauthentication = excluded.digestauthentication,
                     tftpencryptedconfig = excluded.tftpencryptedconfig,
                     devicesecuritymode = excluded.devicesecuritymode, transport = excluded.transport,
                     enableoauthauthentication = excluded.enableoauthauthentication",
                params![
                    SECURITY_PROFILE,
                    profile.digest_authentication,
                    profile.tftp_encrypted_config,
                    profile.phone.mode.name(),
                    profile.phone.transport.name(),
                    profile.phone.oauth_authentication
                ],
            )
            .map_err(failed("write the security profile"))?;
        Ok(())
    }

    /// Applies the saved profile to `device`, as resetting the phone does: what its
    /// configuration file says from now on.
    pub fn apply_profile(&self, device: &str) -> Result<PhoneSecurity> {
        let phone = self.security_profile()?.phone;
        self.connection
            .execute(
                "INSERT INTO phonesecurity (device, devicesecuritymode, transport, enableoauthauthentication)
                 VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT(device) DO UPDATE SET devicesecuritymode = excluded.devicesecuritymode,
                     transport = excluded.transport, enableoauthauthentication = excluded.enableoauthauthentication",
                params![device, phone.mode.name(), phone.transport.name(), phone.oauth_authentication],
            )
            .map_err(failed("apply the security profile"))?;
        Ok(phone)
    }

    /// The profile settings `device` was last reset with; `None` for a device that is not a
    /// phone (Jabber's own profile is not modelled).
    pub fn applied_profile(&self, device: &str) -> Result<Option<PhoneSecurity>> {
        self.connection
            .query_row(
                "SELECT devicesecuritymode, transport, enableoauthauthentication FROM phonesecurity WHERE device = ?1",
                [device],
                |row| Ok(phone_security(row.get(0)?, row.get(1)?, row.get(2)?)),
            )
            .optional()
            .map_err(failed("read a phone's security"))
    }

    /// `run sql select * from expresswaycconfiguration`: every entry's names, sorted, each once.
    pub fn expressway_names(&self) -> Result<Vec<String>> {
        let mut statement = self
            .connection
            .prepare_cached("SELECT DISTINCT name FROM expresswaycconfiguration ORDER BY name LIMIT ?1")
            .map_err(failed("read expresswaycconfiguration"))?;
        let rows = statement
            .query_map([EXPRESSWAY_NAMES_MAX as i64], |row| row.get::<_, String>(0))
            .map_err(failed("read expresswaycconfiguration"))?;
        rows.collect::<std::result::Result<Vec<_>, _>>().map_err(failed("read expresswaycconfiguration"))
    }

    /// Rows the table holds, bounded.
    fn expressway_rows(&self) -> Result<usize> {
        self.connection
            .query_row("SELECT COUNT(*) FROM expresswaycconfiguration", [], |row| row.get::<_, i64>(0))
            .map(|rows| usize::try_from(rows).unwrap_or(usize::MAX))
            .map_err(failed("read expresswaycconfiguration"))
    }

    /// Adds Expressway-C's CN and SAN entries (AXL, on discovery or refresh) to the entry of
    /// `host`. Entries of an earlier certificate stay: the documents say the names are
    /// pushed, not that old ones go. Returns the names the table holds.
    pub fn add_expressway_names(&self, host: &str, names: &[String]) -> Result<usize> {
        if self.expressway_rows()? + names.len() > EXPRESSWAY_NAMES_MAX {
            return Err(format!("expresswaycconfiguration would exceed {EXPRESSWAY_NAMES_MAX} names"));
        }
        for name in names {
            self.connection
                .execute(
                    "INSERT OR IGNORE INTO expresswaycconfiguration (host, name) VALUES (?1, ?2)",
                    [host, name],
                )
                .map_err(failed("write expresswaycconfiguration"))?;
        }
        Ok(self.expressway_names()?.len())
    }

    /// Which of a mutual-TLS peer's `names` let it in (see [`PeerNames`]); the first listed
    /// name in a domain not added says why not.
    pub fn expressway_peer(&self, names: &[String]) -> Result<PeerNames> {
        let mut statement = self
            .connection
            .prepare_cached(
                "SELECT d.domain FROM expresswaycconfiguration c
                 LEFT JOIN expresswaycdomain d ON d.host = c.host WHERE c.name = ?1 ORDER BY c.host",
            )
            .map_err(failed("read expresswaycconfiguration"))?;
        let mut verdict = PeerNames::NotListed;
        for name in names {
            let entries = statement
                .query_map([name], |row| row.get::<_, Option<String>>(0))
                .map_err(failed("read expresswaycconfiguration"))?
                .collect::<std::result::Result<Vec<_>, _>>()
                .map_err(failed("read expresswaycconfiguration"))?;
            if entries.is_empty() {
                continue;
            }
            let domain = domain_of(name).unwrap_or_default();
            let added =
                |held: &Option<String>| held.as_deref().is_some_and(|held| held.eq_ignore_ascii_case(domain));
            if in_cluster_domain(name) || entries.iter().any(added) {
                return Ok(PeerNames::Accepted);
            }
            if verdict == PeerNames::NotListed {
                verdict = PeerNames::DomainNotAdded(domain.to_string());
            }
        }
        Ok(verdict)
    }

    /// Device > Expressway-C, Save: the entry of `host` holds exactly `names` (added when
    /// missing, edited when there) and `domain` (none: the cluster's own), in one
    /// transaction. Returns the names the table holds.
    pub fn save_expressway_entry(&self, host: &str, names: &[String], domain: Option<&str>) -> Result<usize> {
        let others: usize = self
            .connection
            .query_row("SELECT COUNT(*) FROM expresswaycconfiguration WHERE host <> ?1", [host], |row| {
                row.get::<_, i64>(0)
            })
            .map(|rows| usize::try_from(rows).unwrap_or(usize::MAX))
            .map_err(failed("read expresswaycconfiguration"))?;
        if others + names.len() > EXPRESSWAY_NAMES_MAX {
            return Err(format!("expresswaycconfiguration would exceed {EXPRESSWAY_NAMES_MAX} names"));
        }
        let write = || -> rusqlite::Result<()> {
            self.connection.execute_batch("BEGIN")?;
            self.connection.execute("DELETE FROM expresswaycconfiguration WHERE host = ?1", [host])?;
            self.connection.execute("DELETE FROM expresswaycdomain WHERE host = ?1", [host])?;
            // An emptied entry is gone, its domain with it.
            if let Some(domain) = domain.filter(|_| !names.is_empty()) {
                self.connection.execute(
                    "INSERT INTO expresswaycdomain (host, domain) VALUES (?1, ?2)",
                    [host, domain],
                )?;
            }
            for name in names {
                self.connection.execute(
                    "INSERT OR IGNORE INTO expresswaycconfiguration (host, name) VALUES (?1, ?2)",
                    [host, name],
                )?;
            }
            self.connection.execute_batch("COMMIT")
        };
        if let Err(e) = write() {
            let _ = self.connection.execute_batch("ROLLBACK");
            return Err(format!("write expresswaycconfiguration: {e}"));
        }
        Ok(self.expressway_names()?.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tables_hold_what_the_cli_and_axl_wrote_and_survive_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ccm.sqlite");
        let nodes = vec![NodeId::cucm_subscriber(1)];
        let database = ClusterDatabase::open(&path, false, &nodes, SipPorts::default()).unwrap();
        assert!(!database.sip_oauth_mode().unwrap(), "0 by default");
        database.set_sip_oauth_mode(true).unwrap();
        database.set_ports("cucm-sub-1", SipPorts { phone: 6090, mra: 6091 }).unwrap();
        assert_eq!(
            database.add_expressway_names("b.example", &["b.example".into(), "a.example".into()]).unwrap(),
            2
        );
        assert_eq!(
            database.add_expressway_names("b.example", &["a.example".into()]).unwrap(),
            2,
            "no duplicates"
        );
        let reopened = Connection::open(&path).unwrap();
        let mode: String = reopened
            .query_row(
                "SELECT paramvalue FROM processconfig WHERE paramname = 'ClusterSIPOAuthMode'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(mode, "1");
        assert_eq!(database.ports("cucm-sub-1").unwrap(), SipPorts { phone: 6090, mra: 6091 });
        assert_eq!(database.expressway_names().unwrap(), ["a.example", "b.example"]);
        assert!(database.ports("cucm-sub-9").unwrap_err().contains("callmanager table"));
    }

    /// A cluster database with SIP OAuth on and no CallManager node, in `dir`.
    fn empty_database(dir: &tempfile::TempDir) -> ClusterDatabase {
        ClusterDatabase::open(&dir.path().join("ccm.sqlite"), true, &[], SipPorts::default()).unwrap()
    }

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|name| name.to_string()).collect()
    }

    /// Device > Expressway-C: a save replaces the names of its host's entry only, adds an
    /// entry that is missing, and refuses (changing nothing) what would pass the bound.
    #[test]
    fn an_entry_saved_by_hand_replaces_its_hosts_names_only() {
        let dir = tempfile::tempdir().unwrap();
        let database = empty_database(&dir);
        database.add_expressway_names("expc.example", &names(&["expc.example", "alt.example"])).unwrap();
        assert_eq!(
            database.save_expressway_entry("expc2.example", &names(&["typo.example"]), None).unwrap(),
            3
        );
        assert_eq!(
            database.save_expressway_entry("expc2.example", &names(&["expc2.example"]), None).unwrap(),
            3
        );
        assert_eq!(database.expressway_names().unwrap(), ["alt.example", "expc.example", "expc2.example"]);
        let too_many: Vec<String> = (0..EXPRESSWAY_NAMES_MAX).map(|i| format!("n{i}.example")).collect();
        assert!(database
            .save_expressway_entry("other.example", &too_many, None)
            .unwrap_err()
            .contains("exceed"));
        assert_eq!(database.expressway_names().unwrap().len(), 3, "a refused save changes nothing");
        assert_eq!(
            database.save_expressway_entry("expc2.example", &[], None).unwrap(),
            2,
            "an emptied entry is gone"
        );
    }

    /// A listed name in another domain than the cluster's lets the peer in only once its
    /// entry holds that domain; a name in the cluster's domain needs none.
    #[test]
    fn a_name_in_another_domain_needs_the_domain_on_its_entry() {
        let dir = tempfile::tempdir().unwrap();
        let database = empty_database(&dir);
        let peer = names(&["expc.edge.example.net"]);
        assert_eq!(database.expressway_peer(&peer).unwrap(), PeerNames::NotListed);
        database.add_expressway_names("expc.edge.example.net", &peer).unwrap();
        assert_eq!(
            database.expressway_peer(&peer).unwrap(),
            PeerNames::DomainNotAdded("edge.example.net".to_string())
        );
        database.save_expressway_entry("expc.edge.example.net", &peer, Some("other.example.net")).unwrap();
        assert_eq!(
            database.expressway_peer(&peer).unwrap(),
            PeerNames::DomainNotAdded("edge.example.net".to_string()),
            "another domain than the name's does not help"
        );
        database.save_expressway_entry("expc.edge.example.net", &peer, Some("Edge.Example.Net")).unwrap();
        assert_eq!(database.expressway_peer(&peer).unwrap(), PeerNames::Accepted);
        database.save_expressway_entry("expc.edge.example.net", &peer, None).unwrap();
        assert_eq!(
            database.expressway_peer(&peer).unwrap(),
            PeerNames::DomainNotAdded("edge.example.net".to_string()),
            "a save without the domain takes it away"
        );
        database.add_expressway_names("expc.example.com", &names(&["expc.example.com"])).unwrap();
        assert_eq!(
            database.expressway_peer(&names(&["expc.edge.example.net", "expc.example.com"])).unwrap(),
            PeerNames::Accepted,
            "a name in the cluster's domain needs no domain added"
        );
    }
}
